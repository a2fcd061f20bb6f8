"""Where a shop's data comes in: the webhook senders with their secrets, and each delivery they made."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SourceKind(models.TextChoices):
    SHOPIFY = "shopify", _("Shopify orders")
    WOOCOMMERCE = "woocommerce", _("WooCommerce orders")
    GENERIC_ORDERS = "generic_orders", _("Orders, generic JSON")
    AFTERSHIP = "aftership", _("AfterShip tracking")
    GENERIC_TRACKING = "generic_tracking", _("Courier tracking, generic JSON")


TRACKING_KINDS = (SourceKind.AFTERSHIP, SourceKind.GENERIC_TRACKING)


class WebhookSource(models.Model):
    """One sender of webhooks, e.g. the shop's Shopify store or its courier; each with its own secret.

    The secret is kept as given: verifying an HMAC needs it, so it cannot be stored hashed."""

    name = models.SlugField(max_length=50, unique=True, help_text="Part of the URL: /api/v1/webhooks/<name>/")
    kind = models.CharField(max_length=20, choices=SourceKind.choices)
    secret = models.CharField(max_length=200, help_text="The signing secret the sender was given (or gave).")
    courier = models.ForeignKey(
        "orders.Courier", null=True, blank=True, on_delete=models.PROTECT,
        help_text="For tracking sources: the courier whose parcels these events are about (AfterShip: optional).",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=SourceKind.values), name="webhook_source_kind_known"),
            models.CheckConstraint(condition=~models.Q(secret=""), name="webhook_source_has_secret"),
        ]

    def __str__(self):
        return self.name


class DeliveryOutcome(models.TextChoices):
    PROCESSED = "processed", _("Processed")
    REJECTED = "rejected", _("Rejected")
    IGNORED = "ignored", _("Ignored")


class WebhookDelivery(models.Model):
    """One delivery from a source, once per the sender's event id (a repeat changes nothing).

    The raw body is kept for debugging for INTAKE_WEBHOOK_PAYLOAD_RETENTION_DAYS, then blanked by a beat task;
    the row itself stays, so an old delivery sent again is still recognised."""

    source = models.ForeignKey(WebhookSource, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.CharField(max_length=200)
    topic = models.CharField(max_length=100, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=10, choices=DeliveryOutcome.choices)
    body = models.TextField(blank=True)
    errors = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    body_purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["received_at"], name="webhook_delivery_received_idx")]
        constraints = [
            models.UniqueConstraint(fields=["source", "event_id"], name="webhook_delivery_once"),
            models.CheckConstraint(
                condition=models.Q(outcome__in=DeliveryOutcome.values), name="webhook_delivery_outcome_known"
            ),
        ]

    def __str__(self):
        return f"{self.source} {self.event_id}"
