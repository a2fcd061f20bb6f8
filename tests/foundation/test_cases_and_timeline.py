from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from cases.models import Case, CaseEvent, CaseEventKind, CaseStatus, PromiseStatus
from cases.services import case_change_status, case_note_add, case_open, promise_close, promise_record
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


def open_case(**kw):
    kw.setdefault("customer", CustomerFactory())
    return case_open(category="late_delivery", channel="email", subject="Where is my parcel?", **kw)


def test_case_open_sets_service_level_clocks_and_writes_the_timeline(settings):
    arrived = timezone.now() - timedelta(hours=1)
    case = open_case(arrived_at=arrived)
    assert case.first_response_due_at == arrived + settings.CASE_FIRST_RESPONSE_SLA
    assert case.resolution_due_at == arrived + settings.CASE_RESOLUTION_SLA
    assert list(case.events.values_list("kind", flat=True)) == [CaseEventKind.CREATED]


def test_arrival_numbers_strictly_increase_and_spend_never_reorders_the_queue():
    # given a big spender whose case arrives after a small customer's
    small = CustomerFactory(name="Child at the counter")
    big = CustomerFactory(name="Adult who came later")
    OrderFactory.create_batch(3, customer=big, total="5000.00")
    now = timezone.now()
    first = open_case(customer=small, arrived_at=now - timedelta(minutes=5))
    second = open_case(customer=big, arrived_at=now)
    # then the small customer stays first and arrival numbers grow
    assert second.arrival_number > first.arrival_number
    assert list(Case.objects.values_list("pk", flat=True)) == [first.pk, second.pk]


def test_case_for_another_customers_order_is_refused():
    order = OrderFactory()
    with pytest.raises(ValidationError) as exc:
        open_case(customer=CustomerFactory(), order=order)
    assert "order" in exc.value.message_dict
    assert Case.objects.count() == 0


def test_status_transitions_and_reopen_are_recorded(agent):
    case = open_case()
    case_change_status(case=case, status=CaseStatus.RESOLVED, by=agent)
    case.refresh_from_db()
    assert case.resolved_at is not None
    case_change_status(case=case, status=CaseStatus.OPEN, by=agent, reason="Wrong style delivered")
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN and case.resolved_at is None
    reopen = case.events.filter(kind=CaseEventKind.STATUS_CHANGED).last()
    assert reopen.data == {"from": "resolved", "to": "open", "reopened": True}
    with pytest.raises(ValidationError):
        case_change_status(case=case, status="archived", by=agent)


def test_empty_note_is_refused_and_a_call_counts_as_first_response(agent):
    case = open_case()
    with pytest.raises(ValidationError):
        case_note_add(case=case, text="  ", by=agent)
    case_note_add(case=case, text="Called, left voicemail", by=agent, kind=CaseEventKind.CALL)
    case.refresh_from_db()
    assert case.first_responded_at is not None


def test_timeline_is_append_only_in_the_model():
    case = open_case()
    event = case.events.get()
    event.text = "rewritten"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        CaseEvent.objects.filter(case=case).update(text="rewritten")
    with pytest.raises(PermissionError):
        CaseEvent.objects.filter(case=case).delete()


@pytest.mark.postgres  # the trigger guards PostgreSQL
def test_timeline_is_append_only_even_for_raw_sql():
    case = open_case()
    with pytest.raises(DatabaseError) as exc, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE cases_caseevent SET text = 'rewritten' WHERE case_id = %s", [case.pk])
    assert "append-only" in str(exc.value)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM cases_caseevent WHERE case_id = %s", [case.pk])
    assert case.events.count() == 1


def _triggers_on(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal "
                       "ORDER BY tgname", [table])
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.postgres
def test_the_timeline_guard_is_django_pgtriggers_beside_its_model():
    # the trigger declared in CaseEvent.Meta.triggers is the one installed; the hand-written one of
    # cases/migrations/0002 (and its function) is gone
    names = _triggers_on("cases_caseevent")
    assert any(name.startswith("pgtrigger_caseevent_append_only_") for name in names), names
    assert "cases_caseevent_no_update_delete" not in names
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_proc WHERE proname = 'cases_caseevent_append_only'")
        assert cursor.fetchone()[0] == 0
    # and it refuses with the SQLSTATE of a restriction, as before
    case = open_case()
    with pytest.raises(DatabaseError) as exc, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM cases_caseevent WHERE case_id = %s", [case.pk])
    assert exc.value.__cause__.pgcode == "23001" and "append-only: DELETE" in str(exc.value)


def test_a_promise_has_an_owner_a_due_time_and_its_maker(agent, manager):
    case = open_case()
    due = timezone.now() + timedelta(days=2)
    promise = promise_record(case=case, description="Call back on Monday", due_at=due, owner=agent,
                             made_by_name="Clerk at the counter")
    assert promise.status == PromiseStatus.OPEN and not promise.is_overdue
    made = case.events.get(kind=CaseEventKind.PROMISE_MADE)
    assert "Clerk at the counter promised: Call back on Monday" in made.text
    promise_close(promise=promise, kept=False, by=manager, note="Nobody called")
    assert case.events.filter(kind=CaseEventKind.PROMISE_BROKEN).exists()
    with pytest.raises(ValidationError):
        promise_close(promise=promise, kept=True, by=manager)


def test_a_promise_without_maker_or_text_is_refused(agent):
    case = open_case()
    with pytest.raises(ValidationError) as exc:
        promise_record(case=case, description="", due_at=timezone.now(), owner=agent)
    assert {"description", "made_by_name"} <= set(exc.value.message_dict)
    assert case.promises.count() == 0


def test_a_promise_recorded_later_stands_on_the_timeline_when_it_was_made(agent):
    # given the VP's promise, recorded by an agent three weeks after it was made
    case = open_case()
    made_at = timezone.now() - timedelta(days=21)
    promise_record(case=case, description="Rug in New York within 10 days", made_by_name="Regional VP",
                   made_at=made_at, due_at=made_at + timedelta(days=10), owner=agent)
    # then the timeline puts it before the case was opened, and it is overdue
    kinds = list(case.events.values_list("kind", "occurred_at"))
    assert kinds[0] == (CaseEventKind.PROMISE_MADE, made_at)
    assert case.promises.get().is_overdue
