"""Reads of the audit trail: what changed on a case, its order and its customer, in one query."""

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from django.db import connection
from django.db.models import CharField, F, Value
from django.db.models.functions import JSONObject
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from caseapp import formatting
from cases.models import CaseCategory, CaseStatus
from customers.models import Language
from orders.models import OrderStatus, PaymentMethod

from .models import CaseAudit, CustomerAudit, OrderAudit

CHANGES_SHOWN = 40

# What the panel shows of each snapshot: (field, label, how to read the value). The owner is the owner's name.
_CASE_FIELDS = (
    ("status", gettext_lazy("Status"), CaseStatus),
    ("owner", gettext_lazy("Owner"), None),
    ("category", gettext_lazy("Category"), CaseCategory),
    ("subject", gettext_lazy("Subject"), None),
    ("first_response_due_at", gettext_lazy("First response due"), datetime),
    ("resolution_due_at", gettext_lazy("Resolution due"), datetime),
)
_ORDER_FIELDS = (
    ("status", gettext_lazy("Status"), OrderStatus),
    ("payment_method", gettext_lazy("Payment method"), PaymentMethod),
    ("promised_delivery_date", gettext_lazy("Promised delivery date"), date),
    ("is_date_critical", gettext_lazy("Date-critical"), bool),
    ("occasion", gettext_lazy("Occasion"), None),
    ("shipping_name", gettext_lazy("Ship to"), None),
    ("shipping_street", gettext_lazy("Street"), None),
    ("shipping_city", gettext_lazy("City"), None),
    ("shipping_postcode", gettext_lazy("Postcode"), None),
    ("shipping_country", gettext_lazy("Country"), None),
)
_CUSTOMER_FIELDS = (
    ("name", gettext_lazy("Name"), None),
    ("email", gettext_lazy("Email"), None),
    ("phone", gettext_lazy("Phone"), None),
    ("preferred_language", gettext_lazy("Language"), Language),
    ("country", gettext_lazy("Country"), None),
    ("time_zone", gettext_lazy("Time zone"), None),
)
_WHAT = {
    "case": (gettext_lazy("Case"), _CASE_FIELDS),
    "order": (gettext_lazy("Order"), _ORDER_FIELDS),
    "customer": (gettext_lazy("Customer"), _CUSTOMER_FIELDS),
}
_KINDS = {"insert": gettext_lazy("Created"), "update": gettext_lazy("Changed"), "delete": gettext_lazy("Deleted")}


@dataclass
class Change:
    at: datetime
    what: str  # "Case", translated
    kind: str  # "Created", "Changed", "Deleted", translated
    who: str  # the user's name, or "" when no user made it
    task: str  # the Celery task that made it (shown as "caseapp, on its own"), or ""
    why: str
    fields: list[tuple[str, str, str]] = field(default_factory=list)  # (label, before, after)


def _rows(event_model, obj_id, what, fields):
    data = {name: F("owner__username") if name == "owner" else F(name) for name, _label, _kind in fields}
    return (
        event_model.objects.filter(pgh_obj_id=obj_id)
        .annotate(what=Value(what, output_field=CharField()), data=JSONObject(**data),
                  context=F("pgh_context__metadata"))
        .values("pgh_id", "pgh_created_at", "pgh_label", "what", "data", "context")
    )


def _shown(value, kind) -> str:
    if value in (None, ""):
        return "—"
    if kind is bool:
        return _("yes") if value else _("no")
    if kind is datetime:
        moment = datetime.fromisoformat(str(value))
        return formatting.datetime_short(moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC))
    if kind is date:
        return formatting.date_medium(date.fromisoformat(str(value)[:10]))
    if kind is not None:
        return formatting.label(kind, value)
    return str(value)


def _union(case_id, customer_id, order_id):
    queries = [_rows(CaseAudit, case_id, "case", _CASE_FIELDS), _rows(CustomerAudit, customer_id, "customer",
                                                                      _CUSTOMER_FIELDS)]
    if order_id:
        queries.append(_rows(OrderAudit, order_id, "order", _ORDER_FIELDS))
    return queries[0].union(*queries[1:], all=True)


# The union's SQL on PostgreSQL, built once per process (with and without the order): building it with the ORM
# cost more CPU than running it. The ids are its only parameters that change; the rest are the "what" labels.
_SQL: dict[bool, tuple[str, tuple, tuple]] = {}
_MARKS = (-910_000_001, -910_000_002, -910_000_003)  # stand-ins for the case's, customer's and order's ids


def _sql_rows(case) -> list[dict]:
    with_order = bool(case.order_id)
    known = _SQL.get(with_order)
    if known is None:
        sql, params = _union(*_MARKS[:2], _MARKS[2] if with_order else None).query.sql_with_params()
        slots = tuple(_MARKS.index(param) if param in _MARKS else None for param in params)
        if sorted(slot for slot in slots if slot is not None) != list(range(3 if with_order else 2)):
            return list(_union(case.pk, case.customer_id, case.order_id))  # not the shape expected: the ORM
        known = _SQL[with_order] = (sql, params, slots)
    sql, params, slots = known
    ids = (case.pk, case.customer_id, case.order_id)
    values = [param if slot is None else ids[slot] for param, slot in zip(params, slots, strict=True)]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        columns = [column[0] for column in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:  # the JSON columns come back as text from Django's PostgreSQL connection
        for name in ("data", "context"):
            if isinstance(row[name], str):
                row[name] = json.loads(row[name])
    return rows


def case_changes(*, case, limit: int = CHANGES_SHOWN) -> list[Change]:
    """The recorded changes of the case, its order and its customer, newest first (one query)."""
    if connection.vendor == "postgresql":
        rows = _sql_rows(case)
    else:
        rows = list(_union(case.pk, case.customer_id, case.order_id))
    rows.sort(key=lambda row: (row["pgh_created_at"], row["what"], row["pgh_id"]))
    changes, previous = [], {}
    for row in rows:
        what, fields = _WHAT[row["what"]]
        before = previous.get(row["what"])
        data = row["data"] if isinstance(row["data"], dict) else {}
        changed = [
            (str(label), _shown(before.get(name), kind), _shown(data.get(name), kind))
            for name, label, kind in fields
            if before is not None and before.get(name) != data.get(name)
        ]
        previous[row["what"]] = data
        if row["pgh_label"] == "update" and not changed:
            continue  # a change to a column the panel does not show (e.g. updated_at)
        context = row["context"] if isinstance(row["context"], dict) else {}
        changes.append(Change(
            at=row["pgh_created_at"], what=str(what), kind=str(_KINDS.get(row["pgh_label"], "")),
            who=context.get("username") or "", task=context.get("task") or "", why=context.get("reason") or "",
            fields=changed,
        ))
    return changes[::-1][:limit]
