"""Each story of STORIES.md worked end to end from the dashboard alone, on the demo data (seed_demo).

The agent and the manager use nothing but the dashboard's pages and forms; the assertions read the database to
show that what the page did really happened (the voucher's new date, the replacement shipment, the ledger).
"""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, CaseEventKind, PromiseStatus
from claims.models import Claim, ClaimStatus
from notifications import catalogue
from notifications.models import Message
from notifications.scans.shipments import late_shipment_handle
from orders.models import Courier, Shipment
from policies.models import Remedy, RemedyStatus
from policies.services import case_proposals, policy_default_ensure

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db):
    call_command("seed_demo", size=3, stdout=StringIO())
    policy_default_ensure()


@pytest.fixture
def agent_client(client, demo):
    client.force_login(User.objects.get(username="agent"))
    return client


@pytest.fixture
def manager_client(demo):
    from django.test import Client

    client = Client()
    client.force_login(User.objects.get(username="manager"))
    return client


def story_case(email, **filters):
    return Case.objects.get(customer__email=email, **filters)


def take(client, case):
    response = client.post(reverse("dashboard:case_take", args=[case.pk]))
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.owner.username in ("agent", "manager")


def apply_rule(client, case, rule_id):
    """Press "Apply" on the proposal of this rule, as the case page offers it."""
    page = client.get(reverse("dashboard:case", args=[case.pk])).content.decode()
    (proposal,) = [p for p in case_proposals(case=case) if p.rule_id == rule_id]
    assert proposal.key in page, "the case page offers the proposal"
    response = client.post(reverse("dashboard:proposal_apply", args=[case.pk]), {"key": proposal.key})
    assert response.status_code == 302
    return Remedy.objects.get(proposal_key=proposal.key)


def test_story_1_the_expired_voucher_of_a_loyal_customer(agent_client):
    # given Elena at the counter with a voucher that expired a week ago
    case = story_case("elena.popescu@mail.example")
    page = agent_client.get(reverse("dashboard:case", args=[case.pk])).content.decode()
    # then the agent sees who she is and that the validity rule changed between her vouchers
    assert "4.1 years" in page and "23" in page
    assert "was valid 12 months, BK-GIFT-2026-ELENA only 6 months" in page
    assert "forgive-loyal-expired" in page and "voucher expired 7 days ago" in page
    # when the agent takes the case and applies the policy's extension with one click
    take(agent_client, case)
    remedy = apply_rule(agent_client, case, "forgive-loyal-expired")
    # then the voucher is valid again for 30 days, with the reason recorded, and it is on the timeline
    case.voucher.refresh_from_db()
    assert remedy.status == RemedyStatus.APPLIED
    assert case.voucher.valid_until == timezone.localdate() + timedelta(days=30)
    assert case.voucher.extensions.get().reason == remedy.rationale
    # and the call-back the clerk promised is a tracked commitment the agent now keeps
    promise = case.promises.get()
    agent_client.post(reverse("dashboard:promise_close", args=[case.pk, promise.pk]), {"kept": "1",
                                                                                     "note": "Called her"})
    promise.refresh_from_db()
    assert promise.status == PromiseStatus.KEPT
    timeline = agent_client.get(reverse("dashboard:case", args=[case.pk])).content.decode()
    assert "Remedy applied" in timeline and "Promise kept" in timeline


def test_story_2_the_birthday_parcel_and_the_lost_one(agent_client, manager_client):
    # given the date-critical birthday ring the courier will not deliver on the day
    case = story_case("dmitri.sokolov@mail.example")
    # when the late-delivery scan finds it, before anyone acts
    late_shipment_handle(shipment_id=case.shipment_id)
    # then the staff are escalated to, and Dmitri gets no apology promising a date after the birthday, no credit
    assert Message.objects.filter(template=catalogue.DATE_CRITICAL_ESCALATION).exists()
    assert not Message.objects.filter(recipient=case.customer.email).exists()
    assert not Remedy.objects.filter(case=case).exists()
    page = agent_client.get(reverse("dashboard:case", args=[case.pk])).content.decode()
    assert "date-critical" in page.lower() and "birthday" in page
    take(agent_client, case)
    # when the agent absorbs the cost of a special delivery
    remedy = apply_rule(agent_client, case, "save-date-critical-delivery")
    # then it is booked to marketing, recoverable from the courier
    assert (remedy.budget, remedy.recoverable_from.name, remedy.currency) == ("marketing", "EastWay Express", "RUB")
    assert remedy.amount == Decimal("15000.00")
    # when the agent records the special delivery (the shop's own courier, on the plane) from the case page
    courier = Courier.objects.create(name="Shop employee by plane")
    agent_client.post(reverse("dashboard:case_special_delivery", args=[case.pk]), {
        "courier": courier.pk, "tracking_number": "PLANE-BELG-1",
        "arrives_on": case.order.promised_delivery_date.isoformat()})
    # then it is a replacement shipment with its own tracking, and Dmitri is told in Russian, on the birthday's date
    assert Shipment.objects.get(order=case.order, is_replacement=True).tracking_number == "PLANE-BELG-1"
    (told,) = Message.objects.filter(recipient=case.customer.email)
    assert (told.template, told.language) == (catalogue.SPECIAL_DELIVERY, "ru")
    assert told.context["new_date"] == case.order.promised_delivery_date.isoformat()
    # and the lost parcel of the same shop is refunded in full
    lost = story_case("olga.petrova@mail.example")
    take(agent_client, lost)
    refund = apply_rule(agent_client, lost, "refund-lost-parcel")
    assert (refund.kind, refund.amount, refund.status) == ("refund", Decimal("6500.00"), RemedyStatus.APPLIED)
    # and the flight is claimed from the courier: the manager files it, the courier accepts and pays it back
    claim = Claim.objects.get(remedy=remedy)
    assert (claim.courier.name, claim.amount, claim.currency, claim.status) == (
        "EastWay Express", Decimal("15000.00"), "RUB", ClaimStatus.TO_FILE)
    assert claim.deadline == timezone.localtime(claim.failed_at).date() + timedelta(days=claim.courier.claim_window_days)
    assert f'id="claim-{claim.pk}"' in manager_client.get(reverse("dashboard:claims")).content.decode()
    for step in ({"action": "file", "reference": "EW-CLAIM-118"}, {"action": "accept"},
                 {"action": "pay", "recovered": "15000.00"}):
        assert manager_client.post(reverse("dashboard:claim_act", args=[claim.pk]), step).status_code == 302
    claim.refresh_from_db()
    assert (claim.status, claim.recovered_amount) == (ClaimStatus.PAID, Decimal("15000.00"))
    page = agent_client.get(reverse("dashboard:case", args=[case.pk])).content.decode()
    assert "Claim filed with EastWay Express, reference EW-CLAIM-118" in page
    assert "Claim paid by EastWay Express" in page
    # and the lost parcel's refund is a claim of its own, still to file
    assert Claim.objects.get(remedy=refund).status == ClaimStatus.TO_FILE
    report = manager_client.get(reverse("dashboard:remedy_report")).content.decode()
    assert "15,000.00\xa0RUB" in report.split('id="claims"')[1].split("</section>")[0]


def test_story_3_the_rug_promise_cannot_be_denied_and_the_manager_overrides(agent_client, manager_client):
    # given the rug case, with the VP's promise recorded on it
    case = story_case("karen.miller@mail.example")
    page = agent_client.get(reverse("dashboard:case", args=[case.pk])).content.decode()
    assert "Regional vice-president" in page and "within 10 days" in page
    assert case.promises.get().is_overdue
    # when an agent tries the manager override, it is refused
    response = agent_client.post(reverse("dashboard:case_override", args=[case.pk]),
                                 {"kind": "free_item", "amount": "410.00", "reason": "sorry", "budget": "marketing"})
    assert response.status_code == 403
    # and the manager without a reason is told what is missing
    response = manager_client.post(reverse("dashboard:case_override", args=[case.pk]),
                                   {"kind": "free_item", "amount": "410.00", "reason": " ", "budget": "marketing"})
    assert response.status_code == 400 and "reason" in response.content.decode().lower()
    # when the general manager gives the rug for free, with the reason
    manager_client.post(reverse("dashboard:case_override", args=[case.pk]),
                        {"kind": "free_item", "amount": "410.00", "budget": "marketing",
                         "reason": "Promised in ten days by our VP; the rug is on us"})
    # then the ledger and the timeline carry it, with the reason
    remedy = Remedy.objects.get(case=case)
    assert (remedy.kind, remedy.amount, remedy.currency) == ("free_item", Decimal("410.00"), "USD")
    assert "the rug is on us" in remedy.decision_reason
    assert case.events.filter(kind=CaseEventKind.REMEDY_APPLIED).exists()


def test_story_4_the_child_who_came_first_is_served_first(agent_client):
    # given Giulia (one order of 4.50 EUR) arrived five minutes before Marco (thousands of euros)
    giulia = story_case("giulia.bianchi@mail.example")
    marco = story_case("marco.rossi@mail.example")
    # then the queue lists her first
    page = agent_client.get(reverse("dashboard:queue")).content.decode()
    assert page.index(f"#{giulia.pk}") < page.index(f"#{marco.pk}")
    # and "take next" reaches her before him, however often it is pressed
    taken = []
    for _ in range(Case.objects.filter(owner__isnull=True).count()):
        response = agent_client.post(reverse("dashboard:take_next"))
        taken.append(int(response.url.rstrip("/").rsplit("/", 1)[1]))
    assert taken.index(giulia.pk) < taken.index(marco.pk)


def test_story_5_an_incomplete_order_is_completed_at_the_shops_cost(agent_client):
    # given Cristina's order arrived without the plates
    case = story_case("cristina.matei@mail.example")
    take(agent_client, case)
    # when the agent records what arrived (the four mugs, no plate) from the case page
    mugs, plates = case.order.lines.all()
    shipment = case.order.shipments.get()
    response = agent_client.post(reverse("dashboard:case_delivery_check", args=[case.pk]), {
        "shipment": shipment.pk, f"quantity_{mugs.pk}": "4", f"quantity_{plates.pk}": "0"})
    assert response.status_code == 302
    # and applies the policy's replacement
    remedy = apply_rule(agent_client, case, "replace-wrong-or-incomplete")
    # then a replacement shipment exists for the missing plates at their cost, booked to the shop's quality budget
    assert (remedy.amount, remedy.currency) == (Decimal("140.00"), "RON")
    assert remedy.budget == "quality" and remedy.status == RemedyStatus.APPLIED
    assert Shipment.objects.filter(order=case.order, is_replacement=True).count() == 1
    # and a double click does not send a second one
    agent_client.post(reverse("dashboard:proposal_apply", args=[case.pk]), {"key": remedy.proposal_key})
    assert Shipment.objects.filter(order=case.order, is_replacement=True).count() == 1
    assert Remedy.objects.filter(case=case).count() == 1
