"""The scans and their handlers, in-process: what each finds, what it does, and that it does it once."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from cases.models import Case, CaseCategory, CaseChannel, CaseEvent, CaseEventKind, Promise
from notifications import catalogue
from notifications.models import Detection, DetectionKind, Message
from notifications.scans import keyset_batches
from notifications.scans.promises import overdue_promises_queryset, promise_overdue_alert
from notifications.scans.shipments import (
    cod_mismatch_handle,
    cod_mismatches_queryset,
    late_shipment_handle,
    late_shipments_queryset,
    shipment_late_reasons,
    uncollected_parcel_handle,
    uncollected_parcels_queryset,
)
from notifications.scans.vouchers import expiring_vouchers_scan, reminder_offset_due, voucher_reminder_queue
from orders.models import PaymentMethod
from policies.models import Remedy
from tests.factories import (
    CaseFactory,
    CustomerFactory,
    OrderFactory,
    PromiseFactory,
    ShipmentFactory,
    ValidityRuleFactory,
    VoucherFactory,
)
from vouchers.models import VoucherReminder, VoucherStatus

pytestmark = pytest.mark.django_db

NOW = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)  # noon UTC today
TODAY = NOW.date()


def scan_vouchers(now=NOW) -> list[int]:
    found = []
    expiring_vouchers_scan(enqueue=found.extend, now=now, batch_size=3)
    return found


@pytest.mark.parametrize(
    ("days_left", "offset"),
    [(40, None), (31, None), (30, 30), (20, 30), (8, 30), (7, 7), (5, 7), (1, 1), (0, 1), (-1, None)],
)
def test_the_due_offset_is_the_smallest_not_below_the_days_left(days_left, offset):
    assert reminder_offset_due(valid_until=TODAY + timedelta(days=days_left), today=TODAY,
                               offsets=[30, 7, 1]) == offset


def voucher(days_left, **kwargs):
    holder = kwargs.pop("holder", None) or CustomerFactory(preferred_language="ro", time_zone="Europe/Bucharest")
    return VoucherFactory(holder=holder, valid_until=TODAY + timedelta(days=days_left),
                          issued_at=NOW - timedelta(days=300), balance=Decimal("80.00"), **kwargs)


def test_the_voucher_scan_finds_exactly_the_vouchers_with_a_reminder_due():
    # given vouchers 30, 7, 1 and 3 days from expiry, one far away, one expired, one redeemed, one bearer
    due = [voucher(30), voucher(7), voucher(1), voucher(3)]
    voucher(90)
    voucher(-2)
    voucher(7, status=VoucherStatus.REDEEMED)
    VoucherFactory(holder=None, valid_until=TODAY + timedelta(days=7), issued_at=NOW - timedelta(days=300))
    # when the scan runs (batches of 3)
    found = scan_vouchers()
    # then it finds the four due, once each
    assert sorted(found) == sorted(v.pk for v in due)


def test_a_reminder_is_queued_once_in_the_holders_language_with_balance_date_and_place():
    # given a voucher seven days from expiry, held by a Romanian customer
    held = voucher(7)
    # when the reminder is queued, twice
    first = voucher_reminder_queue(voucher_id=held.pk, now=NOW)
    second = voucher_reminder_queue(voucher_id=held.pk, now=NOW)
    # then one reminder row and one message, in Romanian, stating balance and exact date
    assert first is not None and second is None
    assert VoucherReminder.objects.get(voucher=held).offset_days == 7
    message = Message.objects.get(template=catalogue.VOUCHER_REMINDER)
    assert message.language == "ro" and message.recipient == held.holder.email
    assert message.context["balance"] == "80.00" and message.context["expiry_date"] == held.valid_until.isoformat()
    assert message.idempotency_key == f"voucher-reminder:{held.pk}:7"
    # and the next scan does not find it again
    assert scan_vouchers() == []


def test_the_holders_time_zone_decides_the_day():
    # given noon UTC, when it is already tomorrow in Kiritimati (UTC+14)
    far_east = CustomerFactory(time_zone="Pacific/Kiritimati")
    near = CustomerFactory(time_zone="Europe/London")
    # and vouchers expiring 31 and 8 UTC days from now
    east_31, west_31 = voucher(31, holder=far_east), voucher(31, holder=near)
    east_8, west_8 = voucher(8, holder=far_east), voucher(8, holder=near)
    # when the scan runs
    found = scan_vouchers()
    # then in Kiritimati's calendar the first is 30 days from expiry, in London's still 31
    assert east_31.pk in found and west_31.pk not in found
    # and the second is 7 days away in Kiritimati (the 7-day reminder) but 8 in London (the 30-day one)
    assert voucher_reminder_queue(voucher_id=east_8.pk, now=NOW).offset_days == 7
    assert voucher_reminder_queue(voucher_id=west_8.pk, now=NOW).offset_days == 30


def test_a_missed_reminder_is_caught_up_but_a_longer_one_never_follows_a_shorter_one():
    # given a voucher 5 days from expiry whose 30-day reminder was sent, and the 7-day one missed
    held = voucher(5)
    VoucherReminder.objects.create(voucher=held, offset_days=30, valid_until=held.valid_until)
    # when the scan runs
    assert scan_vouchers() == [held.pk]
    # then the 7-day reminder is sent, and nothing else afterwards
    assert voucher_reminder_queue(voucher_id=held.pk, now=NOW).offset_days == 7
    assert scan_vouchers() == []


def test_keyset_batches_walk_every_row_once():
    customers = [CustomerFactory() for _ in range(7)]
    batches = list(keyset_batches(type(customers[0]).objects.all(), batch_size=3))
    assert [len(b) for b in batches] == [3, 3, 1]
    assert sorted(sum(batches, [])) == sorted(c.pk for c in customers)


# --- shipments -----------------------------------------------------------------------------------------------
def late_shipment(**order_kwargs):
    customer = CustomerFactory(preferred_language="ro", time_zone="Europe/Bucharest")
    order = OrderFactory(customer=customer, promised_delivery_date=TODAY + timedelta(days=1), **order_kwargs)
    return ShipmentFactory(order=order, estimated_delivery=TODAY + timedelta(days=3),
                           handed_over_at=NOW - timedelta(hours=5))


def test_late_shipments_are_found_by_each_reason(manager):
    # given an on-time shipment, and shipments late for each reason
    on_time = ShipmentFactory(order=OrderFactory(promised_delivery_date=TODAY + timedelta(days=2)),
                              estimated_delivery=TODAY + timedelta(days=2), handed_over_at=NOW - timedelta(hours=5))
    after_promise = late_shipment()
    delayed = ShipmentFactory(status="delayed", handed_over_at=NOW - timedelta(hours=5))
    silent = ShipmentFactory(handed_over_at=NOW - timedelta(hours=72))
    past_promise = ShipmentFactory(order=OrderFactory(promised_delivery_date=TODAY - timedelta(days=1),
                                                      placed_at=NOW - timedelta(days=9)),
                                   estimated_delivery=TODAY - timedelta(days=1), handed_over_at=NOW - timedelta(hours=5))
    delivered = ShipmentFactory(status="delivered", delivered_at=NOW, estimated_delivery=TODAY + timedelta(days=9))
    # when the scan's query runs
    found = set(late_shipments_queryset(now=NOW).values_list("pk", flat=True))
    # then each late one is found, for its reason, and the others are not
    assert found == {after_promise.pk, delayed.pk, silent.pk, past_promise.pk}
    assert on_time.pk not in found and delivered.pk not in found
    assert shipment_late_reasons(after_promise, now=NOW) == ["estimated_after_promised"]
    assert shipment_late_reasons(delayed, now=NOW) == ["courier_delayed"]
    assert shipment_late_reasons(silent, now=NOW) == ["no_tracking_event"]
    assert shipment_late_reasons(past_promise, now=NOW) == ["promised_date_passed"]


def test_a_late_shipment_opens_a_system_case_and_apologises_with_a_new_date_once(manager):
    # given a shipment expected two days after the promised date, and the shop's voucher validity rule
    ValidityRuleFactory()
    shipment = late_shipment()
    # when the handler runs twice
    first = late_shipment_handle(shipment_id=shipment.pk, now=NOW)
    second = late_shipment_handle(shipment_id=shipment.pk, now=NOW)
    # then one system-detected late-delivery case, one apology in the customer's language with the courier's date
    assert first is not None and second is None
    case = Case.objects.get()
    assert (case.channel, case.category, case.shipment_id) == (CaseChannel.SYSTEM, CaseCategory.LATE_DELIVERY,
                                                               shipment.pk)
    assert case.events.filter(kind=CaseEventKind.DETECTED).count() == 1
    apology = Message.objects.get(template=catalogue.LATE_DELIVERY_APOLOGY)
    assert apology.language == "ro" and apology.case_id == case.pk
    assert apology.context["new_date"] == (TODAY + timedelta(days=3)).isoformat()
    # and the new date is a promise with an owner, so it cannot be forgotten
    promise = Promise.objects.get(case=case)
    assert promise.owner == manager and "Deliver order" in promise.description
    # and the policy's late-delivery discount (5% of the order) is applied once, and stated in the apology
    remedy = Remedy.objects.get(case=case)
    assert (remedy.kind, remedy.status, remedy.amount) == ("discount", "applied", Decimal("2.50"))
    assert apology.context["discount_amount"] == "2.50" and apology.context["discount_voucher_code"]
    # and the scan does not find it again
    assert not late_shipments_queryset(now=NOW).filter(pk=shipment.pk).exists()


def test_a_discount_that_cannot_be_applied_does_not_hold_back_the_apology(manager):
    # given no voucher validity rule in force, so the discount voucher cannot be issued
    shipment = late_shipment()
    # when the late shipment is handled
    late_shipment_handle(shipment_id=shipment.pk, now=NOW)
    # then the apology is queued without a discount, and the case says the discount is still owed
    apology = Message.objects.get(template=catalogue.LATE_DELIVERY_APOLOGY)
    assert "discount_amount" not in apology.context
    case = Case.objects.get()
    assert case.events.filter(kind=CaseEventKind.NOTE, text__contains="discount could not be applied").exists()
    assert not Remedy.objects.exists()


def test_a_late_shipment_attaches_to_the_orders_open_late_delivery_case(manager):
    shipment = late_shipment()
    existing = CaseFactory(customer=shipment.order.customer, order=shipment.order,
                           category=CaseCategory.LATE_DELIVERY)
    late_shipment_handle(shipment_id=shipment.pk, now=NOW)
    assert Case.objects.count() == 1
    assert existing.events.filter(kind=CaseEventKind.DETECTED).exists()


def test_a_date_critical_order_at_risk_is_escalated_to_the_owner_and_a_manager(agent, manager):
    # given a birthday parcel the courier delays, on a case owned by an agent
    shipment = late_shipment(is_date_critical=True, occasion="girlfriend's birthday")
    CaseFactory(customer=shipment.order.customer, order=shipment.order, category=CaseCategory.LATE_DELIVERY,
                owner=agent)
    # when it is detected
    late_shipment_handle(shipment_id=shipment.pk, now=NOW)
    # then the owner and a manager get the escalation, with the time left before the end of the promised day
    escalations = Message.objects.filter(template=catalogue.DATE_CRITICAL_ESCALATION)
    assert sorted(escalations.values_list("recipient", flat=True)) == sorted([agent.email, manager.email])
    # the promised day (tomorrow) ends at midnight Bucharest time: 34 hours after noon UTC (33 in summer time)
    end_of_promised_day = datetime.combine(TODAY + timedelta(days=2), time.min, tzinfo=ZoneInfo("Europe/Bucharest"))
    assert {m.context["hours_left"] for m in escalations} == {int((end_of_promised_day - NOW).total_seconds() // 3600)}
    assert {m.context["hours_left"] for m in escalations} <= {33, 34}
    assert Detection.objects.filter(kind=DetectionKind.DATE_CRITICAL).count() == 1


def test_a_cod_mismatch_opens_a_case_and_a_task_for_a_manager(manager):
    # given a COD order quoted 100 whose label says 120
    order = OrderFactory(payment_method=PaymentMethod.CASH_ON_DELIVERY, cod_quoted_amount=Decimal("100.00"),
                         total=Decimal("100.00"))
    shipment = ShipmentFactory(order=order, cod_amount=Decimal("120.00"), estimated_delivery=TODAY + timedelta(days=2))
    fine = ShipmentFactory(order=OrderFactory(payment_method=PaymentMethod.CASH_ON_DELIVERY,
                                              cod_quoted_amount=Decimal("50.00")), cod_amount=Decimal("50.00"))
    # when the scan runs and the handler runs twice
    assert set(cod_mismatches_queryset(now=NOW).values_list("pk", flat=True)) == {shipment.pk}
    assert cod_mismatch_handle(shipment_id=shipment.pk, now=NOW) is not None
    assert cod_mismatch_handle(shipment_id=fine.pk, now=NOW) is None
    assert cod_mismatch_handle(shipment_id=shipment.pk, now=NOW) is None
    # then one case, one promise owned by the manager due before delivery, one task email
    case = Case.objects.get(category=CaseCategory.COD_MISMATCH)
    promise = Promise.objects.get(case=case)
    assert promise.owner == manager and "120.00 to 100.00" in promise.description
    assert NOW < promise.due_at <= NOW + timedelta(hours=4)
    task = Message.objects.get(template=catalogue.COD_CORRECTION_TASK)
    assert task.recipient == manager.email
    assert not cod_mismatches_queryset(now=NOW).exists()


def test_an_uncollected_parcel_gets_a_case_and_a_friendly_message_once():
    customer = CustomerFactory(preferred_language="it")
    shipment = ShipmentFactory(order=OrderFactory(customer=customer), status="not_collected")
    assert list(uncollected_parcels_queryset(now=NOW).values_list("pk", flat=True)) == [shipment.pk]
    assert uncollected_parcel_handle(shipment_id=shipment.pk, now=NOW) is not None
    assert uncollected_parcel_handle(shipment_id=shipment.pk, now=NOW) is None
    assert Case.objects.get().category == CaseCategory.NOT_COLLECTED
    message = Message.objects.get(template=catalogue.NOT_COLLECTED)
    assert (message.recipient, message.language) == (customer.email, "it")


def test_an_overdue_promise_alerts_its_owner_and_a_manager_once(agent, manager):
    # given the Monday call-back promised at the counter, owned by an agent, due an hour ago
    promise = PromiseFactory(owner=agent, due_at=timezone.now() - timedelta(hours=1))
    not_yet = PromiseFactory(owner=agent, due_at=timezone.now() + timedelta(hours=1))
    # when the scan runs and the alert is given twice
    assert list(overdue_promises_queryset(now=timezone.now()).values_list("pk", flat=True)) == [promise.pk]
    assert promise_overdue_alert(promise_id=promise.pk) is not None
    assert promise_overdue_alert(promise_id=promise.pk) is None
    assert promise_overdue_alert(promise_id=not_yet.pk) is None
    # then owner and manager each got one alert, and the case and the promise show it
    alerts = Message.objects.filter(template=catalogue.PROMISE_OVERDUE)
    assert sorted(alerts.values_list("recipient", flat=True)) == sorted([agent.email, manager.email])
    promise.refresh_from_db()
    assert promise.overdue_alerted_at is not None
    assert promise.case.events.filter(kind=CaseEventKind.DETECTED, data__promise_id=promise.pk).count() == 1
    assert not overdue_promises_queryset(now=timezone.now()).exists()


def test_voucher_reminder_dates_are_exact():
    held = voucher(1)
    voucher_reminder_queue(voucher_id=held.pk, now=NOW)
    assert Message.objects.get().context["expiry_date"] == (TODAY + timedelta(days=1)).isoformat()
    assert isinstance(date.fromisoformat(Message.objects.get().context["expiry_date"]), date)


def test_the_new_date_is_never_the_day_already_broken(manager):
    # given a courier reporting a delay while its estimate still says the promised day (tomorrow)
    shipment = ShipmentFactory(status="delayed", handed_over_at=NOW - timedelta(hours=5),
                               order=OrderFactory(promised_delivery_date=TODAY + timedelta(days=1)),
                               estimated_delivery=TODAY + timedelta(days=1))
    # when the apology is written
    late_shipment_handle(shipment_id=shipment.pk, now=NOW)
    # then it promises a later day than the one it apologises for
    apology = Message.objects.get(template=catalogue.LATE_DELIVERY_APOLOGY)
    assert date.fromisoformat(apology.context["new_date"]) > shipment.order.promised_delivery_date


def test_a_date_critical_parcel_not_with_the_courier_the_day_before_is_escalated_to_staff_only(manager):
    # given a birthday parcel due tomorrow that the shop has not handed over yet
    shipment = ShipmentFactory(status="created", handed_over_at=None,
                               order=OrderFactory(promised_delivery_date=TODAY + timedelta(days=1),
                                                  is_date_critical=True, occasion="birthday"))
    # when the scan runs and the handler runs twice
    assert list(late_shipments_queryset(now=NOW).values_list("pk", flat=True)) == [shipment.pk]
    assert late_shipment_handle(shipment_id=shipment.pk, now=NOW) is not None
    assert late_shipment_handle(shipment_id=shipment.pk, now=NOW) is None
    # then a manager is told, with the time left; the customer gets no apology for a delay that has not happened
    assert list(Message.objects.values_list("template", "recipient")) == [
        (catalogue.DATE_CRITICAL_ESCALATION, manager.email)
    ]
    assert not late_shipments_queryset(now=NOW).exists()


def test_shipment_scans_leave_orders_older_than_the_look_back_window_to_people(settings):
    settings.NOTIFICATIONS_LOOKBACK_DAYS = 30
    # given a parcel from an order placed 40 days ago, still delayed, and an uncollected one as old
    old_order = OrderFactory(placed_at=NOW - timedelta(days=40), promised_delivery_date=TODAY - timedelta(days=35))
    delayed = ShipmentFactory(order=old_order, status="delayed", estimated_delivery=TODAY - timedelta(days=30))
    ShipmentFactory(order=OrderFactory(placed_at=NOW - timedelta(days=40),
                                       promised_delivery_date=TODAY - timedelta(days=35)), status="not_collected")
    # then no scan picks them up, and the handler does nothing for them
    assert not late_shipments_queryset(now=NOW).exists()
    assert not uncollected_parcels_queryset(now=NOW).exists()
    assert late_shipment_handle(shipment_id=delayed.pk, now=NOW) is None


# --- Story 2: a date-critical parcel that can still be saved is the shop's first move --------------------------


def test_a_date_critical_parcel_that_can_still_be_saved_is_escalated_before_the_customer_hears_anything(manager):
    # given the birthday ring due tomorrow, which the courier now expects two days after the birthday
    ValidityRuleFactory()
    shipment = late_shipment(is_date_critical=True, occasion="girlfriend's birthday", currency="RUB",
                             total=Decimal("24000.00"))
    # when the late-delivery scan handles it, before anyone acts
    late_shipment_handle(shipment_id=shipment.pk, now=NOW)
    # then the staff are escalated to at once
    assert Message.objects.filter(template=catalogue.DATE_CRITICAL_ESCALATION, recipient=manager.email).exists()
    case = Case.objects.get()
    # and the customer gets no apology with a date after the birthday, no credit and no "deliver by" promise yet
    assert not Message.objects.filter(template=catalogue.LATE_DELIVERY_APOLOGY).exists()
    assert not Remedy.objects.filter(case=case).exists()
    assert not Promise.objects.filter(case=case).exists()


def test_if_nobody_acts_in_time_the_customer_is_told_without_a_date_after_the_occasion(manager, settings):
    # given the escalated birthday parcel, and nobody acting on its case
    settings.NOTIFICATIONS_DATE_CRITICAL_ACT_HOURS = 4
    shipment = late_shipment(is_date_critical=True, occasion="girlfriend's birthday")
    late_shipment_handle(shipment_id=shipment.pk, now=NOW)
    # when the scan comes back before the time to act is up, it leaves the parcel to the staff
    assert not late_shipments_queryset(now=NOW + timedelta(hours=3)).filter(pk=shipment.pk).exists()
    late_shipment_handle(shipment_id=shipment.pk, now=NOW + timedelta(hours=3))
    assert not Message.objects.filter(recipient=shipment.order.customer.email).exists()
    assert late_shipments_queryset(now=NOW + timedelta(hours=5)).filter(pk=shipment.pk).exists()
    # when it comes back after it, twice
    late_shipment_handle(shipment_id=shipment.pk, now=NOW + timedelta(hours=5))
    late_shipment_handle(shipment_id=shipment.pk, now=NOW + timedelta(hours=6))
    # then the customer hears once that the parcel is at risk, with no new date at all
    (note,) = Message.objects.filter(recipient=shipment.order.customer.email)
    assert note.template == catalogue.LATE_DELIVERY_APOLOGY and note.language == "ro"
    assert note.context["at_risk"] is True and note.context["new_date"] is None
    from notifications.rendering import message_render

    rendered = message_render(template=note.template, context=note.context, language="en", time_zone="UTC")
    assert "may not arrive on" in rendered.text and "We now expect it" not in rendered.text
    assert "working to deliver it on time" in rendered.subject


def test_when_a_person_acts_in_time_caseapp_writes_nothing_to_the_customer(manager, agent, settings):
    # given the escalated birthday parcel, on which an agent called the customer
    settings.NOTIFICATIONS_DATE_CRITICAL_ACT_HOURS = 4
    shipment = late_shipment(is_date_critical=True, occasion="birthday")
    late_shipment_handle(shipment_id=shipment.pk, now=NOW)
    case = Case.objects.get()
    CaseEvent.objects.create(case=case, kind=CaseEventKind.CALL, actor=agent, text="Told him we fly it in",
                             occurred_at=NOW + timedelta(hours=1))
    # when the scan comes back after the time to act
    late_shipment_handle(shipment_id=shipment.pk, now=NOW + timedelta(hours=5))
    # then the customer hears from the person, not from caseapp
    assert not Message.objects.filter(recipient=shipment.order.customer.email).exists()


def test_applying_the_cod_proposal_after_the_scan_keeps_one_task_and_one_promise(manager):
    # given a COD label 20 above the quote, found by the scan (its promise due before the delivery day)
    from policies.services import case_proposals, policy_default_ensure, remedy_apply

    policy_default_ensure()
    order = OrderFactory(payment_method=PaymentMethod.CASH_ON_DELIVERY, cod_quoted_amount=Decimal("180.00"),
                         total=Decimal("180.00"), currency="RON")
    shipment = ShipmentFactory(order=order, cod_amount=Decimal("200.00"), estimated_delivery=TODAY + timedelta(days=2))
    cod_mismatch_handle(shipment_id=shipment.pk, now=NOW)
    case = Case.objects.get(category=CaseCategory.COD_MISMATCH)
    (scan_promise,) = Promise.objects.filter(case=case)
    # when a manager applies the policy's "correct the COD label" proposal
    (proposal,) = [p for p in case_proposals(case=case) if p.kind == "correct_cod"]
    remedy = remedy_apply(case=case, proposal=proposal, by=manager)
    # then there is still one promise for the one task, the scan's, and the remedy points at it
    assert list(Promise.objects.filter(case=case)) == [scan_promise]
    assert remedy.parameters["promise_id"] == scan_promise.pk
