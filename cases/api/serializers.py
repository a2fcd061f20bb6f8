"""Serializers of /api/v1/ cases: they parse and check input; cases.services does the work."""

from datetime import UTC

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from caseapp.api import as_drf_error
from caseapp.roles import AGENT, MANAGER
from cases.models import Case, CaseCategory, CaseChannel, CaseEvent, CaseEventKind, CaseStatus, Promise
from cases.services import case_open
from customers.models import Customer
from orders.models import Order, Shipment
from policies.api.serializers import RemedySerializer
from surveys.api.serializers import SurveySerializer
from vouchers.models import Voucher


def staff_users():
    """Who may own a case or keep a promise: active agents and managers."""
    return get_user_model().objects.filter(is_active=True, groups__name__in=(AGENT, MANAGER)).distinct()


class CaseEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    data = serializers.JSONField(read_only=True)
    inbound_message = serializers.SerializerMethodField(
        help_text="An inbound email (kind email_in): its id; ``text`` is what the customer wrote, without the "
                  "quoted history. null for other events.")
    inbound_message_url = serializers.SerializerMethodField(
        help_text="The full message (text, sanitized HTML, attachments) in /api/v1/inbound-messages/.")

    class Meta:
        model = CaseEvent
        fields = ["id", "kind", "actor", "occurred_at", "text", "data", "inbound_message", "inbound_message_url"]
        read_only_fields = fields

    @staticmethod
    def _inbound_id(event) -> int | None:
        value = (event.data or {}).get("inbound_message_id") if event.kind == CaseEventKind.EMAIL_IN else None
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_inbound_message(self, event) -> int | None:
        return self._inbound_id(event)

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_inbound_message_url(self, event) -> str | None:
        pk = self._inbound_id(event)
        if pk is None:
            return None
        url = reverse("api-v1:inbound-message-detail", args=[pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class PromiseSerializer(serializers.ModelSerializer):
    made_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Promise
        fields = ["id", "case", "description", "made_by", "made_by_name", "made_at", "due_at", "owner", "status",
                  "closed_at"]
        read_only_fields = fields


class CaseSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    order_number = serializers.CharField(source="order.number", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Case
        fields = ["arrival_number", "customer", "order", "order_number", "shipment", "voucher", "category",
                  "channel", "status", "subject", "owner", "arrived_at", "first_response_due_at",
                  "resolution_due_at", "first_responded_at", "resolved_at", "updated_at"]
        read_only_fields = fields


# The columns a list row shows, read with .values() (CaseViewSet.list): no model instance, no description.
CASE_LIST_COLUMNS = ("arrival_number", "customer_id", "order_id", "shipment_id", "voucher_id", "category", "channel",
                     "status", "subject", "arrived_at", "first_response_due_at", "resolution_due_at",
                     "first_responded_at", "resolved_at", "updated_at")
CASE_LIST_JOINED = {"owner_username": "owner__username", "order_number": "order__number"}
_CASE_LIST_TIMES = ("arrived_at", "first_response_due_at", "resolution_due_at", "first_responded_at", "resolved_at",
                    "updated_at")


def _iso_8601(value, zone, zone_is_utc: bool) -> str | None:
    """DRF's DateTimeField output: ISO 8601 in the current time zone, "Z" for UTC. The database hands back UTC
    times, so in UTC (the default) there is nothing to convert."""
    if not value:
        return None
    text = (value if zone_is_utc else value.astimezone(zone)).isoformat()
    if text.endswith("+00:00"):
        return text[:-6] + "Z"
    return text if not zone_is_utc else _iso_8601(value.astimezone(zone), zone, False)


def case_list_rows(rows) -> list[dict]:
    """What CaseSerializer(many=True) gives, from rows of CASE_LIST_COLUMNS and CASE_LIST_JOINED: the same keys in
    the same order and the same formats (tests/api/test_v1_case_list.py compares them), about 20 times cheaper than
    17 DRF fields per case (most of a 50-case page's time went there)."""
    zone = timezone.get_current_timezone()
    zone_is_utc = zone is UTC or getattr(zone, "key", None) == "UTC"
    out = []
    for row in rows:
        times = [_iso_8601(row[name], zone, zone_is_utc) for name in _CASE_LIST_TIMES]
        out.append({
            "arrival_number": row["arrival_number"], "customer": row["customer_id"], "order": row["order_id"],
            "order_number": row["order_number"], "shipment": row["shipment_id"], "voucher": row["voucher_id"],
            "category": row["category"], "channel": row["channel"], "status": row["status"],
            "subject": row["subject"], "owner": row["owner_username"], "arrived_at": times[0],
            "first_response_due_at": times[1], "resolution_due_at": times[2], "first_responded_at": times[3],
            "resolved_at": times[4], "updated_at": times[5],
        })
    return out


class CaseDetailSerializer(CaseSerializer):
    """One case with its timeline, its promises and its remedies."""

    events = CaseEventSerializer(many=True, read_only=True, help_text="The timeline, oldest first.")
    promises = PromiseSerializer(many=True, read_only=True)
    remedies = RemedySerializer(many=True, read_only=True)
    survey = SurveySerializer(read_only=True, allow_null=True,
                              help_text="The satisfaction survey after the case was resolved (null: none).")

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "description", "events", "promises", "remedies", "survey"]
        read_only_fields = fields


class CaseOpenSerializer(serializers.Serializer):
    """Open a case. It arrives now: the arrival time is never taken from the caller (the queue is fair)."""

    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all())
    order = serializers.PrimaryKeyRelatedField(queryset=Order.objects.all(), required=False, allow_null=True)
    shipment = serializers.PrimaryKeyRelatedField(queryset=Shipment.objects.all(), required=False, allow_null=True)
    voucher = serializers.PrimaryKeyRelatedField(queryset=Voucher.objects.all(), required=False, allow_null=True)
    category = serializers.ChoiceField(choices=CaseCategory.choices)
    channel = serializers.ChoiceField(choices=[c for c in CaseChannel.choices if c[0] != CaseChannel.SYSTEM])
    subject = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=20000)

    def create(self, validated_data):
        try:
            return case_open(opened_by=self.context["request"].user, **validated_data)
        except ValidationError as exc:
            raise as_drf_error(exc) from exc


class NoteAddSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[("note", _("Note")), ("call", _("Call logged"))], default="note")
    text = serializers.CharField(max_length=5000)


class PromiseRecordSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=2000)
    due_at = serializers.DateTimeField()
    owner = serializers.SlugRelatedField(slug_field="username", queryset=staff_users(),
                                         help_text="Who keeps it (an agent or manager); the caller when empty.",
                                         required=False)
    made_by_name = serializers.CharField(
        max_length=120, required=False, allow_blank=True, default="",
        help_text="Who made it, when not the caller (e.g. 'Regional VP').")

    def validate_due_at(self, value):
        if value < timezone.now():
            raise serializers.ValidationError(_("A promise is due in the future."))
        return value


class PromiseCloseSerializer(serializers.Serializer):
    kept = serializers.BooleanField()
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class StatusChangeSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=CaseStatus.choices)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class AssignSerializer(serializers.Serializer):
    owner = serializers.SlugRelatedField(slug_field="username", queryset=staff_users(), allow_null=True,
                                         help_text="An agent's or manager's username; null for nobody.")
