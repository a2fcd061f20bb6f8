"""Saving macros (bad input refused field by field, nothing half-written) and the category filter."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from macros.models import Macro, MacroText
from macros.selectors import macro_for_case, macros_for_case
from macros.services import macro_save
from tests.factories import CaseFactory

from .conftest import make_macro

pytestmark = pytest.mark.django_db


def test_a_macro_is_saved_with_one_text_per_language(manager):
    # when
    macro = make_macro(by=manager, set_status="waiting_on_customer", promise_description="Call back",
                       promise_due_hours=24)
    # then
    assert dict(macro.texts.values_list("language", "text")).keys() == {"en", "ro", "it"}
    assert macro.created_by == manager and macro.records_promise
    # and saving again replaces a text and removes an emptied one
    macro_save(macro=macro, name=macro.name, texts={"en": "New text", "ro": "", "ru": "Здравствуйте"}, by=manager)
    assert dict(macro.texts.values_list("language", "text")) == {"en": "New text", "ru": "Здравствуйте",
                                                                 "it": macro.texts.get(language="it").text}


@pytest.mark.parametrize("fields, field", [
    ({"name": " "}, "name"),
    ({"category": "no_such"}, "category"),
    ({"set_status": "resolved"}, "set_status"),
    ({"promise_description": "Call back"}, "promise_due_hours"),
    ({"promise_due_hours": 5}, "promise_description"),
    ({"promise_description": "Call back", "promise_due_hours": 100000}, "promise_due_hours"),
    ({"texts": {"en": "Hi {customer_name.__class__}"}}, "text_en"),
    ({"texts": {"ro": "Bună {nume}"}}, "text_ro"),
    ({"texts": {"en": " ", "ro": ""}}, "text_en"),
])
def test_bad_input_is_refused_with_a_field_error_and_nothing_is_written(manager, fields, field):
    data = {"name": "Late parcel", "texts": {"en": "Hello {customer_name}"}} | fields
    with pytest.raises(ValidationError) as caught:
        macro_save(by=manager, **data)
    assert field in caught.value.message_dict
    assert not Macro.objects.exists() and not MacroText.objects.exists()


def test_two_macros_cannot_share_a_name(manager):
    make_macro("Late parcel")
    with pytest.raises(ValidationError) as caught:
        make_macro("late PARCEL")
    assert "name" in caught.value.message_dict


def test_only_managers_save_macros(agent):
    with pytest.raises(PermissionDenied):
        make_macro(by=agent)
    assert not Macro.objects.exists()


def test_a_case_is_offered_its_categorys_macros_and_those_for_every_category():
    # given macros for late deliveries, for every category, for wrong items, and an inactive one
    late = make_macro("Late", category="late_delivery")
    every = make_macro("Every", texts={"en": "Hello {customer_name}"})
    wrong = make_macro("Wrong", category="wrong_item")
    make_macro("Old", category="late_delivery", is_active=False)
    case = CaseFactory(category="late_delivery")
    # when
    offered = macros_for_case(case=case, language="ro")
    # then
    assert [m.name for m in offered] == ["Every", "Late"]
    assert {m.name: m.has_text for m in offered} == {"Every": False, "Late": True}
    assert macro_for_case(case=case, macro_id=late.pk) == late
    assert macro_for_case(case=case, macro_id=every.pk) == every
    assert macro_for_case(case=case, macro_id=wrong.pk) is None
    assert macro_for_case(case=case, macro_id="nonsense") is None


def test_the_macros_are_read_in_one_query(django_assert_num_queries):
    for i in range(12):
        make_macro(f"Macro {i}")
    case = CaseFactory()
    with django_assert_num_queries(1):
        macros_for_case(case=case, language="ru")
