"""The remedy report: cost per kind, category, courier and month, per currency and budget; recoverable from
couriers; retention after a remedy; SVG charts; CSV of every table."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard import reports
from tests.dashboard.conftest import make_remedy
from tests.factories import CaseFactory, CourierFactory, CustomerFactory, OrderFactory, ShipmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger():
    """Remedies in two currencies, one recoverable from a courier, plus a rejected one that costs nothing."""
    courier = CourierFactory(name="SlowPost")
    order = OrderFactory(currency="RUB")
    shipment = ShipmentFactory(order=order, courier=courier)
    late = CaseFactory(customer=order.customer, order=order, shipment=shipment, category="late_delivery")
    make_remedy(case=late, kind="absorb_cost", amount="15000.00", currency="RUB", budget="marketing",
                recoverable_from=courier)
    make_remedy(case=late, kind="refund", amount="500.00", currency="RUB", budget="customer_care")
    voucher_case = CaseFactory(category="voucher_expired")
    make_remedy(case=voucher_case, kind="discount", amount="20.00", currency="EUR")
    make_remedy(case=voucher_case, kind="discount", amount="5.00", currency="EUR")
    make_remedy(case=voucher_case, kind="refund", amount="999.00", currency="EUR", status="rejected")
    return courier


def test_cost_by_kind_is_per_currency_and_budget(ledger):
    # when
    rows = reports.cost_by("kind", reports.ReportPeriod.default())
    # then
    found = {(r["key"], r["currency"], r["budget"]): (r["count"], r["cost"]) for r in rows}
    assert found == {
        ("absorb_cost", "RUB", "marketing"): (1, Decimal("15000.00")),
        ("refund", "RUB", "customer_care"): (1, Decimal("500.00")),
        ("discount", "EUR", "customer_care"): (2, Decimal("25.00")),
    }


def test_cost_by_category_courier_and_month(ledger):
    period = reports.ReportPeriod.default()
    by_category = {}
    for r in reports.cost_by("category", period):  # one row per budget: add them up per category and currency
        by_category[(r["key"], r["currency"])] = by_category.get((r["key"], r["currency"]), 0) + r["cost"]
    assert by_category[("late_delivery", "RUB")] == Decimal("15000.00") + Decimal("500.00")
    assert by_category[("voucher_expired", "EUR")] == Decimal("25.00")
    by_courier = {}
    for r in reports.cost_by("courier", period):
        by_courier[(r["key"], r["currency"])] = by_courier.get((r["key"], r["currency"]), 0) + r["cost"]
    assert by_courier[("SlowPost", "RUB")] == Decimal("15500.00")
    assert by_courier[(reports.NO_COURIER, "EUR")] == Decimal("25.00")
    months = reports.cost_by("month", period)
    assert {r["key"] for r in months} == {timezone.localtime().strftime("%Y-%m")}


def test_recoverable_from_couriers(ledger):
    rows = reports.recoverable_by_courier(reports.ReportPeriod.default())
    assert rows == [{"label": "SlowPost", "currency": "RUB", "count": 1, "cost": Decimal("15000.00")}]


def test_period_excludes_older_remedies(ledger):
    # given a remedy applied two years ago
    old_case = CaseFactory(arrived_at=timezone.now() - timedelta(days=800))
    make_remedy(case=old_case, amount="77.00", applied_at=timezone.now() - timedelta(days=790))
    # then it is outside the default (last 365 days) period
    rows = reports.cost_by("kind", reports.ReportPeriod.default())
    assert Decimal("77.00") not in [r["cost"] for r in rows]


def test_retention_compares_customers_with_and_without_a_remedy():
    # given: cases 200 days ago; two customers got a remedy, one of them ordered again 30 days later;
    # two customers had a case without a remedy, neither ordered again; one recent case is not yet countable
    now = timezone.now()
    then = now - timedelta(days=200)
    remedied_back, remedied_gone, plain_a, plain_b = (CustomerFactory() for _ in range(4))
    for customer in (remedied_back, remedied_gone):
        case = CaseFactory(customer=customer, arrived_at=then)
        make_remedy(case=case, applied_at=then)
    OrderFactory(customer=remedied_back, placed_at=then + timedelta(days=30))
    OrderFactory(customer=remedied_gone, placed_at=then - timedelta(days=30))  # before: does not count
    CaseFactory(customer=plain_a, arrived_at=then)
    CaseFactory(customer=plain_b, arrived_at=then)
    OrderFactory(customer=plain_b, placed_at=then + timedelta(days=170))  # within 180, not within 90
    CaseFactory(arrived_at=now - timedelta(days=10))  # too recent to count in any window
    # when
    rows = reports.retention_after_remedy(reports.ReportPeriod.default(), now=now)
    # then
    remedy, no_remedy = rows
    assert remedy["got_remedy"] and not no_remedy["got_remedy"]
    assert (remedy["customers"], remedy["eligible_90"], remedy["returned_90"]) == (2, 2, 1)
    assert remedy["share_90"] == Decimal("50.0") and remedy["share_180"] == Decimal("50.0")
    assert (no_remedy["customers"], no_remedy["eligible_90"], no_remedy["eligible_180"]) == (3, 2, 2)
    assert no_remedy["share_90"] == Decimal("0.0")
    assert no_remedy["share_180"] == Decimal("50.0")


def test_report_page_draws_charts_and_tables(manager_client, ledger):
    # when
    response = manager_client.get(reverse("dashboard:remedy_report"))
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("<svg") >= 4
    assert "Cost by remedy kind (RUB)" in html and "Cost by remedy kind (EUR)" in html
    assert "15,000.00 RUB" in html
    assert "SlowPost" in html
    assert "999.00" not in html  # rejected remedies cost nothing


def test_report_period_form_rejects_reversed_dates(manager_client, ledger):
    response = manager_client.get(reverse("dashboard:remedy_report"),
                                  {"date_from": "2026-05-01", "date_to": "2026-01-01"})
    assert "The end of the period comes after its start." in response.content.decode()


@pytest.mark.parametrize("table", ["kind", "category", "courier", "month", "recoverable", "retention"])
def test_every_table_exports_as_csv(manager_client, ledger, table):
    # when
    response = manager_client.get(reverse("dashboard:remedy_report_csv", args=[table]))
    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert len(rows) >= 2
    if table == "kind":
        assert ["absorb_cost", "RUB", "marketing", "1", "15000.00"] in rows


def test_unknown_csv_table_is_not_found(manager_client):
    assert manager_client.get(reverse("dashboard:remedy_report_csv", args=["secrets"])).status_code == 404


def test_agent_cannot_download_the_report(agent_client):
    assert agent_client.get(reverse("dashboard:remedy_report_csv", args=["kind"])).status_code == 403


@pytest.mark.parametrize("language, month", [("en", "Dec 2026"), ("ro", "dec. 2026"), ("ru", "дек. 2026"),
                                             ("it", "dic 2026")])
def test_month_rows_read_as_months_in_the_readers_language(manager_client, language, month):
    # given a remedy applied in December 2026
    from datetime import datetime

    applied = timezone.make_aware(datetime(2026, 12, 1, 12))
    make_remedy(case=CaseFactory(arrived_at=applied), applied_at=applied)
    manager_client.post(reverse("set_language"), {"language": language, "next": "/"})
    # when
    response = manager_client.get(reverse("dashboard:remedy_report"),
                                  {"date_from": "2026-01-01", "date_to": "2026-12-31"})
    # then the table and the chart say the month as a reader would, never "26-12"
    html = response.content.decode()
    table = html.split('id="table-month"')[1].split("</table>")[0]
    chart = html.split('aria-labelledby="month-')[1].split("</svg>")[0]
    assert f"<td>{month}" in table and month in chart
    assert "26-12" not in table + chart
    # and the CSV keeps the sortable key
    rows = list(csv.reader(io.StringIO(
        manager_client.get(reverse("dashboard:remedy_report_csv", args=["month"]),
                           {"date_from": "2026-01-01", "date_to": "2026-12-31"}).content.decode())))
    assert rows[1][0] == "2026-12"


def test_month_chart_shows_the_year_under_its_first_month():
    # given two months of the same year, then a new year
    from datetime import date

    from dashboard import charts

    ticks = [reports.month_tick(date(2026, 11, 1), with_year=True), reports.month_tick(date(2026, 12, 1), with_year=False),
             reports.month_tick(date(2027, 1, 1), with_year=True)]
    # when
    svg = charts.column_chart(title="Cost", rows=[("Nov 2026", 1), ("Dec 2026", 2), ("Jan 2027", 3)], ticks=ticks)
    # then
    assert ">Nov<" in svg and ">Dec<" in svg and ">Jan<" in svg
    assert svg.count(">2026<") == 1 and svg.count(">2027<") == 1


def test_a_chart_without_data_says_so_instead_of_zero_percent(manager_client):
    # given no case and no remedy at all
    # when
    html = manager_client.get(reverse("dashboard:remedy_report")).content.decode()
    # then the retention chart says there is nothing to show, and draws no 0.00 %
    retention_chart = html.split('aria-labelledby="retention-t')[1].split("</svg>")[0]
    assert "No data for this period." in retention_chart
    assert "0.00" not in retention_chart and "<rect" not in retention_chart


def test_a_group_without_a_countable_customer_is_left_out_of_the_chart(manager_client):
    # given one customer with a recent case (too recent for any window) and none with a remedy
    CaseFactory(arrived_at=timezone.now() - timedelta(days=5))
    # when
    html = manager_client.get(reverse("dashboard:remedy_report")).content.decode()
    # then nothing is drawn as 0.00 %
    retention_chart = html.split('aria-labelledby="retention-t')[1].split("</svg>")[0]
    assert "0.00" not in retention_chart
    assert "No data for this period." in retention_chart
