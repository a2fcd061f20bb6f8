import pgtrigger
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CaseCategory(models.TextChoices):
    VOUCHER_EXPIRED = "voucher_expired", _("Voucher expired")
    LATE_DELIVERY = "late_delivery", _("Late delivery")
    LOST_PARCEL = "lost_parcel", _("Lost parcel")
    WRONG_ITEM = "wrong_item", _("Wrong item")
    INCOMPLETE_ORDER = "incomplete_order", _("Incomplete order")
    DEFECTIVE_ITEM = "defective_item", _("Defective item")
    COD_MISMATCH = "cod_mismatch", _("COD mismatch")
    NOT_COLLECTED = "not_collected", _("Not collected")
    BROKEN_PROMISE = "broken_promise", _("Broken promise")
    OTHER = "other", _("Other")


class CaseChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    COUNTER = "counter", _("Counter")
    WEB = "web", _("Web")
    SYSTEM = "system", _("Detected by the system")


class CaseStatus(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    WAITING_ON_SHOP = "waiting_on_shop", _("Waiting on shop")
    WAITING_ON_CUSTOMER = "waiting_on_customer", _("Waiting on customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = (CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.WAITING_ON_SHOP, CaseStatus.WAITING_ON_CUSTOMER)


class Case(models.Model):
    """A customer's problem, from arrival to resolution.

    The primary key is the arrival number: allocated by the database in arrival order, strictly increasing.
    The queue orders by (arrived_at, arrival_number); the customer's spend plays no part in it. `arrived_at` is
    service-owned: the time caseapp received the case, set by cases.services.case_open, never by a client, so
    the queue is insertion order. `reported_at` is when the customer says they wrote or called (an email's
    date, a call logged later): stored and shown, bounded, never used to order the queue or set the clocks.
    """

    arrival_number = models.BigAutoField(primary_key=True)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="cases")
    order = models.ForeignKey("orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="cases")
    shipment = models.ForeignKey(
        "orders.Shipment", null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    voucher = models.ForeignKey(
        "vouchers.Voucher", null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    category = models.CharField(max_length=20, choices=CaseCategory.choices)
    channel = models.CharField(max_length=10, choices=CaseChannel.choices)
    status = models.CharField(max_length=20, choices=CaseStatus.choices, default=CaseStatus.NEW)
    subject = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="owned_cases"
    )
    arrived_at = models.DateTimeField(default=timezone.now)
    reported_at = models.DateTimeField(
        null=True, blank=True,
        help_text="When the customer says they wrote or called, if a client gave it; never orders the queue.",
    )
    first_response_due_at = models.DateTimeField()
    resolution_due_at = models.DateTimeField()
    first_responded_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["arrived_at", "arrival_number"]
        indexes = [
            models.Index(fields=["status", "arrived_at", "arrival_number"], name="case_queue_idx"),
            models.Index(fields=["owner", "status"], name="case_owner_status_idx"),
            # The API's cursor pages over every case in arrival order, and integrations sync by "updated since".
            models.Index(fields=["arrived_at", "arrival_number"], name="case_arrival_order_idx"),
            models.Index(fields=["updated_at", "arrival_number"], name="case_updated_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(category__in=CaseCategory.values), name="case_category_known"),
            models.CheckConstraint(condition=models.Q(channel__in=CaseChannel.values), name="case_channel_known"),
            models.CheckConstraint(condition=models.Q(status__in=CaseStatus.values), name="case_status_known"),
            models.CheckConstraint(
                condition=models.Q(first_response_due_at__gte=models.F("arrived_at"))
                & models.Q(resolution_due_at__gte=models.F("arrived_at")),
                name="case_due_after_arrival",
            ),
        ]

    def __str__(self):
        return f"#{self.arrival_number} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def clean(self):
        """One customer's case links only that customer's order, shipment and voucher (case_open runs this)."""
        errors = {}
        if self.order_id and self.customer_id and self.order.customer_id != self.customer_id:
            errors["order"] = _("This order belongs to another customer.")
        if self.shipment_id and self.order_id and self.shipment.order_id != self.order_id:
            errors["shipment"] = _("This shipment belongs to another order.")
        elif self.shipment_id and self.customer_id and self.shipment.order.customer_id != self.customer_id:
            errors["shipment"] = _("This shipment belongs to another customer's order.")
        if self.voucher_id and self.customer_id and self.voucher.holder_id not in (None, self.customer_id):
            errors["voucher"] = _("This voucher is held by another customer.")
        if errors:
            raise ValidationError(errors)


class CaseEventKind(models.TextChoices):
    CREATED = "created", _("Case opened")
    NOTE = "note", _("Note")
    EMAIL_IN = "email_in", _("Email received")
    EMAIL_OUT = "email_out", _("Email sent")
    CALL = "call", _("Call")
    STATUS_CHANGED = "status_changed", _("Status changed")
    OWNER_CHANGED = "owner_changed", _("Owner changed")
    PROMISE_MADE = "promise_made", _("Promise made")
    PROMISE_KEPT = "promise_kept", _("Promise kept")
    PROMISE_BROKEN = "promise_broken", _("Promise broken")
    REMEDY_PROPOSED = "remedy_proposed", _("Remedy proposed")
    REMEDY_APPLIED = "remedy_applied", _("Remedy applied")
    REMEDY_APPROVED = "remedy_approved", _("Remedy approved")
    REMEDY_REJECTED = "remedy_rejected", _("Remedy rejected")
    DETECTED = "detected", _("Detected by the system")
    NOTIFICATION_FAILED = "notification_failed", _("Notification failed")


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("The case timeline is append-only: events are never updated.")

    def delete(self):
        raise PermissionError("The case timeline is append-only: events are never deleted.")


class CaseEvent(models.Model):
    """The append-only timeline: the model and its queryset refuse updates and deletes (what guards SQLite), and on
    PostgreSQL a trigger (django-pgtrigger, installed by `migrate`) refuses them from any code, raw SQL included."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=24, choices=CaseEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Empty when caseapp itself acted.",
    )
    occurred_at = models.DateTimeField(default=timezone.now)
    text = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["case", "occurred_at"], name="case_event_case_time_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=CaseEventKind.values), name="case_event_kind_known")
        ]
        triggers = [
            pgtrigger.Trigger(
                name="caseevent_append_only", when=pgtrigger.Before, operation=pgtrigger.Update | pgtrigger.Delete,
                func="RAISE EXCEPTION 'The case timeline is append-only: % on cases_caseevent is not allowed', TG_OP "
                     "USING ERRCODE = 'restrict_violation';",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} on #{self.case_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionError("The case timeline is append-only: events are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The case timeline is append-only: events are never deleted.")

    @property
    def actor_name(self) -> str:
        return self.actor.get_username() if self.actor_id else "caseapp"


class PromiseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    KEPT = "kept", _("Kept")
    BROKEN = "broken", _("Broken")


class Promise(models.Model):
    """Something promised to the customer: what, by whom, by when, and who must keep it."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="promises")
    description = models.TextField()
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    made_by_name = models.CharField(
        max_length=120, blank=True, help_text="Who made it, when not a caseapp user (e.g. 'Regional VP')."
    )
    made_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField()
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="promises_owned")
    status = models.CharField(max_length=8, choices=PromiseStatus.choices, default=PromiseStatus.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    overdue_alerted_at = models.DateTimeField(null=True, blank=True)
    key = models.CharField(
        max_length=100, blank=True,
        help_text="A task promised once per case, whoever records it (e.g. cod-correction:<shipment id>).",
    )

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["status", "due_at"], name="promise_status_due_idx")]
        constraints = [
            models.UniqueConstraint(fields=["case", "key"], condition=~models.Q(key=""), name="promise_key_once_per_case"),
            models.CheckConstraint(condition=models.Q(status__in=PromiseStatus.values), name="promise_status_known"),
            models.CheckConstraint(condition=~models.Q(description=""), name="promise_has_description"),
            models.CheckConstraint(
                condition=models.Q(made_by__isnull=False) | ~models.Q(made_by_name=""), name="promise_has_maker"
            ),
        ]

    def __str__(self):
        return f"{self.description[:60]} (due {self.due_at:%Y-%m-%d %H:%M})"

    @property
    def is_overdue(self) -> bool:
        return self.status == PromiseStatus.OPEN and self.due_at < timezone.now()

    def clean(self):
        errors = {}
        if not (self.description or "").strip():
            errors["description"] = "Say what was promised."
        if not self.made_by_id and not (self.made_by_name or "").strip():
            errors["made_by_name"] = "Say who made the promise."
        if self.due_at and self.made_at and self.due_at < self.made_at:
            errors["due_at"] = "A promise cannot be due before it was made."
        if errors:
            raise ValidationError(errors)


class AttachmentSource(models.TextChoices):
    INBOUND_EMAIL = "inbound_email", _("Inbound email")
    AGENT_UPLOAD = "agent_upload", _("Uploaded by an agent")


def attachment_upload_to(instance, filename) -> str:
    """Where a file lives in the storage: by case and a random name, never the customer's file name (which is
    kept, sanitized, in ``Attachment.filename`` for display only)."""
    import uuid

    return f"attachments/{instance.case_id}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    """A file on a case: from an inbound email or uploaded by an agent (the photo of the wrong rug).

    Stored through Django's storage API (a local folder by default, S3-compatible by setting). ``content_type``
    is what the sender declared; ``safe_content_type`` is what the server decided from the bytes and the name
    (cases.attachments) and the only type it is ever served with."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to=attachment_upload_to, max_length=255)
    filename = models.CharField(max_length=255, help_text="The original file name, sanitized for display.")
    content_type = models.CharField(max_length=255, blank=True, help_text="As declared by the sender.")
    safe_content_type = models.CharField(max_length=100, help_text="Decided by the server; served with this.")
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    source = models.CharField(max_length=16, choices=AttachmentSource.choices)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at"], name="attachment_case_time_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(source__in=AttachmentSource.values),
                                   name="attachment_source_known"),
            models.CheckConstraint(condition=~models.Q(filename=""), name="attachment_has_filename"),
        ]

    def __str__(self):
        return f"{self.filename} on #{self.case_id}"

    @property
    def is_inline_image(self) -> bool:
        from .attachments import INLINE_IMAGE_TYPES

        return self.safe_content_type in INLINE_IMAGE_TYPES
