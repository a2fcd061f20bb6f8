"""The dashboard in a real headless Chromium against the live server.

An agent logs in, takes the next case, reads the customer's history, applies a remedy and sees it on the
timeline; a manager approves a large one and opens the report with its charts. Screenshots of the queue, a case
and the report are saved to docs/screenshots/.
"""

import shutil
import tempfile
from pathlib import Path

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
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
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return Math.min(document.documentElement.scrollHeight, 2600)")
    driver.set_window_size(1360, max(height, 900))
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
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
    log_in(browser, live_server, "manager")
    # when
    browser.find_element(By.LINK_TEXT, "Remedy report").click()
    wait_for(browser, "svg.chart")
    # then
    charts = browser.find_elements(By.CSS_SELECTOR, "svg.chart")
    assert len(charts) >= 4
    assert "Cost by remedy kind (EUR)" in browser.page_source
    screenshot(browser, "report")
