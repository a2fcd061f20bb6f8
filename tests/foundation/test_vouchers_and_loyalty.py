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
