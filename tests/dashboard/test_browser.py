"""The dashboard in a real headless Chromium against the live server.

An agent logs in, takes the next case, reads the customer's history, applies a remedy and sees it on the
timeline; a manager approves a large one and opens the report with its charts. Screenshots of the queue, a case
and the report are saved to $CASEAPP_SCREENSHOTS_DIR, by default var/screenshots/ (so a test run leaves the tree
clean); refresh the committed ones with CASEAPP_SCREENSHOTS_DIR=docs/screenshots ./scripts/test.sh -m browser.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, reset_sequences=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
DEMO_PASSWORD = "caseapp-demo"


@pytest.fixture
def browser():
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip("Chromium is not installed (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="caseapp-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--no-first-run", "--disable-sync",
                     "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1360,900",
                     "--lang=en-US"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def wait_for(driver, css, timeout=10):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css)))


def log_in(driver, live_server, username):
    from selenium.webdriver.common.by import By

    driver.get(f"{live_server.url}/login/")
    driver.find_element(By.ID, "id_username").send_keys(username)
    driver.find_element(By.ID, "id_password").send_keys(DEMO_PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_for(driver, "#queue")


def screenshot(driver, name):
    """A full-page screenshot: the window grows to the page's height first."""
    folder = Path(os.environ.get("CASEAPP_SCREENSHOTS_DIR") or Path(settings.VAR_DIR) / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return Math.min(document.documentElement.scrollHeight, 2600)")
    driver.set_window_size(1360, max(height, 900))
    driver.save_screenshot(str(folder / f"{name}.png"))
    driver.set_window_size(1360, 900)


@pytest.fixture
def demo(db):
    from django.contrib.auth.models import Group

    from caseapp.roles import AGENT, MANAGER

    for name in (AGENT, MANAGER):  # a transactional test empties the tables the migrations filled
        Group.objects.get_or_create(name=name)
    call_command("seed_demo", size=30, verbosity=0)


def test_agent_takes_the_next_case_and_reads_the_customers_history(browser, live_server, demo):
    from selenium.webdriver.common.by import By

    from cases.models import Case

    # given the demo shop, and the agent logged in
    log_in(browser, live_server, "agent")
    rows = browser.find_elements(By.CSS_SELECTOR, "#queue tbody tr")
    assert len(rows) > 5
    screenshot(browser, "queue")
    oldest_unowned = (
        Case.objects.filter(owner__isnull=True, status__in=("new", "open", "waiting_on_shop", "waiting_on_customer"))
        .order_by("arrived_at", "arrival_number").first()
    )
    # when the agent presses "take next"
    browser.find_element(By.ID, "take-next").click()
    wait_for(browser, "#customer")
    # then the oldest unowned case is theirs, with the customer's whole story on the page
    assert f"#{oldest_unowned.pk}" in browser.find_element(By.TAG_NAME, "h1").text
    assert browser.find_element(By.ID, "case-owner").text == "agent"
    customer_panel = browser.find_element(By.ID, "customer").text
    assert "Customer since" in customer_panel and "Lifetime spend" in customer_panel
    assert browser.find_element(By.ID, "history").is_displayed()
    # and a note typed with the keyboard lands on the timeline
    text = browser.find_element(By.ID, "id_text")
    text.send_keys("Called the customer, she is fine with a replacement.")
    browser.find_element(By.CSS_SELECTOR, ".note-form button[type=submit]").click()
    wait_for(browser, ".message-success")
    assert "she is fine with a replacement" in browser.find_element(By.ID, "timeline").text


def test_agent_applies_a_remedy_and_a_manager_approves_a_large_one(browser, live_server):
    from datetime import timedelta
    from decimal import Decimal

    from django.contrib.auth.models import Group
    from django.utils import timezone
    from selenium.webdriver.common.by import By

    from caseapp.roles import AGENT, MANAGER
    from cases.services import delivery_check
    from policies.models import Remedy, RemedyStatus
    from policies.services import policy_default_ensure
    from tests.factories import (
        CaseFactory,
        CourierFactory,
        CustomerFactory,
        OrderFactory,
        ShipmentFactory,
        UserFactory,
        ValidityRuleFactory,
    )

    # given the default policy, a loyal customer whose order is three days late (the oldest case waiting),
    # and a large incomplete order waiting behind it
    for name in (AGENT, MANAGER):
        Group.objects.get_or_create(name=name)
    UserFactory(username="agent", role=AGENT, password=DEMO_PASSWORD)
    UserFactory(username="manager", role=MANAGER, password=DEMO_PASSWORD)
    ValidityRuleFactory()
    policy_default_ensure()
    today = timezone.localdate()
    customer = CustomerFactory(name="Andrei Ionescu")
    for days in (400, 200, 90):
        OrderFactory(customer=customer, total=Decimal("120.00"), placed_at=timezone.now() - timedelta(days=days))
    CaseFactory(customer=customer, subject="Scratched kettle last spring", status="closed",
                arrived_at=timezone.now() - timedelta(days=150))
    order = OrderFactory(customer=customer, total=Decimal("79.90"), placed_at=timezone.now() - timedelta(days=8),
                         promised_delivery_date=today - timedelta(days=3))
    shipment = ShipmentFactory(order=order, status="delayed", estimated_delivery=today + timedelta(days=1))
    late = CaseFactory(customer=customer, order=order, shipment=shipment, category="late_delivery",
                       channel="system", subject="Kettle three days late", arrived_at=timezone.now() - timedelta(hours=5))
    big_order = OrderFactory(total=Decimal("450.00"))
    big_shipment = ShipmentFactory(order=big_order, status="delivered", courier=CourierFactory(name="Cargus"),
                                   delivered_at=big_order.placed_at)
    large = CaseFactory(customer=big_order.customer, order=big_order, shipment=big_shipment,
                        category="incomplete_order", subject="Dinner set arrived without the plates",
                        arrived_at=timezone.now() - timedelta(hours=4))
    delivery_check(shipment=big_shipment, received=[], case=large)  # recorded: none of the 450.00 arrived

    # when the agent logs in and takes the next case
    log_in(browser, live_server, "agent")
    browser.find_element(By.ID, "take-next").click()
    wait_for(browser, "#customer")
    # then it is the oldest: the late kettle, with the customer's history
    assert f"#{late.pk}" in browser.find_element(By.TAG_NAME, "h1").text
    assert "Scratched kettle last spring" in browser.find_element(By.ID, "history").text
    assert "Orders" in browser.find_element(By.ID, "customer").text
    # when the agent applies the policy's proposal with one click
    browser.find_element(By.CSS_SELECTOR, "button.proposal-apply").click()
    wait_for(browser, ".message-success")
    # then the remedy is on the timeline
    assert browser.find_elements(By.CSS_SELECTOR, "#timeline .event-remedy_applied")
    assert Remedy.objects.filter(case=late, status=RemedyStatus.APPLIED).exists()

    # when the agent takes the next case and sends its large remedy for approval
    browser.get(f"{live_server.url}/")
    browser.find_element(By.ID, "take-next").click()
    wait_for(browser, "#customer")
    assert f"#{large.pk}" in browser.find_element(By.TAG_NAME, "h1").text
    button = browser.find_element(By.CSS_SELECTOR, "button.proposal-apply")
    assert button.text == "Send for approval"
    button.click()
    wait_for(browser, ".message-success")
    pending = Remedy.objects.get(case=large)
    assert pending.status == RemedyStatus.PENDING_APPROVAL
    browser.find_element(By.CSS_SELECTOR, "form[action='/logout/'] button").click()
    wait_for(browser, "#id_username")

    # and a manager approves it from the inbox
    log_in(browser, live_server, "manager")
    browser.find_element(By.LINK_TEXT, "Approvals").click()
    row = wait_for(browser, f"#remedy-{pending.pk}")
    row.find_element(By.CSS_SELECTOR, "button[value=approve]").click()
    wait_for(browser, ".message-success")
    pending.refresh_from_db()
    assert pending.status == RemedyStatus.APPLIED
    # then the report shows what it cost, with its charts
    browser.find_element(By.LINK_TEXT, "Remedy report").click()
    wait_for(browser, "svg.chart")
    assert "Cost by remedy kind (EUR)" in browser.page_source
    assert "EUR" in browser.find_element(By.ID, "totals").text


def test_story_case_page_screenshot(browser, live_server, demo):
    from selenium.webdriver.common.by import By

    from cases.models import Case

    # given story 1: the voucher that expired, with its rule change and the promised call-back
    case = Case.objects.filter(customer__email="elena.popescu@mail.example").order_by("arrived_at").first()
    log_in(browser, live_server, "manager")
    # when
    browser.get(f"{live_server.url}/cases/{case.pk}/")
    wait_for(browser, "#vouchers")
    # then
    assert "Validity rule changed" in browser.find_element(By.ID, "vouchers").text
    screenshot(browser, "case")


def test_manager_opens_the_report_with_its_charts(browser, live_server, demo):
    from selenium.webdriver.common.by import By

    from cases.models import Case
    from orders.models import Courier
    from tests.dashboard.conftest import make_remedy

    # given remedies applied on a few demo cases
    courier = Courier.objects.order_by("name").first()
    for index, case in enumerate(Case.objects.order_by("arrival_number")[:8]):
        make_remedy(case=case, amount=f"{(index + 1) * 12}.50", currency="EUR",
                    kind=("discount", "refund", "absorb_cost", "replacement")[index % 4],
                    budget=("customer_care", "marketing")[index % 2],
                    recoverable_from=courier if index % 4 == 2 else None)
    # and customers who had a case half a year ago: some received a remedy, some ordered again since
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import CaseFactory, CustomerFactory, OrderFactory

    now = timezone.now()
    for index in range(12):
        customer = CustomerFactory()
        then = now - timedelta(days=190 + index * 9)
        past = CaseFactory(customer=customer, arrived_at=then, status="closed", category="late_delivery")
        if index % 3 != 2:
            make_remedy(case=past, amount=f"{10 + index * 3}.00", currency="EUR", applied_at=then,
                        kind=("discount", "refund")[index % 2], budget="marketing")
        if index % 2 == 0 or index % 3 == 0:
            OrderFactory(customer=customer, placed_at=then + timedelta(days=40 + index * 8))
    log_in(browser, live_server, "manager")
    # when
    browser.find_element(By.LINK_TEXT, "Remedy report").click()
    wait_for(browser, "svg.chart")
    # then
    charts = browser.find_elements(By.CSS_SELECTOR, "svg.chart")
    assert len(charts) >= 4
    assert "Cost by remedy kind (EUR)" in browser.page_source
    screenshot(browser, "report")


def test_back_after_logout_shows_the_login_page_not_the_case(browser, live_server, demo):
    from selenium.webdriver.common.by import By

    from cases.models import Case

    # given an agent who read Elena's case, then logged out
    case = Case.objects.get(customer__email="elena.popescu@mail.example")
    log_in(browser, live_server, "agent")
    browser.get(f"{live_server.url}/cases/{case.pk}/")
    wait_for(browser, "#customer")
    assert "Elena Popescu" in browser.page_source
    browser.find_element(By.CSS_SELECTOR, ".who form button[type=submit]").click()
    wait_for(browser, "#id_username")
    # when the Back button is pressed
    browser.back()
    wait_for(browser, "#id_username")
    # then the browser asked the server again (no-store) and shows the login page, not her data
    assert "Elena Popescu" not in browser.page_source
    assert "/login/" in browser.current_url


def test_a_form_error_brings_its_field_into_view_and_keeps_what_was_typed(browser, live_server, demo):
    from selenium.webdriver.common.by import By

    from cases.models import Case

    # given a manager on the rug case, writing an override with an amount but a blank reason
    case = Case.objects.get(customer__email="karen.miller@mail.example")
    log_in(browser, live_server, "manager")
    browser.get(f"{live_server.url}/cases/{case.pk}/")
    override = browser.find_element(By.CSS_SELECTOR, f"form[action='/cases/{case.pk}/override/']")
    browser.execute_script("arguments[0].closest('details').open = true", override)
    amount = override.find_element(By.NAME, "amount")
    amount.clear()
    amount.send_keys("12.50")
    override.find_element(By.NAME, "reason").send_keys("   ")  # passes the browser's check, not the server's
    # when it is sent
    override.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(browser, ".has-error")
    # then the reason field has the cursor and is on screen, its error beside it, and the amount is still there
    focused = browser.switch_to.active_element
    assert focused.get_attribute("name") == "reason" and focused.tag_name == "textarea"
    assert browser.execute_script(
        "var r = arguments[0].getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight", focused)
    assert "This field is required." in browser.find_element(By.CSS_SELECTOR, ".has-error").text
    form = browser.find_element(By.CSS_SELECTOR, f"form[action='/cases/{case.pk}/override/']")
    assert form.find_element(By.NAME, "amount").get_attribute("value") == "12.50"
