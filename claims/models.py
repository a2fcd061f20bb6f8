"""Courier claims: what the shop asks a courier to pay back for a remedy the courier's failure cost it."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from caseapp.money import CurrencyField, MoneyField, currency_check


class ClaimStatus(models.TextChoices):
    TO_FILE = "to_file", _("To file")
    FILED = "filed", _("Filed")
    ACCEPTED = "accepted", _("Accepted by the courier")
    REJECTED = "rejected", _("Rejected by the courier")
    PAID = "paid", _("Paid")
    WRITTEN_OFF = "written_off", _("Written off")


# The moves a claim may make (claims.services); anything else is refused with a field error.
CLAIM_TRANSITIONS = {
    ClaimStatus.TO_FILE: (ClaimStatus.FILED, ClaimStatus.WRITTEN_OFF),
    ClaimStatus.FILED: (ClaimStatus.ACCEPTED, ClaimStatus.REJECTED, ClaimStatus.WRITTEN_OFF),
    ClaimStatus.ACCEPTED: (ClaimStatus.PAID, ClaimStatus.WRITTEN_OFF),
    ClaimStatus.REJECTED: (ClaimStatus.WRITTEN_OFF,),
    ClaimStatus.PAID: (),
    ClaimStatus.WRITTEN_OFF: (),
}
OPEN_CLAIM_STATUSES = (ClaimStatus.TO_FILE, ClaimStatus.FILED, ClaimStatus.ACCEPTED, ClaimStatus.REJECTED)
FILED_STATUSES = (ClaimStatus.FILED, ClaimStatus.ACCEPTED, ClaimStatus.REJECTED, ClaimStatus.PAID)


class Claim(models.Model):
    """One claim per remedy recoverable from a courier, opened when the remedy is applied (claims.services)."""

    remedy = models.OneToOneField("policies.Remedy", on_delete=models.PROTECT, related_name="claim")
    courier = models.ForeignKey("orders.Courier", on_delete=models.PROTECT, related_name="claims")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="claims")
    amount = MoneyField(help_text="What is claimed: the remedy's cost.")
    currency = CurrencyField()
    evidence = models.JSONField(
        default=dict, blank=True,
        help_text="A snapshot taken on opening: the shipment's tracking events, the remedy, the case's attachments.",
    )
    failed_at = models.DateTimeField(help_text="The courier's failure: its tracking event, or the remedy's time.")
    deadline = models.DateField(help_text="The last day to file: the failure's day + the courier's claim window.")
    status = models.CharField(max_length=12, choices=ClaimStatus.choices, default=ClaimStatus.TO_FILE)
    courier_reference = models.CharField(max_length=100, blank=True, help_text="The courier's number for the claim.")
    recovered_amount = MoneyField(null=True, blank=True, help_text="What the courier actually paid (may be partial).")
    note = models.TextField(blank=True, help_text="The courier's reason for a rejection, or why it was written off.")
    created_at = models.DateTimeField(default=timezone.now)
    filed_at = models.DateTimeField(null=True, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True, help_text="When the courier accepted or rejected it.")
    paid_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, help_text="Paid or written off.")
    updated_at = models.DateTimeField(auto_now=True)
    deadline_alerted_at = models.DateTimeField(
        null=True, blank=True, help_text="Set once, by the scan that alerted the case owner and a manager."
    )

    class Meta:
        ordering = ["deadline", "id"]
        indexes = [
            models.Index(fields=["status", "deadline"], name="claim_status_deadline_idx"),
            models.Index(fields=["courier", "status"], name="claim_courier_status_idx"),
            # The managers' claims page unfiltered (claims_list: the nearest deadline first) and the model's ordering.
            models.Index(fields=["deadline", "id"], name="claim_deadline_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="claim_amount_not_negative"),
            models.CheckConstraint(condition=models.Q(status__in=ClaimStatus.values), name="claim_status_known"),
            models.CheckConstraint(
                condition=models.Q(recovered_amount__isnull=True)
                | (models.Q(recovered_amount__gte=0) & models.Q(recovered_amount__lte=models.F("amount"))),
                name="claim_recovered_within_claimed",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=FILED_STATUSES) | ~models.Q(courier_reference=""),
                name="claim_filed_has_reference",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=ClaimStatus.PAID) | models.Q(recovered_amount__isnull=False),
                name="claim_paid_has_amount",
            ),
            currency_check("currency", "claim_currency_iso"),
        ]

    def __str__(self):
        return f"Claim #{self.pk} against {self.courier} for {self.amount} {self.currency} (case #{self.case_id})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_CLAIM_STATUSES

    @property
    def next_statuses(self) -> tuple[str, ...]:
        return tuple(CLAIM_TRANSITIONS[ClaimStatus(self.status)])

    @property
    def is_past_deadline(self) -> bool:
        return self.status == ClaimStatus.TO_FILE and self.deadline < timezone.localdate()
