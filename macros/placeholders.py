"""The placeholders a macro's text may use, and the one safe way to fill them.

The syntax is ``{customer_name}``: a name from PLACEHOLDERS in braces, nothing else (no attribute or index
access, no format spec, no conversion), checked when a manager saves the macro and again when it is rendered.
``{{`` and ``}}`` stand for literal braces, as in str.format. Values are formatted for the customer's language
by Babel (caseapp.formatting); a value the case does not have becomes a visible marker such as
``[missing: order number]``, never a crash and never an empty gap the customer would read.
"""

from string import Formatter

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from caseapp import formatting

PLACEHOLDERS = {
    "customer_name": _("customer name"),
    "order_number": _("order number"),
    "voucher_code": _("voucher code"),
    "voucher_expiry": _("voucher expiry"),
    "tracking_number": _("tracking number"),
    "tracking_link": _("tracking link"),
    "remedy": _("remedy just applied"),
    "remedy_amount": _("remedy amount"),
}


class PlaceholderError(ValueError):
    """A text that does not follow the placeholder syntax; ``message`` is for the manager who wrote it."""


def parse(text: str) -> list[tuple[str, str | None]]:
    """The text as (literal, placeholder name or None) pieces; PlaceholderError if it is not well formed."""
    try:
        pieces = list(Formatter().parse(text or ""))
    except ValueError as error:
        raise PlaceholderError(gettext("A brace is not closed or not opened: write {{ and }} for a brace itself."
                                       )) from error
    result = []
    for literal, name, spec, conversion in pieces:
        if name is None:
            result.append((literal, None))
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            raise PlaceholderError(gettext("Unknown placeholder {%(name)s}. Use one of: %(known)s.") % {
                "name": name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else ""),
                "known": ", ".join("{" + known + "}" for known in PLACEHOLDERS)})
        result.append((literal, name))
    return result


def check(text: str) -> None:
    parse(text)


def missing_marker(name: str) -> str:
    return "[%s]" % (gettext("missing: %(placeholder)s") % {"placeholder": PLACEHOLDERS[name]})


def has_missing_marker(text: str) -> bool:
    """Whether the text still holds a marker for a missing value, written in any of caseapp's languages."""
    from customers.models import Language

    text = text or ""
    for language in Language.values:
        with translation.override(language):
            if any(missing_marker(name) in text for name in PLACEHOLDERS):
                return True
    return False


def render(text: str, values: dict) -> tuple[str, list[str]]:
    """The text with its placeholders filled from ``values`` (already formatted strings); returns the text and the
    names that had no value (each left as a marker)."""
    out, missing = [], []
    for literal, name in parse(text):
        out.append(literal)
        if name is None:
            continue
        value = values.get(name)
        if value in (None, ""):
            missing.append(name)
            out.append(missing_marker(name))
        else:
            out.append(str(value))
    return "".join(out), missing


def tracking_link(courier_name: str, tracking_number: str) -> str:
    """The courier's public tracking page for this number, from MACRO_TRACKING_LINKS ({courier: url with
    {tracking_number}}); empty when the courier has none configured."""
    pattern = (getattr(settings, "MACRO_TRACKING_LINKS", None) or {}).get(courier_name or "")
    if not pattern or not tracking_number:
        return ""
    from urllib.parse import quote

    return pattern.replace("{tracking_number}", quote(tracking_number, safe=""))


def case_values(*, case, shipment=None, remedy=None, language: str) -> dict:
    """Each placeholder's value for this case, formatted in ``language`` (money and dates by Babel)."""
    customer = case.customer
    order = case.order if case.order_id else None
    voucher = case.voucher if case.voucher_id else None
    values = {"customer_name": customer.name}
    with translation.override(language):
        if order is not None:
            values["order_number"] = order.number
        if voucher is not None:
            values["voucher_code"] = voucher.code
            values["voucher_expiry"] = formatting.date_long(voucher.valid_until)
        if shipment is not None:
            values["tracking_number"] = shipment.tracking_number
            values["tracking_link"] = tracking_link(shipment.courier.name, shipment.tracking_number)
        if remedy is not None:
            from policies.models import RemedyKind

            values["remedy"] = formatting.label(RemedyKind, remedy.kind)
            if remedy.amount:
                values["remedy_amount"] = formatting.money(remedy.amount, remedy.currency)
    return values
