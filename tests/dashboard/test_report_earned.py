"""What remedies earned back: cohorts per month and case category, customers with a remedy against comparable
customers without one, on hand-made data where the right answer is known."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from dashboard import earned, reports
from orders.models import Order
from tests.dashboard.conftest import bulk_cases, make_remedy
from tests.factories import CaseFactory, CourierFactory, CustomerFactory, OrderFactory, ShipmentFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()
T_A = NOW - timedelta(days=250)  # both windows have passed
T_C = NOW - timedelta(days=120)  # 90 days have passed, 180 not
T_B = NOW - timedelta(days=40)  # no window has passed


def _month(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m")


@pytest.fixture
def shop():
    """Month A (late deliveries): r1 (discount 20 EUR, SlowPost) came back, r2 (refund 30 EUR) did not; c1, c2,
    c3 had a case without a remedy; x got a remedy on a voucher case that month, so is not comparable. c2 got a
    remedy in month C (in both cohorts across months). Month B is too recent for any window."""
    slow = CourierFactory(name="SlowPost")
    r1, r2, c1, c2, c3, x, c4, r5, c5 = (CustomerFactory() for _ in range(9))
    shipment = ShipmentFactory(order=OrderFactory(customer=r1, placed_at=T_A - timedelta(days=3)), courier=slow)
    case = CaseFactory(customer=r1, category="late_delivery", arrived_at=T_A, shipment=shipment)
    make_remedy(case=case, kind="discount", amount="20.00", currency="EUR", applied_at=T_A)
    OrderFactory(customer=r1, placed_at=T_A + timedelta(days=30), total=Decimal("100.00"), currency="RON")
    OrderFactory(customer=r1, placed_at=T_A + timedelta(days=120), total=Decimal("200.00"), currency="EUR")
    case = CaseFactory(customer=r2, category="late_delivery", arrived_at=T_A)
    make_remedy(case=case, kind="refund", amount="30.00", currency="EUR", applied_at=T_A)
    OrderFactory(customer=r2, placed_at=T_A + timedelta(days=20), status="refunded")  # not a purchase
    for customer in (c1, c2, c3):
        CaseFactory(customer=customer, category="late_delivery", arrived_at=T_A)
    OrderFactory(customer=c1, placed_at=T_A + timedelta(days=10), total=Decimal("50.00"), currency="RON")
    OrderFactory(customer=c3, placed_at=T_A - timedelta(days=10), total=Decimal("999.00"))  # before the case
    CaseFactory(customer=x, category="late_delivery", arrived_at=T_A)
    make_remedy(case=CaseFactory(customer=x, category="voucher_expired", arrived_at=T_A), kind="extend_voucher",
                amount="10.00", currency="EUR", applied_at=T_A)
    OrderFactory(customer=x, placed_at=T_A + timedelta(days=5), total=Decimal("1000.00"), currency="RON")
    # month C: c2 receives a remedy and comes back; c4 does not
    make_remedy(case=CaseFactory(customer=c2, category="late_delivery", arrived_at=T_C), kind="absorb_cost",
                amount="40.00", currency="RON", applied_at=T_C, recoverable_from=slow)
    OrderFactory(customer=c2, placed_at=T_C + timedelta(days=10), total=Decimal("80.00"), currency="RON")
    CaseFactory(customer=c4, category="late_delivery", arrived_at=T_C)
    # month B: nothing known yet
    make_remedy(case=CaseFactory(customer=r5, category="late_delivery", arrived_at=T_B), amount="7.00",
                currency="EUR", applied_at=T_B)
    OrderFactory(customer=r5, placed_at=T_B + timedelta(days=5), total=Decimal("70.00"), currency="EUR")
    CaseFactory(customer=c5, category="late_delivery", arrived_at=T_B)


def _report(**kwargs):
    return earned.remedies_earned(reports.ReportPeriod.default(), now=NOW, **kwargs)


def _cohort(report, moment, category):
    [row] = [row for row in report.cohorts if row.month == _month(moment) and row.category == category]
    return row.estimates


def test_a_cohort_is_compared_with_comparable_customers_of_its_month_and_category(shop):
    # when
    estimates = _cohort(_report(), T_A, "late_delivery")
    # then within 90 days: 1 of 2 with a remedy came back, 1 of 3 comparable ones (x is not comparable: he got a
    # remedy that month; c3's order came before the case)
    w90 = estimates[90]
    assert w90.status == earned.KNOWN
    assert (w90.customers, w90.returned, w90.comparable_customers) == (2, 1, 3)
    assert w90.share == Decimal("50.0") and w90.comparable_share == Decimal("33.3")
    assert w90.difference_points == Decimal("16.7") and w90.customers_kept == Decimal("0.3")
    assert w90.revenue_total == {"RON": Decimal("100.00")}
    assert w90.revenue_kept == {"RON": Decimal("66.67")}  # 100 − 2 × 50 / 3
    assert w90.cost_total == {"EUR": Decimal("50.00")}
    assert w90.cost_per_customer_kept == {"EUR": Decimal("150.00")}  # 50 EUR for a third of a customer
    # and within 180 days: the EUR order counts, and c2's order after her month-C case counts for month A too
    w180 = estimates[180]
    assert w180.revenue_total == {"EUR": Decimal("200.00"), "RON": Decimal("100.00")}  # never added together
    assert (w180.returned, w180.comparable_share) == (1, Decimal("66.7"))
    assert w180.customers_kept == Decimal("-0.3") and w180.cost_per_customer_kept == {}  # nobody kept
    assert w180.revenue_kept == {"EUR": Decimal("200.00"), "RON": Decimal("13.33")}


def test_a_customer_counts_in_both_cohorts_across_months_and_unelapsed_windows_are_not_yet_known(shop):
    report = _report()
    month_c = _cohort(report, T_C, "late_delivery")
    assert month_c[90].status == earned.KNOWN
    assert (month_c[90].customers, month_c[90].returned, month_c[90].comparable_share) == (1, 1, Decimal("0.0"))
    assert month_c[180].status == earned.NOT_YET_KNOWN
    month_b = _cohort(report, T_B, "late_delivery")
    assert {month_b[90].status, month_b[180].status} == {earned.NOT_YET_KNOWN}
    assert earned.window_data(month_b[90])["came_back"] is None  # not a zero
    assert earned.window_data(month_b[90])["revenue"] == []
    # a voucher cohort with nobody to compare with
    assert _cohort(report, T_A, "voucher_expired")[90].status == earned.NO_COMPARABLE


def test_per_remedy_kind_and_courier(shop):
    report = _report()
    kinds = {row.label: row.estimates[90] for row in report.by_kind}
    assert kinds["discount"].customers_kept == Decimal("0.7")  # 1 − 1/3
    assert kinds["discount"].cost_per_customer_kept == {"EUR": Decimal("30.00")}
    assert kinds["refund"].customers_kept == Decimal("-0.3")
    assert kinds["extend_voucher"].status == earned.NO_COMPARABLE
    couriers = {row.label: row.estimates[90] for row in report.by_courier}
    # SlowPost: r1 (month A, shipment) and c2 (month C, recoverable from): 2 came back, 1/3 + 0 expected
    assert (couriers["SlowPost"].customers, couriers["SlowPost"].returned) == (2, 2)
    assert couriers["SlowPost"].customers_kept == Decimal("1.7")
    assert couriers["SlowPost"].cost_total == {"EUR": Decimal("20.00"), "RON": Decimal("40.00")}


def test_the_figures_take_one_query_whatever_the_size(shop, django_assert_num_queries):
    with django_assert_num_queries(1):
        _report()
    for _ in range(5):  # more customers, cases, remedies and orders: still one query
        customer = CustomerFactory()
        make_remedy(case=CaseFactory(customer=customer, category="late_delivery", arrived_at=T_A), applied_at=T_A)
        OrderFactory(customer=customer, placed_at=T_A + timedelta(days=3))
    with django_assert_num_queries(1):
        _report()


@pytest.mark.parametrize("language, expected", [
    ("en", "In {month}, 40.00 RON of remedies; customers who received one came back 100 points more often and "
           "spent 80.00 RON in 90 days."),
    ("ro", "În {month}, 40,00 RON pentru remedii; clienții care au primit unul au revenit cu 100 de puncte mai des "
           "și au cheltuit 80,00 RON în 90 de zile."),
    ("ru", "За {month} на компенсации ушло 40,00 RON; клиенты, получившие компенсацию, возвращались на 100 пунктов "
           "чаще и потратили 80,00 RON за 90 дней."),
    ("it", "A {month}, 40,00 RON di rimedi; i clienti che ne hanno ricevuto uno sono tornati 100 punti più spesso e "
           "hanno speso 80,00 RON in 90 giorni."),
])
def test_the_sentence_in_four_languages(shop, language, expected):
    # given the shop: month C is the latest month whose 90 days have passed (c2 came back, c4 did not)
    report = _report()
    # when
    with translation.override(language):
        text, month = earned.sentence(report), earned.month_long(_month(T_C))
    # then
    assert text.replace("\xa0", " ") == expected.format(month=month)


@pytest.mark.parametrize("language, points, expected", [
    ("en", 1, "1 point more often"), ("ro", 1, "1 punct mai des"), ("ro", 3, "3 puncte mai des"),
    ("ro", 25, "25 de puncte mai des"), ("ru", 1, "1 пункт чаще"), ("ru", 3, "3 пункта чаще"),
    ("ru", 5, "5 пунктов чаще"), ("it", 1, "1 punto più spesso"), ("it", 3, "3 punti più spesso"),
])
def test_the_sentence_says_points_with_the_plural_of_the_language(language, points, expected):
    # given one customer with a remedy who came back, and 100 comparable ones of whom 100 − points came back
    then = T_A.replace(day=15, hour=12)
    customer = CustomerFactory()
    make_remedy(case=CaseFactory(customer=customer, arrived_at=then), amount="5.00", currency="EUR", applied_at=then)
    OrderFactory(customer=customer, placed_at=then + timedelta(days=3))
    comparable = bulk_cases(100, start=then)
    Order.objects.bulk_create(
        Order(number=f"BULK-{i}", customer_id=case.customer_id, placed_at=then + timedelta(days=3), currency="EUR",
              total=Decimal("10.00"), payment_method="card")
        for i, case in enumerate(comparable[points:]))
    # when
    with translation.override(language):
        text = earned.sentence(_report())
    # then
    assert expected in text.replace("\xa0", " ")


def test_the_sentence_plural_and_not_yet_known():
    now = NOW
    customer, other = CustomerFactory(), CustomerFactory()
    make_remedy(case=CaseFactory(customer=customer, arrived_at=T_B), amount="12.00", currency="RON", applied_at=T_B)
    CaseFactory(customer=other, arrived_at=T_B)
    report = earned.remedies_earned(reports.ReportPeriod.default(), now=now)
    with translation.override("en"):
        assert earned.sentence(report).replace("\xa0", " ") == (
            f"In {earned.month_long(_month(T_B))}, 12.00 RON of remedies; whether the customers came back is not "
            "yet known (90 days have not passed since every case).")
    with translation.override("en"):
        assert earned.sentence(earned.remedies_earned(reports.ReportPeriod.default(NOW.date() - timedelta(
            days=800)), now=now)) == "No remedy applied in this period."


def test_the_report_page_shows_the_section_and_the_csv(manager_client, shop):
    # when
    html = manager_client.get(reverse("dashboard:remedy_report")).content.decode()
    # then the sentence is at the top, before the cost tables
    assert html.index('id="earned-sentence"') < html.index('id="totals"')
    assert "came back 100 points more often" in html
    assert "not yet known" in html
    assert 'aria-labelledby="earned-month-t' in html
    # and the CSV holds one line per cohort, window and currency
    response = manager_client.get(reverse("dashboard:remedy_report_earned_csv"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    a180 = [row for row in rows if row["month"] == _month(T_A) and row["category"] == "late_delivery"
            and row["window_days"] == "180"]
    assert {row["currency"]: row["revenue_with_remedy"] for row in a180} == {"EUR": "200.00", "RON": "100.00"}
    assert {row["currency"]: row["remedy_cost"] for row in a180} == {"EUR": "50.00", "RON": ""}
    assert a180[0]["comparable_share_percent"] == "66.7" and a180[0]["customers_kept"] == "-0.3"
    b90 = [row for row in rows if row["month"] == _month(T_B) and row["window_days"] == "90"]
    assert b90[0]["status"] == "not_yet_known" and b90[0]["came_back_with_remedy"] == ""


def test_the_csv_refuses_a_reversed_period(manager_client):
    response = manager_client.get(reverse("dashboard:remedy_report_earned_csv"),
                                  {"date_from": "2026-05-01", "date_to": "2026-01-01"})
    assert response.status_code == 400


def test_agents_cannot_download_it(agent_client):
    assert agent_client.get(reverse("dashboard:remedy_report_earned_csv")).status_code == 403
