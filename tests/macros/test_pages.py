"""Managers keep macros on dashboard pages; agents insert one into a case's reply box and send it."""

import pytest
from django.urls import reverse

from cases.models import CaseEventKind, CaseStatus, Promise
from macros.models import Macro
from notifications.models import Message
from tests.factories import CaseFactory, CustomerFactory

from .conftest import full_case, make_macro

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _form(**fields):
    data = {"name": "Late parcel", "category": "late_delivery", "is_active": "on", "set_status": "",
            "promise_description": "", "promise_due_hours": "",
            "text_en": "Dear {customer_name}, order {order_number} is on its way.",
            "text_ro": "Bună ziua, {customer_name}, comanda {order_number} este pe drum.",
            "text_ru": "", "text_it": ""}
    data.update(fields)
    return data


def test_a_manager_creates_and_edits_a_macro_with_its_texts_in_one_form(manager_client):
    # when
    response = manager_client.post(reverse("macros:create"), _form(), follow=True)
    # then
    macro = Macro.objects.get()
    assert dict(macro.texts.values_list("language", "text"))["ro"].startswith("Bună ziua")
    assert "Late parcel" in response.content.decode() and "Macro saved." in response.content.decode()
    # and the edit page shows the texts, and saving it changes them
    page = manager_client.get(reverse("macros:edit", args=[macro.pk])).content.decode()
    assert "Bună ziua, {customer_name}" in page
    manager_client.post(reverse("macros:edit", args=[macro.pk]),
                        _form(text_ru="Здравствуйте, {customer_name}!", set_status="waiting_on_customer"))
    macro.refresh_from_db()
    assert macro.set_status == "waiting_on_customer" and macro.texts.filter(language="ru").exists()


@pytest.mark.parametrize("fields, error", [
    ({"text_ro": "Bună {nume}"}, "Unknown placeholder {nume}"),
    ({"text_en": "", "text_ro": ""}, "Write the macro&#x27;s text in at least one language."),
    ({"promise_description": "Call back"}, "Say in how many hours the promise is due."),
    ({"promise_description": "Call back", "promise_due_hours": "-3"}, "promise_due_hours"),
    ({"name": ""}, "This field is required."),
    ({"category": "no_such"}, "Select a valid choice."),
    ({"set_status": "closed"}, "Select a valid choice."),
])
def test_bad_input_shows_field_errors_and_saves_nothing(manager_client, fields, error):
    response = manager_client.post(reverse("macros:create"), _form(**fields))
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not Macro.objects.exists()


def test_agents_use_macros_but_do_not_manage_them(agent_client):
    macro = make_macro()
    for url in (reverse("macros:list"), reverse("macros:create"), reverse("macros:edit", args=[macro.pk])):
        assert agent_client.get(url).status_code == 403
    assert agent_client.post(reverse("macros:create"), _form(name="Agent's")).status_code == 403
    assert Macro.objects.count() == 1


def test_the_case_page_offers_the_categorys_macros_beside_the_reply_box(agent_client, agent):
    # given
    make_macro("Late", category="late_delivery")
    make_macro("Wrong item", category="wrong_item")
    make_macro("Greeting", texts={"en": "Hello {customer_name}"})
    case = full_case(language="ro", owner=agent)
    # when
    page = agent_client.get(reverse("dashboard:case", args=[case.pk])).content.decode()
    # then
    picker = page[page.index('id="macro-picker"'):page.index('id="reply-form"')]
    assert "Late" in picker and "Wrong item" not in picker
    assert "Greeting (no text in the customer" in picker


def test_inserting_a_macro_fills_the_reply_box_in_the_customers_language(agent_client, agent):
    # given a Romanian customer's late-delivery case
    macro = make_macro("Late", category="late_delivery", set_status="waiting_on_shop")
    case = full_case(language="ro", owner=agent)
    # when the agent inserts the macro (htmx swaps the reply form's fields)
    response = agent_client.get(reverse("macros:case_macro_insert", args=[case.pk]),
                                {"pick": macro.pk, "text": "", "nonce": "n1"}, **HTMX)
    # then
    body = response.content.decode()
    assert response.status_code == 200 and body.startswith('<div id="reply-fields">')
    assert "Bună ziua, Elena Popescu, comanda 1004 este pe drum." in body
    assert f'name="macro" value="{macro.pk}"' in body and 'value="n1"' in body
    assert "Waiting on shop" in body  # the agent is told what sending will also do


def test_without_javascript_the_whole_case_page_comes_back_filled(agent_client, agent):
    macro = make_macro("Late", category="late_delivery")
    case = full_case(language="it", owner=agent)
    response = agent_client.get(reverse("macros:case_macro_insert", args=[case.pk]), {"pick": macro.pk})
    assert response.status_code == 200
    assert "Gentile Elena Popescu, l&#x27;ordine 1004 è in viaggio." in response.content.decode()


def test_a_macro_without_the_customers_language_says_so_and_inserts_nothing(agent_client, agent):
    # given a Russian customer and a macro with no Russian text
    macro = make_macro("Late", category="late_delivery")
    case = full_case(language="ru", owner=agent)
    # when
    response = agent_client.get(reverse("macros:case_macro_insert", args=[case.pk]),
                                {"pick": macro.pk, "nonce": "n1"}, **HTMX)
    body = response.content.decode()
    # then: said plainly beside the picker, the reply box is left as the agent had it, and no English slipped in
    assert "No Russian text for this macro." in body
    assert response["HX-Retarget"] == "#macro-notice" and response["HX-Reswap"] == "innerHTML"
    assert "<textarea" not in body and "on its way" not in body


def test_missing_values_are_pointed_out_before_sending(agent_client, agent):
    macro = make_macro("Order", texts={"en": "Your order {order_number}"})
    case = CaseFactory(customer=CustomerFactory(preferred_language="en"), owner=agent)
    body = agent_client.get(reverse("macros:case_macro_insert", args=[case.pk]), {"pick": macro.pk},
                            **HTMX).content.decode()
    assert "Your order [missing: order number]" in body
    assert "This case has no order number: replace the markers before sending." in body


def test_a_macro_of_another_category_or_an_unknown_one_is_not_inserted(agent_client, agent):
    macro = make_macro("Wrong", category="wrong_item")
    case = full_case(language="en", owner=agent)
    for pick in (macro.pk, "x", ""):
        response = agent_client.get(reverse("macros:case_macro_insert", args=[case.pk]), {"pick": pick}, **HTMX)
        body = response.content.decode()
        assert "Choose one of the macros offered for this case." in body
        assert "on its way" not in body and "<textarea" not in body


def test_sending_the_reply_applies_the_macros_status_and_promise_once(agent_client, agent):
    # given a macro that waits on the shop and promises a call back in 24 hours
    macro = make_macro("Late", category="late_delivery", set_status="waiting_on_shop",
                       promise_description="Call the courier and tell the customer", promise_due_hours=24)
    case = full_case(language="ro", owner=agent)
    data = {"text": "Bună ziua, Elena Popescu, comanda 1004 este pe drum.", "nonce": "n-1", "macro": macro.pk}
    # when the reply is sent, twice (a double submit)
    url = reverse("dashboard:case_reply", args=[case.pk])
    agent_client.post(url, data)
    agent_client.post(url, data)
    # then one message in Romanian, the status and one promise
    message = Message.objects.get(case=case)
    assert message.language == "ro" and "comanda 1004" in message.context["reply_text"]
    case.refresh_from_db()
    assert case.status == CaseStatus.WAITING_ON_SHOP
    promise = Promise.objects.get(case=case)
    assert promise.description == "Call the courier and tell the customer" and promise.owner == agent
    assert case.events.filter(kind=CaseEventKind.EMAIL_OUT).count() == 1


def test_a_refused_macro_action_sends_nothing(agent_client, agent):
    # given a closed case: the reply is allowed but the macro's status change is not a transition it may make
    macro = make_macro("Wait", set_status="waiting_on_shop", texts={"en": "We wait."})
    case = full_case(language="en", owner=agent)
    case.status = CaseStatus.CLOSED
    case.save(update_fields=["status"])
    # when
    response = agent_client.post(reverse("dashboard:case_reply", args=[case.pk]),
                                 {"text": "We wait.", "nonce": "n-2", "macro": macro.pk})
    # then: an error on the page and no half-written reply
    assert response.status_code == 400
    assert not Message.objects.filter(case=case).exists()
    assert not case.events.filter(kind=CaseEventKind.EMAIL_OUT).exists()


def test_a_reply_naming_a_macro_not_offered_is_refused(agent_client, agent):
    macro = make_macro("Wrong", category="wrong_item", set_status="waiting_on_shop")
    case = full_case(language="en", owner=agent)
    response = agent_client.post(reverse("dashboard:case_reply", args=[case.pk]),
                                 {"text": "Hello", "nonce": "n-3", "macro": macro.pk})
    assert response.status_code == 400
    assert "That macro is no longer offered for this case" in response.content.decode()
    assert not Message.objects.exists()


def test_another_agents_case_cannot_use_macros(agent_client, other_agent):
    macro = make_macro("Late", category="late_delivery")
    case = full_case(language="ro", owner=other_agent)
    response = agent_client.get(reverse("macros:case_macro_insert", args=[case.pk]), {"pick": macro.pk}, **HTMX)
    assert response.status_code == 403


@pytest.mark.parametrize("language, words", [
    ("ro", ("Macrocomandă nouă", "Text în rusă", "Inserează", "Această macrocomandă nu are text în rusă.")),
    ("ru", ("Новый шаблон", "Текст на русском", "Вставить", "У этого шаблона нет текста на русском.")),
    ("it", ("Nuova macro", "Testo in russo", "Inserisci", "Questa macro non ha un testo in russo.")),
])
def test_the_macro_pages_speak_the_readers_language(client, manager, language, words):
    # given a manager reading in another language, and a Russian customer's case
    from .conftest import login

    login(client, manager)
    client.cookies["django_language"] = language
    macro = make_macro("Late", category="late_delivery")
    case = full_case(language="ru", owner=manager)
    # when
    pages = "".join(client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode() for url in (
        reverse("macros:list"), reverse("macros:create"), reverse("dashboard:case", args=[case.pk])))
    notice = client.get(reverse("macros:case_macro_insert", args=[case.pk]), {"pick": macro.pk},
                        HTTP_ACCEPT_LANGUAGE=language, **HTMX).content.decode()
    # then
    for word in words[:3]:
        assert word in pages
    assert words[3] in notice


def test_a_reply_still_holding_a_missing_marker_is_not_sent(agent_client, agent):
    # given a macro inserted on a case without an order: the box holds "[missing: order number]"
    macro = make_macro("Order", texts={"en": "Your order {order_number}", "ro": "Comanda {order_number}"})
    case = CaseFactory(customer=CustomerFactory(preferred_language="ro"), owner=agent)
    for marker in ("[missing: order number]", "[lipsește: numărul comenzii]"):
        # when the agent sends it as it is
        response = agent_client.post(reverse("dashboard:case_reply", args=[case.pk]),
                                     {"text": f"Comanda {marker}", "nonce": marker, "macro": macro.pk})
        # then it is refused with the reason, and nothing is sent
        assert response.status_code == 400
        assert "Replace the [missing: …] markers with the values before sending." in response.content.decode()
    assert not Message.objects.exists()
