"""In a real headless Chromium: a Romanian customer's email arrives, the agent opens its case, inserts the Romanian
macro and sends."""

import pytest
from django.core import mail
from django.test import override_settings

from tests.dashboard.test_browser import DEMO_PASSWORD, browser, log_in, wait_for  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, reset_sequences=True)]


@override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
def test_agent_inserts_the_romanian_macro_and_the_customer_gets_it_in_romanian(browser, live_server):  # noqa: F811
    from django.contrib.auth.models import Group
    from selenium.webdriver.common.by import By

    from caseapp.roles import AGENT, MANAGER
    from cases.models import CaseStatus, Promise
    from inbox.services import inbound_email_receive
    from notifications.models import Message
    from notifications.services import message_send
    from tests.factories import CustomerFactory, OrderFactory, UserFactory

    from .conftest import make_macro

    # given an email from a Romanian customer about her order, arriving as an MTA pipes it to caseapp
    for name in (AGENT, MANAGER):
        Group.objects.get_or_create(name=name)
    UserFactory(username="agent", role=AGENT, password=DEMO_PASSWORD)
    customer = CustomerFactory(name="Elena Popescu", email="elena.popescu@mail.example", preferred_language="ro")
    order = OrderFactory(customer=customer, number="1004")
    raw = ("From: Elena Popescu <Elena.Popescu@mail.example>\r\nTo: care@shop.example\r\n"
           "Subject: =?utf-8?q?Unde_este_comanda_mea=3F?=\r\nMessage-ID: <elena-1004@mail.example>\r\n"
           "Date: Wed, 02 Dec 2026 09:00:00 +0200\r\nMIME-Version: 1.0\r\n"
           "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
           "Bună ziua, comanda #1004 trebuia să ajungă ieri. Unde este?\r\n").encode()
    inbound, created = inbound_email_receive(raw, source="pipe")
    assert created and inbound.case is not None
    case = inbound.case
    assert case.channel == "email" and case.order_id == order.pk and case.customer_id == customer.pk
    make_macro("Late parcel", category="", set_status="waiting_on_shop",
               promise_description="Ask the courier and write back", promise_due_hours=24, texts={
                   "en": "Dear {customer_name}, order {order_number} is on its way.",
                   "ro": "Bună ziua, {customer_name}, comanda {order_number} este pe drum.",
               })
    make_macro("Wrong item", category="wrong_item", texts={"ro": "Ne pare rău pentru produsul greșit."})

    # when the agent opens the case and inserts the macro
    log_in(browser, live_server, "agent")
    browser.get(f"{live_server.url}/cases/{case.pk}/")
    wait_for(browser, "#macro-picker")
    options = [o.text for o in browser.find_elements(By.CSS_SELECTOR, "#id_pick option")]
    assert options == ["Late parcel"]  # the wrong-item macro is not offered on a case of another category
    browser.find_element(By.ID, "macro-insert").click()
    wait_for(browser, "#reply-fields .macro-applied")
    reply = browser.find_element(By.CSS_SELECTOR, "#reply-form textarea[name=text]")
    # then the reply box holds the Romanian text with the case's values
    assert reply.get_attribute("value") == "Bună ziua, Elena Popescu, comanda 1004 este pe drum."
    # and the agent adds a line and sends
    reply.send_keys("\nVă mulțumim pentru răbdare.")
    browser.find_element(By.CSS_SELECTOR, "#reply-form button[type=submit]").click()
    wait_for(browser, ".message-success")

    # then the email to the customer is in Romanian, with the macro's text
    message = Message.objects.get(case=case)
    assert message_send(message_id=message.pk).result == "sent"
    sent = mail.outbox[-1]
    assert sent.to == ["elena.popescu@mail.example"]
    assert "Bună ziua, Elena Popescu, comanda 1004 este pe drum." in sent.body
    assert "Vă mulțumim pentru răbdare." in sent.body
    assert "on its way" not in sent.body
    # and the macro's actions were applied with the reply
    case.refresh_from_db()
    assert case.status == CaseStatus.WAITING_ON_SHOP
    assert Promise.objects.filter(case=case, description="Ask the courier and write back").exists()
