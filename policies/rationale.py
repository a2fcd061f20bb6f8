"""A remedy's rationale in the reader's language.

The engine (policies/engine.py, no Django) returns the rationale as data: the rule id, the facts it quoted with
their values and the remedy with its amount (``Proposal.explanation``, stored on ``Remedy.rationale_data``). Here
it becomes words with gettext (the active language) and Babel (money, dates and numbers per locale); codes reach
the reader only through their translated labels.
"""

from datetime import date
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from caseapp import formatting


def _label(choices, code) -> str:
    return formatting.label(choices, code)


def _money(amount, currency) -> str:
    return "" if amount is None else formatting.money(Decimal(str(amount)), currency)


def _date(value) -> str:
    return "" if not value else formatting.date_long(date.fromisoformat(value))


def _fact(code: str, values: dict, currency: str) -> str:
    from cases.models import CaseCategory
    from orders.models import PaymentMethod, ShipmentStatus

    if code == "customer":
        years = values.get("tenure_years") or 0
        if years >= 1:
            tenure = formatting.years(years)
        else:
            days = values.get("tenure_days") or 0
            tenure = ngettext("%(n)s day", "%(n)s days", days) % {"n": formatting.number(days)}
        orders = values.get("orders") or 0
        text = ngettext("customer for %(tenure)s, %(n)s order", "customer for %(tenure)s, %(n)s orders", orders) % {
            "tenure": tenure, "n": formatting.number(orders)}
        if values.get("lifetime_spend") is not None:
            text += ", " + _("lifetime spend %(amount)s") % {"amount": _money(values["lifetime_spend"], currency)}
        return text
    if code == "remedies_this_year":
        count = values.get("count") or 0
        return ngettext("%(n)s remedy this year", "%(n)s remedies this year", count) % {"n": formatting.number(count)}
    if code == "category":
        return _("case: %(category)s") % {"category": _label(CaseCategory, values.get("category"))}
    if code == "voucher_expired":
        days = values.get("days") or 0
        return ngettext("voucher expired %(n)s day ago", "voucher expired %(n)s days ago", days) % {
            "n": formatting.number(days)}
    if code == "voucher_valid_until":
        return _("voucher valid until %(date)s") % {"date": _date(values.get("date"))}
    if code == "voucher_balance":
        return _("voucher balance %(amount)s") % {"amount": _money(values.get("amount"), currency)}
    if code == "validity_rule":
        months = values.get("months") or 0
        return ngettext("issued under a %(n)s-month validity rule", "issued under a %(n)s-month validity rule",
                        months) % {"n": formatting.number(months)}
    if code == "date_critical":
        return _("date-critical order, promised for %(date)s") % {"date": _date(values.get("promised_date"))}
    if code == "expected_late":
        days = values.get("days") or 0
        return ngettext("expected %(n)s day after the promised date", "expected %(n)s days after the promised date",
                        days) % {"n": formatting.number(days)}
    if code == "delivery_late":
        days = values.get("days") or 0
        return ngettext("delivery %(n)s day late", "delivery %(n)s days late", days) % {"n": formatting.number(days)}
    if code == "days_until_promised":
        days = values.get("days") or 0
        return ngettext("%(n)s day left until the promised date", "%(n)s days left until the promised date",
                        days) % {"n": formatting.number(days)}
    if code == "shipment_status":
        status = _label(ShipmentStatus, values.get("status"))
        if values.get("courier"):
            return _("shipment: %(status)s, with %(courier)s") % {"status": status, "courier": values["courier"]}
        return _("shipment: %(status)s") % {"status": status}
    if code == "cod_label":
        return _("COD label %(label)s but %(quoted)s quoted") % {
            "label": _money(values.get("label"), currency), "quoted": _money(values.get("quoted"), currency)}
    if code == "order_total":
        return _("order total %(amount)s") % {"amount": _money(values.get("amount"), currency)}
    if code == "payment_method":
        return _("paid by: %(method)s") % {"method": _label(PaymentMethod, values.get("method"))}
    return ""


def _remedy(data: dict) -> str:
    from policies.selectors import budget_label

    kind, parameters, currency = data.get("kind"), data.get("parameters") or {}, data.get("currency") or ""
    money = _money(data.get("amount"), currency)
    budget = budget_label(data.get("budget"))
    courier = data.get("courier")
    if kind == "extend_voucher":
        days = parameters.get("days") or 0
        text = ngettext("extend by %(n)s day (to %(date)s)", "extend by %(n)s days (to %(date)s)", days) % {
            "n": formatting.number(days), "date": _date(parameters.get("new_valid_until"))}
    elif kind == "discount":
        values = {"amount": money, "percent": formatting.percent(parameters.get("percent"))}
        if parameters.get("given_as") == "voucher":
            text = (_("%(percent)s discount of %(amount)s as a credit voucher") if "percent" in parameters
                    else _("discount of %(amount)s as a credit voucher")) % values
        else:
            text = (_("%(percent)s discount of %(amount)s as a refund") if "percent" in parameters
                    else _("discount of %(amount)s as a refund")) % values
    elif kind == "refund":
        text = _("refund %(amount)s, booked to the budget “%(budget)s”") % {"amount": money, "budget": budget}
        if courier:
            text += ", " + _("recoverable from %(courier)s") % {"courier": courier}
    elif kind == "replacement":
        text = _("replacement shipment at the shop's cost (about %(amount)s), booked to the budget “%(budget)s”") % {
            "amount": money, "budget": budget}
    elif kind == "absorb_cost":
        text = _("absorb up to %(amount)s, booked to the budget “%(budget)s”") % {"amount": money, "budget": budget}
        if courier:
            text += ", " + _("recoverable from %(courier)s") % {"courier": courier}
    elif kind == "correct_cod":
        hours = parameters.get("due_hours") or 0
        values = {"courier": courier or _("the courier"), "n": formatting.number(hours),
                  "amount": _money(parameters.get("target_amount"), currency)}
        text = ngettext("have %(courier)s correct the COD label to %(amount)s within %(n)s hour",
                        "have %(courier)s correct the COD label to %(amount)s within %(n)s hours", hours) % values
    elif kind == "free_item":
        text = _("free item worth %(amount)s") % {"amount": money}
    else:  # callback
        hours = parameters.get("due_hours") or 0
        text = ngettext("call the customer back within %(n)s hour", "call the customer back within %(n)s hours",
                        hours) % {"n": formatting.number(hours)}
    capped = data.get("capped_by")
    if capped == "case":
        text += " " + _("(capped by the limit per case)")
    elif capped == "customer_year":
        text += " " + _("(capped by the limit per customer per year)")
    return text


def rationale_render(data: dict | None, fallback: str = "") -> str:
    """The rationale in the active language; the stored text when there is no data (e.g. a manager's override)."""
    if data and data.get("override"):
        from policies.models import RemedyKind
        from policies.selectors import budget_label

        text = _("manager override by %(by)s: %(reason)s") % {"by": data.get("by", ""), "reason": data.get("reason", "")}
        if data.get("amount"):
            text += " (" + _("%(kind)s, %(amount)s, booked to the budget “%(budget)s”") % {
                "kind": _label(RemedyKind, data.get("kind")), "amount": _money(data["amount"], data.get("currency")),
                "budget": budget_label(data.get("budget"))} + ")"
        return text
    if not data or "rule" not in data:
        return fallback
    currency = data.get("currency") or ""
    phrases = [text for code, values in data.get("facts") or [] if (text := _fact(code, values or {}, currency))]
    phrases.append(_("rule %(rule)s: %(remedy)s") % {"rule": data["rule"], "remedy": _remedy(data)})
    if data.get("note"):
        phrases.append(_(data["note"]))  # the shipped policy's notes are in the catalogue; others stay as written
    hold = data.get("budget_hold")
    if hold:
        phrases.append(_budget_hold(hold) + ": " + _("needs a manager's approval"))
    elif data.get("needs_approval"):
        phrases.append(_("needs a manager's approval"))
    return "; ".join(phrases)


def _budget_hold(hold: dict) -> str:
    """Why a remedy waits for its budget (policies.services.remedy_budget_check), in the reader's language."""
    from policies.selectors import budget_label

    name = budget_label(hold.get("budget"))
    reason = hold.get("reason")
    if reason == "over_budget":
        currency = hold.get("budget_currency")
        values = {"budget": name, "remaining": _money(hold.get("remaining"), currency),
                  "amount": _money(hold.get("amount"), currency)}
        if hold.get("period") == "quarter":
            return _("it would take the budget “%(budget)s” over its amount (%(remaining)s left of %(amount)s "
                     "this quarter)") % values
        return _("it would take the budget “%(budget)s” over its amount (%(remaining)s left of %(amount)s "
                 "this month)") % values
    if reason == "other_currency":
        return _("the budget “%(budget)s” is kept in %(currency)s, so this remedy cannot be counted against it") % {
            "budget": name, "currency": hold.get("budget_currency")}
    if reason == "inactive":
        return _("the budget “%(budget)s” is closed") % {"budget": name}
    return _("there is no budget “%(budget)s”") % {"budget": name}
