"""Applying remedies exactly once, approvals, and immutable, validated policy versions, on PostgreSQL."""

import threading
from dataclasses import replace
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, close_old_connections, connection, transaction

from cases.models import CaseEventKind
from cases.services import delivery_check
from orders.models import Shipment
from policies.engine import default_policy_document
from policies.models import PolicyVersion, Remedy, RemedyStatus
from policies.services import (
    LATE_DELIVERY_DISCOUNT_RULE_ID,
    PolicyDocumentInvalid,
    case_proposals,
    policy_version_activate,
    policy_version_create,
    remedy_apply,
    remedy_approve,
    remedy_reject,
)
from tests.factories import CaseFactory, CourierFactory, OrderFactory, ShipmentFactory
from vouchers.models import Voucher


def late_discount(case):
    (proposal,) = [p for p in case_proposals(case=case) if p.rule_id == LATE_DELIVERY_DISCOUNT_RULE_ID]
    return proposal


@pytest.mark.django_db
def test_applying_the_same_proposal_twice_leaves_one_remedy(late_case, agent, other_agent):
    # given the late-delivery discount was applied once
    proposal = late_discount(late_case)
    first = remedy_apply(case=late_case, proposal=proposal, by=agent)
    # when it is applied again: a double click, a retried task, another agent, a fresh evaluation
    again = [
        remedy_apply(case=late_case, proposal=proposal, by=agent),
        remedy_apply(case=late_case, proposal=proposal, by=None),
        remedy_apply(case=late_case, proposal=proposal, by=other_agent),
    ]
    # then there is one remedy, one credit voucher and one timeline entry
    assert all(remedy.pk == first.pk for remedy in again)
    assert remedy_apply(case=late_case, proposal=late_discount(late_case), by=None) == first
    assert Remedy.objects.count() == 1
    assert Voucher.objects.filter(code__startswith="CREDIT-").count() == 1
    assert late_case.events.filter(kind=CaseEventKind.REMEDY_APPLIED).count() == 1


@pytest.mark.django_db
def test_the_database_refuses_a_second_row_with_the_same_key(late_case):
    remedy = remedy_apply(case=late_case, proposal=late_discount(late_case))
    with pytest.raises(IntegrityError), transaction.atomic():
        Remedy.objects.create(case=late_case, customer=late_case.customer, kind="discount", currency="EUR",
                              rationale="copy", proposal_key=remedy.proposal_key, status="applied")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_applies_of_one_proposal_leave_exactly_one_remedy(late_case, agent, other_agent):
    # given a late order (committed, so other connections see it) and the default policy
    case = late_case
    proposal = late_discount(case)
    # when six threads (agents, retried tasks), each in its own transaction, apply it at the same moment
    users = [agent, other_agent, None, None, agent, other_agent]
    barrier = threading.Barrier(len(users))
    results, errors = [], []

    def apply(user):
        try:
            barrier.wait(timeout=10)
            results.append(remedy_apply(case=case, proposal=proposal, by=user).pk)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=apply, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # then every caller got the same remedy, and its effect happened once
    assert errors == []
    assert len(results) == len(users) and len(set(results)) == 1
    assert Remedy.objects.filter(case=case).count() == 1
    assert Voucher.objects.filter(code__startswith=f"CREDIT-{case.pk}-").count() == 1
    assert case.events.filter(kind=CaseEventKind.REMEDY_APPLIED).count() == 1


@pytest.mark.django_db
def test_a_forged_or_stale_proposal_is_refused(late_case, agent):
    proposal = late_discount(late_case)
    # a bigger amount than the policy proposes is not trusted: the policy's own figure is recorded
    remedy = remedy_apply(case=late_case, proposal=replace(proposal, cost=Decimal("500.00")), by=agent)
    assert remedy.amount == Decimal("4.00")  # 5% of 79.90
    # a proposal from another currency or another case is refused with the field named, nothing saved
    with pytest.raises(ValidationError) as wrong_currency:
        remedy_apply(case=late_case, proposal=replace(proposal, currency="RON", key="k1"), by=agent)
    assert "this case is in EUR" in wrong_currency.value.message_dict["currency"][0]
    with pytest.raises(ValidationError) as unknown:
        remedy_apply(case=late_case, proposal=replace(proposal, key="case-1/rule-made-up/discount"), by=agent)
    assert "no longer proposes" in unknown.value.message_dict["proposal"][0]
    with pytest.raises(ValidationError) as wrong_case:
        remedy_apply(case=late_case, proposal=replace(proposal, case_id=late_case.pk + 1000), by=agent)
    assert "proposal" in wrong_case.value.message_dict
    assert Remedy.objects.count() == 1


@pytest.fixture
def pending_replacement(policy, agent):
    order = OrderFactory(total=Decimal("450.00"))
    shipment = ShipmentFactory(order=order, status="delivered", courier=CourierFactory(name="Cargus"),
                               delivered_at=order.placed_at)
    case = CaseFactory(customer=order.customer, order=order, shipment=shipment, category="incomplete_order",
                       owner=agent)
    delivery_check(shipment=shipment, received=[], case=case)  # nothing of the 450.00 arrived
    (proposal,) = case_proposals(case=case)
    return remedy_apply(case=case, proposal=proposal, by=agent)


@pytest.mark.django_db
def test_large_remedy_waits_for_a_manager(pending_replacement):
    remedy = pending_replacement
    assert remedy.status == RemedyStatus.PENDING_APPROVAL and remedy.needs_approval
    assert remedy.rationale.endswith("needs a manager's approval")
    assert not Shipment.objects.filter(is_replacement=True).exists()
    assert remedy.case.events.filter(kind=CaseEventKind.REMEDY_PROPOSED).count() == 1


@pytest.mark.django_db
def test_only_a_manager_approves_and_never_their_own(pending_replacement, agent, other_agent, manager):
    with pytest.raises(PermissionDenied):
        remedy_approve(remedy=pending_replacement, by=other_agent)
    with pytest.raises(PermissionDenied):
        remedy_approve(remedy=pending_replacement, by=agent)
    # a manager who proposed a remedy cannot approve it either
    order = OrderFactory(total=Decimal("450.00"))
    case = CaseFactory(customer=order.customer, order=order, category="wrong_item", owner=manager)
    shipment = ShipmentFactory(order=order, status="delivered", delivered_at=order.placed_at)
    delivery_check(shipment=shipment, received=[{"sku": "SKU-9", "quantity": 1}], case=case)  # another item came
    (proposal,) = case_proposals(case=case)
    own = remedy_apply(case=case, proposal=proposal, by=manager)
    with pytest.raises(PermissionDenied, match="their own"):
        remedy_approve(remedy=own, by=manager)
    with pytest.raises(PermissionDenied, match="their own"):
        remedy_reject(remedy=own, by=manager, reason="no")
    assert Remedy.objects.get(pk=own.pk).status == RemedyStatus.PENDING_APPROVAL


@pytest.mark.django_db
def test_approval_applies_the_remedy_and_marks_the_timeline(pending_replacement, manager):
    remedy = remedy_approve(remedy=pending_replacement, by=manager)
    assert remedy.status == RemedyStatus.APPLIED and remedy.decided_by == manager and remedy.applied_at
    assert Shipment.objects.get(pk=remedy.parameters["shipment_id"]).is_replacement
    kinds = list(remedy.case.events.values_list("kind", flat=True))
    # then the customer's email about the replacement is queued (policies.services._remedy_followups)
    assert kinds[-4:] == [CaseEventKind.REMEDY_PROPOSED, CaseEventKind.REMEDY_APPROVED, CaseEventKind.REMEDY_APPLIED,
                          CaseEventKind.EMAIL_OUT]
    # approving again (double click) changes nothing
    assert remedy_approve(remedy=remedy, by=manager).pk == remedy.pk
    assert Shipment.objects.filter(is_replacement=True).count() == 1


@pytest.mark.django_db
def test_rejection_needs_a_reason_and_is_on_the_timeline(pending_replacement, manager, other_manager):
    with pytest.raises(ValidationError) as no_reason:
        remedy_reject(remedy=pending_replacement, by=manager, reason=" ")
    assert "reason" in no_reason.value.message_dict
    remedy = remedy_reject(remedy=pending_replacement, by=manager, reason="The customer already has a refund")
    assert remedy.status == RemedyStatus.REJECTED and remedy.decision_reason == "The customer already has a refund"
    assert remedy.case.events.get(kind=CaseEventKind.REMEDY_REJECTED).text.endswith("already has a refund")
    with pytest.raises(ValidationError):
        remedy_approve(remedy=remedy, by=other_manager)
    assert not Shipment.objects.filter(is_replacement=True).exists()


@pytest.mark.django_db
def test_invalid_policy_is_refused_before_it_is_stored(policy, manager):
    before = PolicyVersion.objects.count()
    document = default_policy_document()
    document["rules"][0]["remedy"]["kind"] = "teleport"
    with pytest.raises(PolicyDocumentInvalid) as raised:
        policy_version_create(document=document, author=manager, note="typo")
    assert raised.value.issues[0].rule_id == "refund-lost-parcel"
    assert raised.value.issues[0].field == "remedy.kind"
    assert "rule refund-lost-parcel, remedy.kind: unknown remedy kind 'teleport'" in raised.value.messages[0]
    with pytest.raises(PolicyDocumentInvalid) as syntax:
        policy_version_create(document="rules: [", author=manager)
    assert "not valid YAML or JSON" in syntax.value.messages[0]
    assert PolicyVersion.objects.count() == before


@pytest.mark.django_db
def test_versions_are_numbered_immutable_and_exactly_one_is_active(policy, manager):
    # given the default version 1 is active
    assert policy.number == 1 and policy.is_active
    # when a manager stores a YAML document and activates it
    text = "rules:\n  - id: callback-all\n    when: {fact: days_late, ge: 0}\n    remedy: {kind: callback}\n"
    version = policy_version_create(document=text, author=manager, note="call everyone")
    assert (version.number, version.is_active, version.document["rules"][0]["id"]) == (2, False, "callback-all")
    policy_version_activate(version=version, by=manager)
    # then exactly one version is active
    assert list(PolicyVersion.objects.filter(is_active=True).values_list("number", flat=True)) == [2]


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_stored_version_cannot_be_changed_or_deleted_even_by_raw_sql(policy, manager):
    text = "rules:\n  - id: callback-all\n    when: {fact: days_late, ge: 0}\n    remedy: {kind: callback}\n"
    version = policy_version_create(document=text, author=manager, note="call everyone")
    with pytest.raises(IntegrityError), transaction.atomic():
        PolicyVersion.objects.filter(pk=version.pk).update(note="edited")
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM policies_policyversion WHERE id = %s", [version.pk])
    assert PolicyVersion.objects.get(pk=version.pk).note == "call everyone"


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_version_guard_is_django_pgtriggers_and_lets_only_activation_change(policy, manager):
    # given the trigger declared in PolicyVersion.Meta.triggers, and not the hand-written one of policies 0002
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'policies_policyversion'::regclass "
                       "AND NOT tgisinternal")
        names = [row[0] for row in cursor.fetchall()]
    assert any(name.startswith("pgtrigger_policyversion_immutable_") for name in names), names
    assert "policies_policyversion_immutable" not in names
    text = "rules:\n  - id: callback-all\n    when: {fact: days_late, ge: 0}\n    remedy: {kind: callback}\n"
    version = policy_version_create(document=text, author=manager, note="call everyone")
    # when raw SQL activates and deactivates it, that is allowed
    with connection.cursor() as cursor:
        cursor.execute("UPDATE policies_policyversion SET is_active = false, activated_at = now() WHERE id = %s",
                       [version.pk])
    assert PolicyVersion.objects.get(pk=version.pk).activated_at is not None
    # but its document, number, author or creation time cannot change, even along with the activation
    for change in ("document = '{}'::jsonb", "number = 99", "author_id = NULL", "created_at = now() - interval '1 day'",
                   "is_active = false, note = 'edited'"):
        with pytest.raises(IntegrityError) as exc, transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"UPDATE policies_policyversion SET {change} WHERE id = %s", [version.pk])
        assert "create a new version instead" in str(exc.value), change
    assert PolicyVersion.objects.get(pk=version.pk).document["rules"][0]["id"] == "callback-all"


@pytest.mark.django_db
def test_only_a_manager_activates_a_version(policy, agent):
    version = policy_version_create(document=default_policy_document(), author=agent, note="copy")
    with pytest.raises(PermissionDenied):
        policy_version_activate(version=version, by=agent)
    assert PolicyVersion.objects.get(is_active=True).number == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_unique_key_decides_between_two_transactions_inserting_at_once(late_case):
    # given a late order, and another transaction that has just claimed the same proposal key but not committed
    import time

    case = late_case
    proposal = late_discount(case)
    claimed, waited = threading.Event(), []

    def other_transaction():
        try:
            with transaction.atomic():
                Remedy.objects.create(case=case, customer=case.customer, kind="discount", amount=proposal.cost,
                                      currency="EUR", rationale="applied by the other transaction",
                                      proposal_key=proposal.key, status="applied")
                claimed.set()
                with connection.cursor() as cursor:  # commit only once our insert waits on the unique index
                    for _ in range(200):
                        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                       "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")
                        if cursor.fetchone()[0]:
                            waited.append(True)
                            break
                        time.sleep(0.05)
        finally:
            connection.close()

    thread = threading.Thread(target=other_transaction)
    thread.start()
    assert claimed.wait(timeout=10)
    # when this transaction applies the same proposal (it cannot see the uncommitted row, so it inserts too)
    remedy = remedy_apply(case=case, proposal=proposal, by=None)
    thread.join(timeout=30)
    # then it waited on the unique key, lost, and returned the other transaction's remedy without doing the work
    assert waited == [True]
    assert remedy.rationale == "applied by the other transaction"
    assert Remedy.objects.filter(case=case).count() == 1
    assert not Voucher.objects.filter(code__startswith=f"CREDIT-{case.pk}-").exists()
    assert not case.events.filter(kind=CaseEventKind.REMEDY_APPLIED).exists()


@pytest.mark.django_db
def test_a_proposal_sent_back_as_a_dict_is_applied(late_case, agent):
    remedy = remedy_apply(case=late_case, proposal=late_discount(late_case).as_dict(), by=agent)
    assert remedy.kind == "discount" and remedy.amount == Decimal("4.00")
    with pytest.raises(ValidationError) as raised:
        remedy_apply(case=late_case, proposal={"kind": "refund"}, by=agent)
    assert "proposal" in raised.value.message_dict


@pytest.mark.django_db
def test_someone_without_a_role_cannot_apply(late_case):
    from tests.factories import UserFactory

    with pytest.raises(PermissionDenied):
        remedy_apply(case=late_case, proposal=late_discount(late_case), by=UserFactory(username="visitor"))
    assert not Remedy.objects.exists()


@pytest.mark.django_db
def test_replay_of_an_unknown_version_or_backwards_range_is_a_clear_error(policy):
    from datetime import date

    from policies.services import policy_replay

    with pytest.raises(ValidationError) as unknown:
        policy_replay(version=42, date_from=date(2026, 1, 1), date_to=date(2026, 2, 1))
    assert "no policy version 42" in unknown.value.message_dict["version"][0]
    with pytest.raises(ValidationError) as backwards:
        policy_replay(version=1, date_from=date(2026, 2, 1), date_to=date(2026, 1, 1))
    assert "date_to" in backwards.value.message_dict
