"""The outbox: queue a message in the caller's transaction, send it once, sweep what was left waiting.

Delivery is at least once from the broker's side (acks_late, redelivery, the sweep), and at most once from the
email provider's side: `message_send` claims the row with SELECT ... FOR UPDATE SKIP LOCKED and marks it sent in
the same transaction, so a second task for the same row finds it locked or already sent. A worker killed during
the send rolls its transaction back (PostgreSQL ends the dead connection's transaction), and the row is queued
again for the redelivered task or the sweep.

The one window no database can close: the provider has answered "accepted" and the worker dies before its COMMIT
(microseconds). The row is then sent again; its Message-ID header is the same on every attempt, so a receiver or
an ESP that deduplicates on it drops the second copy.
"""

import hashlib
import json
import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from functools import partial

from anymail.exceptions import (
    AnymailAPIError,
    AnymailConfigurationError,
    AnymailInvalidAddress,
    AnymailRecipientsRefused,
    AnymailUnsupportedFeature,
)
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.models import CaseEventKind
from cases.services import case_event_append

from .catalogue import TEMPLATES
from .models import Message, MessageStatus
from .rendering import message_render

logger = logging.getLogger(__name__)

ANYMAIL_REFUSED_STATUSES = {"rejected", "invalid", "failed"}


class MessageSendDeferred(Exception):  # noqa: N818 (it is an outcome, not an error)
    """A temporary failure: the row stays queued; try again in `retry_in_seconds`."""

    def __init__(self, message_id: int, retry_in_seconds: int, reason: str):
        super().__init__(f"message {message_id}: {reason}; retry in {retry_in_seconds}s")
        self.message_id = message_id
        self.retry_in_seconds = retry_in_seconds
        self.reason = reason


@dataclass(frozen=True)
class SendOutcome:
    message_id: int
    result: str  # sent | failed | already_done | busy | not_due | gone


def _message_hand_over(message_id: int) -> bool:
    """Give the row to the worker. If the broker is down the row simply waits for the sweep."""
    from .tasks import send_message_task

    try:
        send_message_task.apply_async(args=[message_id], retry=False)
    except Exception as exc:  # the broker is down or unreachable: the outbox row is the record, not the task
        logger.warning("Message %s left queued for the sweep: broker unavailable (%s)", message_id, exc)
        return False
    return True


def _json_context(context: dict | None) -> dict:
    try:
        return json.loads(json.dumps(context or {}, cls=DjangoJSONEncoder))
    except (TypeError, ValueError) as exc:
        raise ValidationError({"context": f"The context must be JSON-serialisable: {exc}"}) from exc


@transaction.atomic
def message_queue(
    *, recipient: str, template: str, idempotency_key: str, context: dict | None = None, language: str = "en",
    time_zone: str = "UTC", case=None,
) -> tuple[Message, bool]:
    """Write one outbox row in the caller's transaction; the worker gets it when that transaction commits.

    The idempotency key is unique: queueing the same key again returns the existing row and sends nothing more.
    """
    errors = {}
    if template not in TEMPLATES:
        errors["template"] = f"{template!r} is not a known message template."
    if not (idempotency_key or "").strip():
        errors["idempotency_key"] = "A message needs an idempotency key, so that it is sent once."
    try:
        validate_email(recipient or "")
    except ValidationError:
        errors["recipient"] = f"{recipient!r} is not an email address."
    languages = [code for code, _ in settings.LANGUAGES]
    if language not in languages:
        errors["language"] = f"{language!r} is not one of {', '.join(languages)}."
    if errors:
        raise ValidationError(errors)
    values = _json_context(context)
    try:
        with transaction.atomic():
            message = Message.objects.create(
                idempotency_key=idempotency_key.strip(), recipient=recipient, template=template, context=values,
                language=language, time_zone=time_zone or "UTC", case=case,
            )
    except IntegrityError:
        existing = Message.objects.filter(idempotency_key=idempotency_key.strip()).first()
        if existing is None:
            raise
        return existing, False
    transaction.on_commit(partial(_message_hand_over, message.pk), robust=True)
    return message, True


def _message_id_header(message: Message) -> str:
    """Stable per outbox row, so a receiver can recognise a resend of the same message."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "caseapp.invalid"
    digest = hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:32]
    return f"<{digest}.{message.pk}@{domain}>"


def send_error_is_permanent(exc: Exception) -> bool:
    """5xx SMTP answers and 4xx API answers (other than 408/429) will not get better by retrying."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return 500 <= exc.smtp_code < 600
    if isinstance(exc, AnymailRecipientsRefused | AnymailInvalidAddress | AnymailUnsupportedFeature
                  | AnymailConfigurationError):
        return True
    if isinstance(exc, AnymailAPIError):
        status = getattr(exc, "status_code", None)
        return bool(status) and 400 <= status < 500 and status not in (408, 429)
    return False


def send_error_reason(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{address}: {code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
            for address, (code, text) in exc.recipients.items()
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        return f"{exc.smtp_code} {text}"
    return f"{type(exc).__name__}: {exc}"[:2000]


def retry_delay_seconds(attempts: int) -> int:
    """Exponential backoff: base, 2×base, 4×base … capped well below the broker's visibility timeout."""
    base = settings.NOTIFICATIONS_RETRY_BACKOFF_SECONDS
    return int(min(base * 2 ** max(attempts - 1, 0), settings.NOTIFICATIONS_RETRY_BACKOFF_MAX_SECONDS))


def _message_fail(message: Message, *, reason: str, now: datetime) -> None:
    message.status = MessageStatus.FAILED
    message.last_error = reason
    message.status_changed_at = now
    message.save(update_fields=["status", "last_error", "status_changed_at", "attempts"])
    if message.case_id:
        case_event_append(
            case=message.case, kind=CaseEventKind.NOTIFICATION_FAILED,
            text=f"Email “{message.template}” to {message.recipient} failed after {message.attempts} "
                 f"attempt(s): {reason}",
            data={"message_id": message.pk, "template": message.template, "recipient": message.recipient,
                  "attempts": message.attempts, "reason": reason},
        )


def message_send(*, message_id: int, now: datetime | None = None) -> SendOutcome:
    """Send one outbox row, never twice. Raises MessageSendDeferred on a temporary failure (row stays queued).

    The connection to the provider is opened here and closed only after the row's COMMIT, so the time between the
    provider's "accepted" and the row saying "sent" is one UPDATE and one COMMIT (not an SMTP QUIT round trip).
    """
    connection = get_connection(fail_silently=False)
    try:
        return _message_send_claimed(message_id=message_id, now=now, connection=connection)
    finally:
        try:
            connection.close()
        except Exception:  # the email is already sent or already failed; a goodbye that fails changes nothing
            logger.debug("Closing the email connection after message %s failed", message_id, exc_info=True)


def _message_send_claimed(*, message_id: int, now: datetime | None, connection) -> SendOutcome:
    deferred = None
    with transaction.atomic():
        now = now or timezone.now()
        message = (
            Message.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("case").filter(pk=message_id).first()
        )
        if message is None:
            busy = Message.objects.filter(pk=message_id).exists()
            return SendOutcome(message_id, "busy" if busy else "gone")
        if message.status != MessageStatus.QUEUED:
            return SendOutcome(message_id, "already_done")
        if message.next_attempt_at > now + timedelta(seconds=1):
            return SendOutcome(message_id, "not_due")
        try:
            rendered = message_render(
                template=message.template, context=message.context, language=message.language,
                time_zone=message.time_zone,
            )
        except Exception as exc:  # a message that cannot be written will not get better by retrying
            message.attempts += 1
            _message_fail(message, reason=f"could not be rendered: {send_error_reason(exc)}", now=now)
            logger.exception("Message %s could not be rendered", message.pk)
            return SendOutcome(message_id, "failed")
        message_id_header = _message_id_header(message)
        email = EmailMultiAlternatives(
            subject=rendered.subject, body=rendered.text, from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.recipient],
            headers={"Message-ID": message_id_header, "X-Caseapp-Message": message.idempotency_key},
            connection=connection,
        )
        email.attach_alternative(rendered.html, "text/html")
        message.attempts += 1
        try:
            connection.open()
            email.send(fail_silently=False)
        except Exception as exc:
            reason = send_error_reason(exc)
            if send_error_is_permanent(exc) or message.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
                _message_fail(message, reason=reason, now=now)
                logger.warning("Message %s failed: %s", message.pk, reason)
                return SendOutcome(message_id, "failed")
            delay = retry_delay_seconds(message.attempts)
            message.last_error = reason
            message.next_attempt_at = now + timedelta(seconds=delay)
            message.save(update_fields=["attempts", "last_error", "next_attempt_at"])
            deferred = MessageSendDeferred(message.pk, delay, reason)
        else:
            status = getattr(email, "anymail_status", None)
            refused = status is not None and status.status and status.status <= ANYMAIL_REFUSED_STATUSES
            if refused:
                _message_fail(message, reason=f"refused by the email provider ({', '.join(sorted(status.status))})",
                              now=now)
                return SendOutcome(message_id, "failed")
            message.status = MessageStatus.SENT
            esp_id = getattr(status, "message_id", None)
            message.esp_message_id = (message_id_header if esp_id in (None, "") else str(esp_id))[:255]
            message.sent_at = now
            message.status_changed_at = now
            message.last_error = ""
            message.save(update_fields=["status", "esp_message_id", "sent_at", "status_changed_at", "attempts",
                                        "last_error"])
    if deferred is not None:
        raise deferred
    return SendOutcome(message_id, "sent")


def outbox_sweep(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Hand over again the rows left queued too long (broker down at commit time, a worker died).

    A row is touched (next_attempt_at = now) when it is handed over, so the next sweep waits another grace period.
    Stops at the first broker error: the rows stay queued for the next sweep.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.NOTIFICATIONS_SWEEP_AFTER_SECONDS)
    handed_over = 0
    last_id = 0
    while True:
        ids = list(
            Message.objects.filter(status=MessageStatus.QUEUED, next_attempt_at__lte=cutoff, pk__gt=last_id)
            .order_by("pk").values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return handed_over
        for message_id in ids:
            if not _message_hand_over(message_id):
                return handed_over
            Message.objects.filter(pk=message_id, status=MessageStatus.QUEUED, next_attempt_at__lte=cutoff).update(
                next_attempt_at=now
            )
            handed_over += 1
        last_id = ids[-1]


TRACKING_STATUS = {
    "delivered": MessageStatus.DELIVERED,
    "bounced": MessageStatus.BOUNCED,
    "rejected": MessageStatus.BOUNCED,
    "failed": MessageStatus.BOUNCED,
}


@transaction.atomic
def message_tracking_record(*, esp_message_id: str, event_type: str, description: str = "",
                            occurred_at: datetime | None = None) -> int:
    """Apply an ESP tracking event. Filtered on the current state, so a repeated event changes nothing."""
    new_status = TRACKING_STATUS.get(event_type)
    if not esp_message_id or new_status is None:
        return 0
    allowed_from = [MessageStatus.SENT] if new_status == MessageStatus.DELIVERED else [
        MessageStatus.SENT, MessageStatus.DELIVERED
    ]
    changed = 0
    for message in Message.objects.select_for_update(of=("self",)).select_related("case").filter(
        esp_message_id=esp_message_id, status__in=allowed_from
    ):
        message.status = new_status
        message.status_changed_at = occurred_at or timezone.now()
        fields = ["status", "status_changed_at"]
        if new_status == MessageStatus.BOUNCED:
            message.last_error = (description or event_type)[:2000]
            fields.append("last_error")
        message.save(update_fields=fields)
        changed += 1
        if new_status == MessageStatus.BOUNCED and message.case_id:
            case_event_append(
                case=message.case, kind=CaseEventKind.NOTIFICATION_FAILED,
                text=f"Email “{message.template}” to {message.recipient} {event_type}: {message.last_error}",
                data={"message_id": message.pk, "event": event_type, "reason": message.last_error},
            )
    return changed
