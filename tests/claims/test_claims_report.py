"""The remedy report's claims table, on hand-made data where the right answer is known."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from claims.services import (
    claim_accept,
    claim_file,
    claim_open_for_remedy,
    claim_pay,
    claim_reject,
    claim_write_off,
)
from dashboard import reports
from policies.models import Remedy, RemedyStatus
from tests.factories import CaseFactory, CourierFactory

pytestmark = pytest.mark.django_db


def remedy(case, courier, amount, currency, applied_on, status=RemedyStatus.APPLIED):
    return Remedy.objects.create(
        case=case, customer=case.customer, kind="refund", amount=Decimal(amount), currency=currency,
        budget="logistics", rule_id="hand-made", rationale="hand-made", proposal_key=f"hand/{Remedy.objects.count()}",
        status=status, recoverable_from=courier,
        applied_at=timezone.make_aware(datetime.combine(applied_on, time(12))) if status == "applied" else None,
    )


@pytest.fixture
def figures(manager):
    today = timezone.localdate()
    this_month = today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=10)
    slow, far = CourierFactory(name="SlowPost"), CourierFactory(name="FarPost")
    case = CaseFactory()

    def claim(*args):
        return claim_open_for_remedy(remedy(case, *args))

    paid = claim(slow, "100.00", "EUR", last_month)
    claim_file(claim=paid, by=manager, reference="S-1")
    claim_accept(claim=paid, by=manager)
    claim_pay(claim=paid, by=manager, recovered="60.00")
    refused = claim(slow, "50.00", "EUR", last_month)
    claim_file(claim=refused, by=manager, reference="S-2")
    claim_reject(claim=refused, by=manager, reason="Not insured")
    claim_write_off(claim=refused, by=manager, reason="Gave up")
    claim(slow, "30.00", "EUR", this_month)  # still to file
    full = claim(far, "15000.00", "RUB", this_month)
    claim_file(claim=full, by=manager, reference="F-1")
    claim_accept(claim=full, by=manager)
    claim_pay(claim=full, by=manager, recovered="15000.00")
    remedy(case, None, "999.00", "EUR", this_month)  # nobody to claim from
    remedy(case, slow, "777.00", "EUR", this_month, status=RemedyStatus.PENDING_APPROVAL)  # not applied
    return last_month, this_month


def test_absorbed_claimed_recovered_written_off_and_rate_per_courier_and_month(figures, django_assert_num_queries):
    last_month, this_month = figures
    with django_assert_num_queries(1):
        rows = reports.claims_by_courier_and_month(reports.ReportPeriod.default())
    got = [(r["courier"], r["month"], r["currency"], r["absorbed"], r["claimed"], r["recovered"], r["written_off"],
            r["recovery_rate"]) for r in rows]
    d = Decimal
    assert got == [
        ("FarPost", f"{this_month:%Y-%m}", "RUB", d("15000.00"), d("15000.00"), d("15000.00"), d("0.00"), d("100.0")),
        ("SlowPost", f"{last_month:%Y-%m}", "EUR", d("150.00"), d("150.00"), d("60.00"), d("90.00"), d("40.0")),
        ("SlowPost", f"{this_month:%Y-%m}", "EUR", d("30.00"), d("0.00"), d("0.00"), d("0.00"), None),
    ]


def test_the_report_page_and_its_csv_show_the_claims(figures, client, manager):
    client.force_login(manager)
    page = client.get(reverse("dashboard:remedy_report")).content.decode()
    assert 'id="claims"' in page and "60.00\xa0EUR" in page and "40%" in page
    csv_text = client.get(reverse("dashboard:remedy_report_csv", args=["claims"])).content.decode()
    assert "SlowPost" in csv_text and ",150.00,150.00,60.00,90.00,40.0" in csv_text
    client.cookies["django_language"] = "ru"
    page_ru = client.get(reverse("dashboard:remedy_report"), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "15\xa0000,00\xa0RUB" in page_ru
