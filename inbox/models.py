"""Inbound email: every message that reaches caseapp, stored once (its Message-ID is the guard), raw and parsed."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class InboundStatus(models.TextChoices):
    PROCESSED = "processed", _("Processed")
    # could not be parsed (malformed MIME, no sender): kept raw, listed for managers
    UNPROCESSED = "unprocessed", _("Not processed")
    # an auto-reply, an out-of-office or a bounce: no case, no answer
    IGNORED_AUTO = "ignored_auto", _("Automatic reply or bounce")


class InboundProblem(models.TextChoices):
    """Why a message was kept unprocessed (the technical detail is in ``InboundMessage.reason``)."""

    NO_SENDER = "no_sender", _("No sender")
    MALFORMED = "malformed", _("Broken MIME structure")
    UNREADABLE = "unreadable", _("Cannot be parsed")
    FAILED = "failed", _("Could not be processed")


class InboundSource(models.TextChoices):
    IMAP = "imap", _("IMAP mailbox")
    PIPE = "pipe", _("Mail server pipe")
    WEBHOOK = "webhook", _("Email provider webhook")
    FILE = "file", _("File")


class InboundMessage(models.Model):
    """One inbound email. ``raw`` is always kept, whatever became of the message; ``html`` is sanitized (nh3)
    and is the only HTML of the message ever shown; ``text_reply`` is ``text`` without the quoted history."""

    message_id = models.CharField(
        max_length=255, unique=True,
        help_text="The Message-ID header (or one derived from the raw bytes when there is none): stored once.",
    )
    raw = models.BinaryField()
    source = models.CharField(max_length=10, choices=InboundSource.choices)
    status = models.CharField(max_length=12, choices=InboundStatus.choices)
    problem = models.CharField(max_length=12, choices=InboundProblem.choices, blank=True)
    reason = models.CharField(max_length=500, blank=True, help_text="Why it was not processed or was ignored.")
    from_address = models.CharField(max_length=254, blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    to_addresses = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True, help_text="The Date header, as the sender's clock says.")
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.JSONField(default=list, blank=True)
    text = models.TextField(blank=True)
    text_reply = models.TextField(blank=True)
    html = models.TextField(blank=True)
    language = models.CharField(max_length=2, blank=True, help_text="As guessed from the text.")
    threaded_by = models.CharField(max_length=20, blank=True, help_text="How the case was found, if not new.")
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="inbound_messages"
    )
    data = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["received_at", "id"]
        indexes = [
            models.Index(fields=["status", "received_at"], name="inbound_status_received_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=InboundStatus.values), name="inbound_status_known"),
            models.CheckConstraint(condition=models.Q(source__in=InboundSource.values), name="inbound_source_known"),
            models.CheckConstraint(condition=~models.Q(message_id=""), name="inbound_has_message_id"),
            models.CheckConstraint(condition=models.Q(problem__in=[*InboundProblem.values, ""]),
                                   name="inbound_problem_known"),
        ]

    def __str__(self):
        return f"{self.message_id} ({self.status})"
