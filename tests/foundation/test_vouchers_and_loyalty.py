from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from customers.selectors import customer_loyalty_facts
from tests.factories import CustomerFactory, OrderFactory, ValidityRuleFactory
from vouchers.models import VoucherStatus
from vouchers.selectors import validity_rule_changes
from vouchers.services import add_months, voucher_extend, voucher_issue, voucher_redeem, vouchers_mark_expired

pytestmark = pytest.mark.django_db


def test_add_months_clamps_to_the_end_of_the_month():
    assert add_months(date(2026, 8, 31), -6) == date(2026, 2, 28)
    assert add_months(date(2025, 11, 16), 12) == date(2026, 11, 16)


def test_voucher_takes_the_rule_in_force_and_a_rule_change_is_visible():
    ValidityRuleFactory(code="twelve", validity_months=12, effective_from=date(2020, 1, 1))
    ValidityRuleFactory(code="six", name="6 months", validity_months=6, effective_from=date(2026, 3, 1))
    elena = CustomerFactory()
    old = voucher_issue(code="V1", value="200", currency="RON", holder=elena,
                        issued_at=timezone.make_aware(timezone.datetime(2025, 6, 1, 10)))
    new = voucher_issue(code="V2", value="250", currency="RON", holder=elena,
                        issued_at=timezone.make_aware(timezone.datetime(2026, 5, 16, 10)))
    assert (old.valid_until, new.valid_until) == (date(2026, 6, 1), date(2026, 11, 16))
    assert validity_rule_changes(customer=elena) == [(old, new)]


def test_redeem_refuses_expired_and_overdrawn_and_extension_needs_a_reason(manager):
    ValidityRuleFactory()
    voucher = voucher_issue(code="V3", value="100", currency="EUR", holder=CustomerFactory(),
                            issued_at=timezone.now() - timedelta(days=400))
    with pytest.raises(ValidationError, match="expired"):
        voucher_redeem(voucher=voucher, amount="10")
    assert vouchers_mark_expired() == 1 and vouchers_mark_expired() == 0
    with pytest.raises(ValidationError):
        voucher_extend(voucher=voucher, until=timezone.localdate() + timedelta(days=30), reason=" ", by=manager)
    voucher_extend(voucher=voucher, until=timezone.localdate() + timedelta(days=30),
                   reason="Loyal customer, expired 8 days ago", by=manager)
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.EXTENDED
    with pytest.raises(ValidationError, match="Only 100.00"):
        voucher_redeem(voucher=voucher, amount="150")
    voucher_redeem(voucher=voucher, amount="100")
    voucher.refresh_from_db()
    assert (voucher.balance, voucher.status) == (Decimal("0.00"), VoucherStatus.REDEEMED)


def test_loyalty_facts_are_computed_per_currency_and_ignore_cancelled_orders(django_assert_max_num_queries):
    customer = CustomerFactory(customer_since=timezone.localdate() - timedelta(days=4 * 365))
    OrderFactory.create_batch(3, customer=customer, currency="RON", total="100.00")
    OrderFactory(customer=customer, currency="EUR", total="20.00")
    OrderFactory(customer=customer, currency="EUR", total="999.00", status="cancelled")
    with django_assert_max_num_queries(6):
        facts = customer_loyalty_facts(customer=customer)
    assert facts.order_count == 4
    assert facts.lifetime_spend == {"EUR": Decimal("20.00"), "RON": Decimal("300.00")}
    assert facts.tenure_years == 4.0
    assert facts.case_count == 0 and facts.remedy_count == 0


@pytest.mark.parametrize("zone", ["UTC", "Europe/Bucharest", "America/New_York"])
def test_loyalty_facts_in_one_query_match_the_orms_aggregates(zone, django_assert_num_queries):
    # given a customer with orders either side of midnight and of today, cases, vouchers and remedies in two
    # currencies, some applied last year, some not applied
    from customers.selectors import customer_loyalty_facts_orm
    from policies.models import Remedy
    from tests.factories import CaseFactory, VoucherFactory

    customer = CustomerFactory(customer_since=timezone.localdate() - timedelta(days=900))
    now = timezone.now()
    for days, status, currency in ((400, "delivered", "RON"), (30, "paid", "EUR"), (3, "cancelled", "EUR"),
                                   (0, "placed", "RON"), (-2, "placed", "RON"), (1, "returned", "RON")):
        OrderFactory(customer=customer, placed_at=now - timedelta(days=days, hours=3), status=status,
                     currency=currency, total="12.34")
    VoucherFactory(holder=customer)
    cases = [CaseFactory(customer=customer, status=status) for status in ("new", "waiting_on_shop", "closed")]
    start_of_year = timezone.make_aware(timezone.datetime(now.year, 1, 1, 0, 30))
    for i, (case, status, currency, at) in enumerate((
            (cases[0], "applied", "RON", now), (cases[1], "applied", "EUR", start_of_year),
            (cases[2], "applied", "RON", start_of_year - timedelta(hours=1)), (cases[0], "rejected", "RON", now))):
        Remedy.objects.create(case=case, customer=customer, kind="discount", amount=Decimal("7.50") + i,
                              currency=currency, budget="customer_care", rule_id="r", rationale="Test.", proposal_key=f"k{i}",
                              status=status, proposed_at=at, applied_at=at if status == "applied" else None,
                              decision_reason="" if status == "applied" else "No.")
    other = CustomerFactory()  # another customer's rows count for nothing
    OrderFactory(customer=other)
    CaseFactory(customer=other)
    # when / then: the same facts as the seven ORM queries, in one query, in the reader's time zone too
    with timezone.override(zone):
        expected = customer_loyalty_facts_orm(customer=customer)
        with django_assert_num_queries(1):
            facts = customer_loyalty_facts(customer=customer)
        assert facts == expected
        past = timezone.localdate() - timedelta(days=35)  # a replay asks as of a past day
        assert customer_loyalty_facts(customer=customer, today=past) == customer_loyalty_facts_orm(
            customer=customer, today=past)
    assert facts.order_count == 3 and facts.cancelled_order_count == 1 and facts.open_case_count == 2
