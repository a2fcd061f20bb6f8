"""The header box in a real headless Chromium: results as you type (htmx), and Enter opens a single hit."""

import pytest

from tests.dashboard.test_browser import browser, demo, log_in, screenshot, wait_for  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, reset_sequences=True)]


def test_an_agent_finds_a_voucher_and_a_customer_from_the_header_box(browser, live_server, demo):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    # given the demo shop and the agent on the queue
    log_in(browser, live_server, "agent")
    box = browser.find_element(By.ID, "search-q")
    # when she types a part of Elena's voucher code
    box.send_keys("bk-gift-2026")
    WebDriverWait(browser, 10).until(
        lambda d: "BK-GIFT-2026-ELENA" in d.find_element(By.ID, "search-results").text
    )
    # then the results appear under the box, grouped by kind, without leaving the page
    results = browser.find_element(By.ID, "search-results").text
    assert "vouchers" in results.lower()
    assert browser.current_url.rstrip("/") == live_server.url
    screenshot(browser, "search")
    # when she types the full code and presses Enter
    box.clear()
    box.send_keys("BK-GIFT-2026-ELENA", Keys.ENTER)
    # then the case about that voucher opens
    wait_for(browser, "#customer")
    assert "Elena Popescu" in browser.find_element(By.ID, "customer").text
