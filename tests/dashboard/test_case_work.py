"""Working a case from its page: the one status rule, closing with open promises, the delivery check, the special
delivery, and what the order, promise, voucher and remedy panels say (issue 10, "The stories decide wrongly")."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from cases.models import CaseEventKind, CaseStatus, Promise, PromiseStatus
from cases.services import (
    ACT_CUSTOMER_WROTE,
    ACT_REPLIED,
    ACT_TAKEN,
    case_change_status,
    case_status_after,
    delivery_check,
)
from notifications import catalogue
from notifications.models import Message
from orders.models import OrderLine, Shipment
from policies.services import case_proposals, policy_default_ensure, remedy_apply, remedy_override
from tests.factories import (
    CaseFactory,
    CourierFactory,
    CustomerFactory,
    OrderFactory,
    PromiseFactory,
    ShipmentFactory,
    ValidityRuleFactory,
    VoucherFactory,
)
from vouchers.models import VoucherStatus
from vouchers.tasks import mark_expired_vouchers_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy(db):
    ValidityRuleFactory()
    return policy_default_ensure()


def page(client, case) -> str:
    response = client.get(reverse("dashboard:case", args=[case.pk]))
    assert response.status_code == 200
    return response.content.decode()


def late_case(**fields):
    today = timezone.localdate()
    order = OrderFactory(total=Decimal("80.00"), placed_at=timezone.now() - timedelta(days=8),
                         promised_delivery_date=today - timedelta(days=3))
    shipment = ShipmentFactory(order=order, status="delayed", estimated_delivery=today + timedelta(days=1))
    return CaseFactory(customer=order.customer, order=order, shipment=shipment, category="late_delivery", **fields)


def plates_order():
    """Story 5: four mugs (100 RON) and four plates (140 RON), delivered."""
    order = OrderFactory(currency="RON", total=Decimal("240.00"), with_line=False,
                         customer=CustomerFactory(preferred_language="ro"))
    OrderLine.objects.create(order=order, sku="MUG-BLUE", name="Mug, blue", quantity=4, unit_price=Decimal("25.00"))
    OrderLine.objects.create(order=order, sku="PLATE-BLUE", name="Plate, blue", quantity=4,
                             unit_price=Decimal("35.00"))
    shipment = ShipmentFactory(order=order, status="delivered", delivered_at=timezone.now() - timedelta(hours=3),
                               courier=CourierFactory(name="Cargus"))
    return order, shipment


# --- One status rule -------------------------------------------------------------------------------------------


def test_take_this_case_opens_it_as_take_next_does(agent_client, agent):
    # given a new, unowned case
    case = CaseFactory()
    # when the agent presses "Take this case"
    agent_client.post(reverse("dashboard:case_take", args=[case.pk]))
    # then it is theirs and open, and the timeline says so
    case.refresh_from_db()
    assert (case.owner, case.status) == (agent, CaseStatus.OPEN)
    assert case.events.filter(kind=CaseEventKind.STATUS_CHANGED, data__to="open", data__act=ACT_TAKEN).exists()


def test_a_reply_to_the_customer_leaves_the_case_waiting_on_the_customer(agent_client, agent):
    # given the agent's new case
    case = CaseFactory(owner=agent)
    # when the agent replies by email
    agent_client.post(reverse("dashboard:case_reply", args=[case.pk]), {"text": "We are on it.", "nonce": "n-1"})
    # then the case waits on the customer
    case.refresh_from_db()
    assert case.status == CaseStatus.WAITING_ON_CUSTOMER


def test_applying_a_remedy_opens_a_new_case(agent_client, agent, policy):
    # given a new late-delivery case the agent owns
    case = late_case(owner=agent)
    (proposal,) = [p for p in case_proposals(case=case) if p.kind == "discount"]
    # when the agent applies the discount from the page
    agent_client.post(reverse("dashboard:proposal_apply", args=[case.pk]), {"key": proposal.key})
    # then the case is no longer "New"
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


@pytest.mark.parametrize(("status", "act", "after"), [
    (CaseStatus.NEW, ACT_TAKEN, CaseStatus.OPEN),
    (CaseStatus.WAITING_ON_CUSTOMER, ACT_TAKEN, CaseStatus.WAITING_ON_CUSTOMER),
    (CaseStatus.OPEN, ACT_REPLIED, CaseStatus.WAITING_ON_CUSTOMER),
    (CaseStatus.WAITING_ON_CUSTOMER, ACT_CUSTOMER_WROTE, CaseStatus.OPEN),
    (CaseStatus.RESOLVED, ACT_REPLIED, CaseStatus.RESOLVED),
])
def test_the_status_rule(status, act, after):
    assert case_status_after(status, act) == after


# --- Closing with an open promise --------------------------------------------------------------------------------


def test_closing_a_case_with_an_open_promise_asks_what_becomes_of_it(agent_client, agent):
    # given an open case with an open promise on it
    case = CaseFactory(owner=agent, status=CaseStatus.OPEN)
    promise = PromiseFactory(case=case, owner=agent, due_at=timezone.now() + timedelta(days=1))
    url = reverse("dashboard:case_status", args=[case.pk])
    # the status form asks about the promise
    assert f'name="promise_{promise.pk}"' in page(agent_client, case)
    # when the agent resolves it without saying what becomes of the promise
    response = agent_client.post(url, {"status": "resolved", "reason": "done"})
    # then it is refused, and nothing changed
    assert response.status_code == 400
    assert "Say what becomes of this promise before the case is closed." in response.content.decode()
    case.refresh_from_db()
    promise.refresh_from_db()
    assert (case.status, promise.status) == (CaseStatus.OPEN, PromiseStatus.OPEN)
    # when the promise is to stay open, without a reason, it is refused too
    response = agent_client.post(url, {"status": "resolved", f"promise_{promise.pk}": "open"})
    assert response.status_code == 400 and "Say why the promise stays open." in response.content.decode()
    # when the agent says it was kept
    agent_client.post(url, {"status": "resolved", f"promise_{promise.pk}": "kept", f"promise_{promise.pk}_note": "Called"})
    # then the case is resolved and the promise kept
    case.refresh_from_db()
    promise.refresh_from_db()
    assert (case.status, promise.status) == (CaseStatus.RESOLVED, PromiseStatus.KEPT)


def test_a_promise_can_stay_open_after_the_close_with_a_reason(agent):
    # given an open case with an open promise
    case = CaseFactory(owner=agent, status=CaseStatus.OPEN)
    promise = PromiseFactory(case=case, owner=agent, due_at=timezone.now() + timedelta(days=1))
    # when the service is asked to close it silently, it refuses
    with pytest.raises(ValidationError):
        case_change_status(case=case, status=CaseStatus.CLOSED, by=agent)
    # when it is closed with the promise kept open, and why
    case_change_status(case=case, status=CaseStatus.CLOSED, by=agent,
                       promise_outcomes={promise.pk: ("open", "The refund reaches her bank on Friday")})
    # then the promise is still open, and the timeline says who keeps it and why
    promise.refresh_from_db()
    assert promise.status == PromiseStatus.OPEN
    assert case.events.filter(kind=CaseEventKind.NOTE, text__contains="reaches her bank on Friday").exists()


# --- Panels: promises, remedies, order, vouchers -----------------------------------------------------------------


def test_an_open_promise_names_its_owner_not_who_kept_it(agent_client, agent):
    case = CaseFactory(owner=agent)
    PromiseFactory(case=case, owner=agent, due_at=timezone.now() + timedelta(days=1))
    html = page(agent_client, case)
    assert "kept by" not in html
    assert "owner: alice" in html and "promised by Clerk at the counter" in html


def test_an_applied_discount_appears_once_in_the_remedies_panel(agent_client, agent, policy):
    # given the late-delivery discount applied by caseapp
    case = late_case(owner=agent)
    (proposal,) = [p for p in case_proposals(case=case) if p.kind == "discount"]
    remedy = remedy_apply(case=case, proposal=proposal, by=None)
    # then the page shows it once (as a remedy), not again as a proposal
    html = page(agent_client, case)
    panel = html[html.index('id="remedies"'):html.index('id="promises"')]
    assert panel.count(escape(remedy.rationale)) == 1
    assert f'value="{proposal.key}"' not in panel


def test_a_cancelled_order_reads_cancelled_and_the_customer_panel_says_what_it_counts(client, manager, policy):
    # given the rug order, non-refundable and a special order, cancelled by a manager's override
    order = OrderFactory(currency="USD", total=Decimal("470.00"), is_non_refundable=True, is_special_order=True,
                         status="paid")
    case = CaseFactory(customer=order.customer, order=order, category="broken_promise", owner=manager)
    remedy_override(case=case, by=manager, reason="Promised in ten days by our VP", parameters={"action": "cancel_order"})
    client.force_login(manager)
    html = page(client, case)
    # then the order card reads "Cancelled", and shows it was non-refundable and a special order
    assert '<span class="tag tag-order-cancelled" id="order-status">Cancelled</span>' in html
    assert "non-refundable" in html and "special order" in html
    # and the customer panel says what its order count counts
    assert "Orders (not cancelled)" in html and "and 1 cancelled" in html


def test_an_expired_voucher_reads_expired_before_the_task_stores_it(agent_client, agent):
    # given an active voucher whose last day was yesterday, on the agent's case
    voucher = VoucherFactory(valid_until=timezone.localdate() - timedelta(days=1), status=VoucherStatus.ACTIVE,
                             issued_at=timezone.now() - timedelta(days=200))
    case = CaseFactory(customer=voucher.holder, voucher=voucher, owner=agent)
    # then the page derives the status from the date
    html = page(agent_client, case)
    vouchers = html[html.index('id="vouchers"'):html.index('id="history"')]
    assert "Expired" in vouchers and "Active" not in vouchers
    # and the scheduled task stores it, once
    assert mark_expired_vouchers_task() == 1 and mark_expired_vouchers_task() == 0
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.EXPIRED


# --- Delivery check ---------------------------------------------------------------------------------------------


def test_recording_what_arrived_from_the_case_page_costs_the_replacement_at_the_missing_plates(agent_client, agent,
                                                                                                policy):
    # given Cristina's incomplete order (240 RON), on the agent's case
    order, shipment = plates_order()
    case = CaseFactory(customer=order.customer, order=order, shipment=shipment, category="incomplete_order",
                       owner=agent)
    mugs, plates = order.lines.all()
    assert 'id="delivery-check"' in page(agent_client, case)
    # when the agent records that the four mugs arrived and no plate
    response = agent_client.post(reverse("dashboard:case_delivery_check", args=[case.pk]), {
        "shipment": shipment.pk, f"quantity_{mugs.pk}": "4", f"variant_{mugs.pk}": "",
        f"quantity_{plates.pk}": "0", f"variant_{plates.pk}": ""})
    assert response.status_code == 302
    # then the case carries the mismatch, and the policy replaces the plates at their cost, not the whole order
    event = case.events.get(kind=CaseEventKind.DETECTED)
    assert "Plate, blue (PLATE-BLUE) missing" in event.text and event.data["mismatched_lines_value"] == "140.00"
    (replacement,) = [p for p in case_proposals(case=case) if p.kind == "replacement"]
    assert replacement.cost == Decimal("140.00")


def test_a_bad_delivery_check_is_a_form_error_and_saves_nothing(agent_client, agent):
    order, shipment = plates_order()
    case = CaseFactory(customer=order.customer, order=order, category="incomplete_order", owner=agent)
    mugs, plates = order.lines.all()
    response = agent_client.post(reverse("dashboard:case_delivery_check", args=[case.pk]), {
        "shipment": shipment.pk, f"quantity_{mugs.pk}": "-1", f"quantity_{plates.pk}": "lots"})
    assert response.status_code == 400
    assert not case.events.filter(kind=CaseEventKind.DETECTED).exists()


def test_a_reopen_by_the_delivery_check_is_logged_once(agent):
    # given a resolved case whose order arrives without the plates
    order, shipment = plates_order()
    case = CaseFactory(customer=order.customer, order=order, category="incomplete_order", owner=agent,
                       status=CaseStatus.RESOLVED, resolved_at=timezone.now())
    # when the delivery check records it
    found = delivery_check(shipment=shipment, received=[{"sku": "MUG-BLUE", "quantity": 4}])
    # then the case is open again, and the timeline tells it once
    case.refresh_from_db()
    assert found == case and case.status == CaseStatus.OPEN and case.resolved_at is None
    telling = [e for e in case.events.all() if "PLATE-BLUE" in e.text]
    assert len(telling) == 1 and telling[0].data["reopened_from"] == "resolved"


def test_another_style_against_a_line_with_no_style_recorded_asks_a_person(agent):
    # given a line without a style recorded, on an open case
    order = OrderFactory(with_line=False)
    OrderLine.objects.create(order=order, sku="RUG-1", name="Rug", quantity=1, unit_price=Decimal("410.00"))
    shipment = ShipmentFactory(order=order, status="delivered", delivered_at=timezone.now())
    case = CaseFactory(customer=order.customer, order=order, owner=agent, status=CaseStatus.OPEN)
    # when the customer says the rug came in another style
    found = delivery_check(shipment=shipment, received=[{"sku": "RUG-1", "quantity": 1, "variant": "Kilim, red"}])
    # then it is not a match: the check cannot tell, and flags the case for a person
    assert found == case
    case.refresh_from_db()
    assert case.status == CaseStatus.WAITING_ON_SHOP
    event = case.events.get(kind=CaseEventKind.DETECTED)
    assert "cannot tell: the order line has no style recorded" in event.text and event.data["needs_person"]


# --- Story 2: the special delivery after the absorb-cost remedy -------------------------------------------------


def test_after_the_absorb_cost_remedy_the_special_delivery_is_recorded_and_the_customer_told(agent_client, agent,
                                                                                               policy):
    # given the birthday ring due in two days, which the courier will deliver a day late, on the agent's case
    today = timezone.localdate()
    customer = CustomerFactory(preferred_language="ru", time_zone="Europe/Moscow")
    order = OrderFactory(customer=customer, currency="RUB", total=Decimal("24000.00"), is_date_critical=True,
                         occasion="birthday", promised_delivery_date=today + timedelta(days=2))
    shipment = ShipmentFactory(order=order, status="delayed", estimated_delivery=today + timedelta(days=3),
                               courier=CourierFactory(name="EastWay Express"))
    own = CourierFactory(name="Shop's own courier")
    case = CaseFactory(customer=customer, order=order, shipment=shipment, category="late_delivery", owner=agent)
    url = reverse("dashboard:case_special_delivery", args=[case.pk])
    form = {"courier": own.pk, "tracking_number": "PLANE-1", "arrives_on": order.promised_delivery_date.isoformat()}
    # before the cost is absorbed there is no special delivery to record
    assert 'id="special-delivery"' not in page(agent_client, case)
    assert agent_client.post(url, form).status_code == 400
    assert not Shipment.objects.filter(is_replacement=True).exists()
    # when the agent applies the absorb-cost remedy and records the special delivery
    (absorb,) = [p for p in case_proposals(case=case) if p.kind == "absorb_cost"]
    remedy_apply(case=case, proposal=absorb, by=agent)
    assert 'id="special-delivery"' in page(agent_client, case)
    agent_client.post(url, form)
    agent_client.post(url, form)  # a double submit
    # then one replacement shipment carries it, with its own courier and tracking number
    special = Shipment.objects.get(order=order, is_replacement=True)
    assert (special.courier, special.tracking_number, special.estimated_delivery) == (
        own, "PLANE-1", order.promised_delivery_date)
    # and the customer is told once, through the outbox, in Russian
    (message,) = Message.objects.filter(template=catalogue.SPECIAL_DELIVERY)
    assert (message.recipient, message.language) == (customer.email, "ru")
    assert message.context["tracking_number"] == "PLANE-1"
    # and delivering on that day is a promise with an owner
    assert Promise.objects.get(case=case, key=f"special-delivery:{order.pk}").owner == agent


def test_the_new_parts_of_the_case_page_are_translated(client, manager, policy):
    # given a cancelled, non-refundable order with a shipment and an open promise, read in Romanian
    order = OrderFactory(currency="RON", is_non_refundable=True, status="cancelled")
    ShipmentFactory(order=order)
    case = CaseFactory(customer=order.customer, order=order, owner=manager, status=CaseStatus.OPEN)
    PromiseFactory(case=case, owner=manager, due_at=timezone.now() + timedelta(days=1))
    client.force_login(manager)
    client.post(reverse("set_language"), {"language": "ro", "next": "/"})
    html = page(client, case)
    # then the order card, the customer panel, the promise and the forms speak Romanian
    for words in ("Anulată", "nerambursabilă", "Comenzi (neanulate)", "promisă de", "Înregistrați ce a sosit",
                  "Promisiune deschisă"):
        assert words in html, words
    for english in ("Record what arrived", "promised by", "Orders (not cancelled)", "Open promise"):
        assert english not in html, english
