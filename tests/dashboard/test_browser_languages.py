"""The queue in Russian, Romanian and Italian in a real headless Chromium at 1,400 px: nothing runs off the page.

Long translations ("просрочено на 56 дней") once pushed the queue's last column out of view at 1,400 px; the
table must fit its frame. Screenshots go where test_browser.py puts them ($CASEAPP_SCREENSHOTS_DIR)."""

import pytest

from tests.dashboard.test_browser import browser, demo, screenshot  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, reset_sequences=True)]


@pytest.mark.parametrize("language", ["ru", "ro", "it"])
def test_the_queue_fits_1400_px_in_every_language(browser, live_server, demo, language):  # noqa: F811
    from selenium.webdriver.common.by import By

    from tests.dashboard.test_browser import DEMO_PASSWORD, wait_for

    # given a manager who reads the dashboard in this language, in a 1,400 px wide window
    browser.set_window_size(1400, 900)
    browser.get(f"{live_server.url}/login/")
    browser.add_cookie({"name": "django_language", "value": language})
    browser.get(f"{live_server.url}/login/")
    browser.find_element(By.ID, "id_username").send_keys("manager")
    browser.find_element(By.ID, "id_password").send_keys(DEMO_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_for(browser, "#queue")
    # when the queue is shown
    table_width, frame_width, page_width, window_width = browser.execute_script(
        "const t = document.querySelector('table.queue'), f = document.querySelector('.table-wrap');"
        "return [t.scrollWidth, f.clientWidth, document.documentElement.scrollWidth, window.innerWidth];")
    browser.set_window_size(1400, 900)
    screenshot(browser, f"queue-{language}")
    # then the table fits its frame (no hidden column to scroll to) and the page does not scroll sideways
    assert table_width <= frame_width, f"the {language} queue is {table_width} px wide in a {frame_width} px frame"
    assert page_width <= window_width
    assert browser.find_element(By.CSS_SELECTOR, "html").get_attribute("lang") == language
