"""The outbox: every message is first a row, written in the transaction of the fact that caused it."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    # committed before the provider is contacted: a crash leaves the row here, never back in "queued"
    SENDING = "sending", _("Sending")
    # the provider may or may not have accepted it (worker killed, no answer): held for a person to decide
    IN_DOUBT = "in_doubt", _("Sent? Not confirmed")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    DELIVERED = "delivered", _("Delivered")
    BOUNCED = "bounced", _("Bounced")


class Message(models.Model):
    """One email. The worker commits "sending" (with the attempt's time) before it talks to the provider, then the
    outcome; a row left "sending" by a dead worker is resolved by the sweep (see notifications.services)."""

    idempotency_key = models.CharField(max_length=200, unique=True)
    recipient = models.EmailField(max_length=254)
    template = models.CharField(max_length=60, help_text="A name from notifications.catalogue.TEMPLATES.")
    context = models.JSONField(default=dict, blank=True)
    language = models.CharField(max_length=8, default="en")
    time_zone = models.CharField(max_length=64, default="UTC")
    status = models.CharField(max_length=10, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    esp_message_id = models.CharField(max_length=255, blank=True)
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="messages"
    )
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now, help_text="Not sent before this time.")
    sent_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="When the latest attempt to hand the message to the provider started."
    )
    status_changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="message_status_next_idx"),
            models.Index(fields=["esp_message_id"], name="message_esp_id_idx"),
            models.Index(fields=["last_attempt_at"], condition=models.Q(status="sending"),
                         name="message_sending_attempt_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=MessageStatus.values), name="message_status_known"),
            models.CheckConstraint(condition=~models.Q(idempotency_key=""), name="message_has_idempotency_key"),
            models.CheckConstraint(condition=~models.Q(recipient=""), name="message_has_recipient"),
            models.CheckConstraint(
                condition=~models.Q(status__in=["sending", "in_doubt"]) | models.Q(last_attempt_at__isnull=False),
                name="message_attempt_has_time",
            ),
            models.CheckConstraint(
                condition=models.Q(language__in=[code for code, _ in settings.LANGUAGES]),
                name="message_language_known",
            ),
        ]

    def __str__(self):
        return f"{self.template} to {self.recipient} ({self.status})"


class LateReason(models.TextChoices):
    """Why the shipment scan found a parcel late or at risk (shipment_late_reasons), as words for people."""

    ESTIMATED_AFTER_PROMISED = "estimated_after_promised", _("the courier's estimate is after the promised date")
    PROMISED_DATE_PASSED = "promised_date_passed", _("the promised date has passed")
    COURIER_DELAYED = "courier_delayed", _("the courier reports a delay")
    COURIER_REFUSED = "courier_refused", _("the courier refused the parcel")
    NO_TRACKING_EVENT = "no_tracking_event", _("no news from the courier")
    NOT_HANDED_OVER = "date_critical_not_handed_over", _("not handed over to the courier yet")


class DetectionKind(models.TextChoices):
    LATE_SHIPMENT = "late_shipment", _("Late or at-risk shipment")
    DATE_CRITICAL = "date_critical", _("Date-critical order at risk")
    COD_MISMATCH = "cod_mismatch", _("COD amount differs from the quote")
    NOT_COLLECTED = "not_collected", _("COD parcel not collected")


class Detection(models.Model):
    """Something a scan found and acted on, once: the unique key is the guard against acting twice."""

    key = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=20, choices=DetectionKind.choices)
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="detections")
    shipment = models.ForeignKey(
        "orders.Shipment", null=True, blank=True, on_delete=models.PROTECT, related_name="detections"
    )
    data = models.JSONField(default=dict, blank=True)
    detected_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["detected_at", "id"]
        indexes = [models.Index(fields=["shipment", "kind"], name="detection_shipment_kind_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=DetectionKind.values), name="detection_kind_known"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.key})"
