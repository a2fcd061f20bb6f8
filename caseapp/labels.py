"""The TextChoices whose labels templates look up by name ({{ code|choice_label:"tracking" }})."""

from cases.models import CaseCategory, CaseChannel, CaseEventKind, CaseStatus, PromiseStatus
from notifications.models import LateReason
from orders.models import OrderStatus, PaymentMethod, ShipmentStatus, TrackingEventCode
from policies.models import DefaultBudget, RemedyKind, RemedyStatus

CHOICES = {
    "category": CaseCategory, "channel": CaseChannel, "case_status": CaseStatus, "event": CaseEventKind,
    "promise_status": PromiseStatus, "order_status": OrderStatus, "payment": PaymentMethod,
    "shipment_status": ShipmentStatus, "tracking": TrackingEventCode, "budget": DefaultBudget, "remedy_kind": RemedyKind,
    "remedy_status": RemedyStatus, "late_reason": LateReason,
}
