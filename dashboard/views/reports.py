"""The remedy report for managers: tables, SVG charts, and a CSV file of every table."""

import csv
from collections import defaultdict
from datetime import date
from decimal import Decimal

from django import forms
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from caseapp import formatting
from caseapp.bounds import BoundedDateField
from cases.models import CaseCategory
from policies.models import RemedyKind

from .. import charts, earned, reports
from ..permissions import manager_required

TABLES = ("kind", "category", "courier", "month", "recoverable", "retention", "claims")


class PeriodForm(forms.Form):
    date_from = BoundedDateField(label=gettext_lazy("From"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}))
    date_to = BoundedDateField(label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end of the period comes after its start."))
        return data

    def period(self) -> reports.ReportPeriod:
        default = reports.ReportPeriod.default()
        if not self.is_valid():
            return default
        return reports.ReportPeriod(
            date_from=self.cleaned_data.get("date_from") or default.date_from,
            date_to=self.cleaned_data.get("date_to") or default.date_to,
        )


def _charts_per_currency(rows, *, title, chart_id, kind="bar"):
    """One chart per currency: amounts in different currencies are never drawn on one axis."""
    per_currency: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    keys: dict[str, str] = {}
    for row in rows:
        per_currency[row["currency"]][row["label"]] += row["cost"]
        keys[row["label"]] = str(row["key"])
    drawn = []
    for currency, values in sorted(per_currency.items()):
        items = list(values.items())
        if kind == "bar":
            items.sort(key=lambda item: item[1], reverse=True)
            svg = charts.bar_chart(title=f"{title} ({currency})", rows=items, unit=currency,
                                   chart_id=f"{chart_id}-{currency}")
        else:  # months, in order: "Dec" over "2026" where the year changes
            months = [date.fromisoformat(f"{keys[label]}-01") for label, _ in items]
            ticks = [reports.month_tick(month, with_year=index == 0 or month.year != months[index - 1].year)
                     for index, month in enumerate(months)]
            svg = charts.column_chart(title=f"{title} ({currency})", rows=items, unit=currency,
                                      chart_id=f"{chart_id}-{currency}", ticks=ticks)
        drawn.append(svg)
    return drawn


@manager_required
def remedy_report(request):
    form = PeriodForm(request.GET or None)
    period = form.period()
    tables = {name: reports.cost_by(name, period) for name in ("kind", "category", "courier", "month")}
    recoverable = reports.recoverable_by_courier(period)
    claims = reports.claims_by_courier_and_month(period)
    for row in claims:
        row["recovery_rate_text"] = formatting.percent(row["recovery_rate"]) if row["recovery_rate"] is not None else "—"
    retention = reports.retention_after_remedy(period)
    retention_chart = charts.bar_chart(
        title=_("Ordered again (%)"),
        rows=[  # a group with nobody whose window has passed has no share: left out, not drawn as 0 %
            (label, row[key])
            for row in retention
            for key, label in (
                ("share_90", (_("remedy") if row["got_remedy"] else _("no remedy")) + " · 90 d"),
                ("share_180", (_("remedy") if row["got_remedy"] else _("no remedy")) + " · 180 d"),
            )
            if row[key] is not None
        ],
        unit="%", chart_id="retention",
    )
    context = {
        "form": form,
        "period": period,
        "tables": [
            ("kind", _("Cost by remedy kind"), tables["kind"]),
            ("category", _("Cost by case category"), tables["category"]),
            ("courier", _("Cost by courier"), tables["courier"]),
            ("month", _("Cost by month"), tables["month"]),
        ],
        "totals": reports.totals_by_currency(tables["kind"]),
        "recoverable": recoverable,
        "recoverable_totals": reports.totals_by_currency(recoverable),
        "claims": claims,
        "retention": retention,
        "payments": reports.payments_committed_and_paid(period),
        "awaiting_payment": reports.payments_awaiting(),
        "charts": {
            "kind": _charts_per_currency(tables["kind"], title=_("Cost by remedy kind"), chart_id="kind"),
            "courier": _charts_per_currency(tables["courier"], title=_("Cost by courier"), chart_id="courier"),
            "month": _charts_per_currency(tables["month"], title=_("Cost by month"), chart_id="month",
                                          kind="column"),
            "retention": retention_chart,
        },
        "query": request.GET.urlencode(),
        "earned": earned_context(period),
    }
    return render(request, "dashboard/report.html", context, status=400 if form.is_bound and form.errors else 200)


def _csv_download(request, name: str):
    """The period from the query and a CSV response named after it, or a plain 400 naming what is wrong."""
    form = PeriodForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        errors = " ".join(error for errors in form.errors.values() for error in errors)
        return None, HttpResponseBadRequest(errors, content_type="text/plain; charset=utf-8")
    period = form.period()
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="remedies-{name}-{period.date_from:%Y%m%d}-{period.date_to:%Y%m%d}.csv"'
    )
    return period, response


@manager_required
def remedy_report_csv(request, table):
    if table not in TABLES:
        raise Http404("No such table.")
    period, response = _csv_download(request, table)
    if period is None:
        return response
    writer = csv.writer(response)
    if table == "retention":
        writer.writerow(["group", "customers", "eligible_90", "returned_90", "share_90_percent", "eligible_180",
                         "returned_180", "share_180_percent"])
        for row in reports.retention_after_remedy(period):
            writer.writerow([
                "remedy" if row["got_remedy"] else "no_remedy", row["customers"], row["eligible_90"],
                row["returned_90"], row["share_90"] if row["share_90"] is not None else "", row["eligible_180"],
                row["returned_180"], row["share_180"] if row["share_180"] is not None else "",
            ])
    elif table == "claims":
        writer.writerow(["courier", "month", "currency", "remedies", "absorbed", "claimed", "recovered",
                         "written_off", "recovery_rate_percent"])
        for row in reports.claims_by_courier_and_month(period):
            writer.writerow([row["courier"], row["month"], row["currency"], row["remedies"], f"{row['absorbed']:.2f}",
                             f"{row['claimed']:.2f}", f"{row['recovered']:.2f}", f"{row['written_off']:.2f}",
                             "" if row["recovery_rate"] is None else row["recovery_rate"]])
    elif table == "recoverable":
        writer.writerow(["courier", "currency", "remedies", "cost"])
        for row in reports.recoverable_by_courier(period):
            writer.writerow([row["label"], row["currency"], row["count"], f"{row['cost']:.2f}"])
    else:
        writer.writerow([table, "currency", "budget", "remedies", "cost"])
        for row in reports.cost_by(table, period):
            writer.writerow([row["key"], row["currency"], row["budget"], row["count"], f"{row['cost']:.2f}"])
    return response


# --- What remedies earned back (dashboard/earned.py) ---------------------------------------------------------

def _earned_label(kind: str, label: str) -> str:
    if kind == "kind":
        return formatting.label(RemedyKind, label)
    if kind == "courier":
        return label or _("no courier")
    return label


def _earned_windows(row) -> list[dict]:
    windows = []
    for window in earned.WINDOWS_DAYS:
        data = earned.window_data(row.estimates[window])
        status = data["status"]
        data["status_label"] = earned.STATUS_LABELS[status]() if status in earned.STATUS_LABELS else ""
        for name in ("revenue", "revenue_per_customer", "comparable_revenue_per_customer", "revenue_kept",
                     "remedy_cost", "cost_per_customer_kept"):
            data[f"{name}_text"] = earned.money_list({item["currency"]: item["amount"] for item in data[name]})
        data["share_text"] = formatting.percent(data["share_percent"])
        data["comparable_share_text"] = formatting.percent(data["comparable_share_percent"])
        points = data["difference_points"]
        data["points_text"] = "" if points is None else ("+" if points > 0 else "") + formatting.number(points)
        data["kept_text"] = formatting.number(data["customers_kept"])
        windows.append(data)
    return windows


def earned_context(period) -> dict:
    """What the report's "What remedies earned back" section (_report_earned.html) shows."""
    report = earned.remedies_earned(period)
    categories = dict(CaseCategory.choices)

    def rows(source, kind):
        return [{"month": earned.month_long(row.month) if row.month else "",
                 "category": str(categories.get(row.category, row.category)) if row.category else "",
                 "label": _earned_label(kind, row.label), "windows": _earned_windows(row)} for row in source]

    window = earned.SENTENCE_WINDOW_DAYS

    def share_bars(source, label_of):
        bars = []
        for row in source:
            estimate = row.estimates[window]
            if estimate.is_known:
                label = label_of(row)
                bars += [(f"{label} · {_('remedy')}", estimate.share),
                         (f"{label} · {_('comparable')}", estimate.comparable_share)]
        return bars

    title = _("Came back within %(days)s days (%%)") % {"days": window}
    return {
        "sentence": earned.sentence(report),
        "cohorts": rows(report.cohorts, "cohort"),
        "by_month": rows(report.by_month, "month"),
        "by_kind": rows(report.by_kind, "kind"),
        "by_courier": rows(report.by_courier, "courier"),
        "charts": [
            charts.bar_chart(title=f"{title}: {_('per month')}", unit="%", chart_id="earned-month",
                             rows=share_bars(report.by_month, lambda row: earned.month_long(row.month))),
            charts.bar_chart(title=f"{title}: {_('per remedy kind')}", unit="%", chart_id="earned-kind",
                             rows=share_bars(report.by_kind, lambda row: _earned_label("kind", row.label))),
        ],
    }


@manager_required
def remedy_report_earned_csv(request):
    period, response = _csv_download(request, "earned")
    if period is None:
        return response
    writer = csv.writer(response)
    writer.writerow(earned.CSV_HEADER)
    writer.writerows(earned.csv_rows(earned.remedies_earned(period)))
    return response
