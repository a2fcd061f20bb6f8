"""In a real headless Chromium: a manager lowers the late-delivery discount's approval threshold in the policy
form (no YAML), replays the new version over today's cases, and activates it."""

import pytest

from tests.dashboard.test_browser import DEMO_PASSWORD, browser, log_in, wait_for  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_lowers_the_late_delivery_discount_threshold_replays_and_activates(browser, live_server):  # noqa: F811
    from datetime import timedelta
    from decimal import Decimal

    from django.contrib.auth.models import Group
    from django.utils import timezone
    from selenium.webdriver.common.by import By

    from caseapp.roles import AGENT, MANAGER
    from policies.models import PolicyVersion
    from policies.services import policy_default_ensure
    from tests.factories import CaseFactory, OrderFactory, ShipmentFactory, UserFactory, ValidityRuleFactory

    # given the default policy (late orders get 5% back; a discount above 50.00 EUR waits for a manager) and a
    # 79.90 EUR order three days late, whose 4.00 EUR discount is applied without a manager today
    for name in (AGENT, MANAGER):
        Group.objects.get_or_create(name=name)
    UserFactory(username="manager", role=MANAGER, password=DEMO_PASSWORD)
    ValidityRuleFactory()
    active = policy_default_ensure()
    today = timezone.localdate()
    order = OrderFactory(total=Decimal("79.90"), currency="EUR", placed_at=timezone.now() - timedelta(days=8),
                         promised_delivery_date=today - timedelta(days=3))
    shipment = ShipmentFactory(order=order, status="delayed", estimated_delivery=today + timedelta(days=1))
    CaseFactory(customer=order.customer, order=order, shipment=shipment, category="late_delivery",
                channel="system", arrived_at=timezone.now() - timedelta(hours=2))

    # when the manager opens the policy form on the late-delivery discount rule
    log_in(browser, live_server, "manager")
    browser.find_element(By.LINK_TEXT, "Policies").click()
    browser.find_element(By.PARTIAL_LINK_TEXT, "in a form").click()
    wait_for(browser, "#rule-select")
    browser.find_element(By.CSS_SELECTOR, "#rule-select option[value='late-delivery-discount']").click()
    browser.find_element(By.CSS_SELECTOR, "#rule-choice button[type=submit]").click()
    wait_for(browser, "#rule-values")
    assert "Days late: at least" in browser.find_element(By.ID, "rule-values").text
    # and lowers the discount's EUR threshold from 50.00 to 3.00, with a typo first
    threshold = browser.find_element(By.CSS_SELECTOR, "input[name='threshold:discount:EUR']")
    assert threshold.get_attribute("value") == "50.00"
    threshold.clear()
    threshold.send_keys("3,OO")
    browser.find_element(By.ID, "policy-form-save").click()
    wait_for(browser, "#thresholds .error")
    assert PolicyVersion.objects.count() == 1  # the typo wrote nothing
    threshold = browser.find_element(By.CSS_SELECTOR, "input[name='threshold:discount:EUR']")
    threshold.clear()
    threshold.send_keys("3.00")
    browser.find_element(By.CSS_SELECTOR, "input[name='note']").send_keys("Late discounts above 3 EUR to a manager")
    browser.find_element(By.ID, "policy-form-save").click()
    wait_for(browser, ".message-success")
    new = PolicyVersion.objects.order_by("-number").first()
    assert (new.number, new.is_active) == (active.number + 1, False)

    # then the new version's page compares it with the active one
    browser.find_element(By.ID, "compare-active").click()
    wait_for(browser, "body")
    assert "3.00" in browser.page_source
    browser.back()
    # and replays it over today's cases: the late discount now needs a manager
    for name in ("date_from", "date_to"):
        browser.execute_script("arguments[0].value = arguments[1]",
                               browser.find_element(By.CSS_SELECTOR, f"input[name='{name}']"), today.isoformat())
    browser.find_element(By.CSS_SELECTOR, f"form[action='/policies/{new.pk}/replay/'] button[type=submit]").click()
    result = wait_for(browser, "#replay-result")
    assert "Needing approval\n1" in result.text or "Needing approval 1" in result.text
    # and the manager activates it
    browser.find_element(By.PARTIAL_LINK_TEXT, f"v{new.number}").click()
    browser.find_element(By.CSS_SELECTOR, f"form[action='/policies/{new.pk}/activate/'] button").click()
    wait_for(browser, ".message-success")
    active_now = PolicyVersion.objects.get(is_active=True)
    assert active_now.pk == new.pk
    assert active_now.document["approval"]["thresholds"]["discount"]["EUR"] == "3.00"
    assert active_now.document["approval"]["thresholds"]["discount"]["RON"] == "250.00"
