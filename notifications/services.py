"""The outbox: queue a message in the caller's transaction, send it once, sweep what was left waiting.

Delivery is at least once from the broker's side (acks_late, redelivery, the sweep). Towards the email provider a
send is three steps, each its own committed transaction:

1. claim: lock the row (SELECT ... FOR UPDATE SKIP LOCKED), check it is queued and due, count the attempt and
   commit status "sending" with the attempt's time. A second task for the row now finds it "sending" and leaves it.
2. hand over: open the connection and send, with no transaction open and no lock held.
3. settle: commit the outcome: "sent", "queued" again with a later attempt (a temporary error the provider
   answered), "failed" (a permanent one), or "in doubt".

A worker killed during step 2 leaves the row "sending": a known in-between state, never silently "queued". The
provider may or may not have accepted the message, and only the provider knows. The same doubt arises when the
message left us and no answer came (an SMTP or HTTP read timeout, a connection cut mid-send). The outbox treats
it deliberately (`message_doubt_resolve`, called by the sweep once a row has been "sending" longer than the send
task's hard time limit, NOTIFICATIONS_SENDING_TIMEOUT_SECONDS):

- a provider that deduplicates on our idempotency key (`DEDUPLICATING_BACKENDS`: Resend and Brevo, within their
  replay windows) gets the message again with the same key and the same Message-ID, so it delivers one copy;
- otherwise NOTIFICATIONS_IN_DOUBT decides: "hold" (the default) marks the row "in doubt" with an event on its
  case, and nothing more is sent until a person resends it or confirms it arrived (`message_resend`,
  `message_confirm_sent`, admin actions); "resend" sends it again with the same Message-ID (at least once: a
  receiver or an ESP that deduplicates on Message-ID drops the copy).

The residual window (a second copy is possible only in "resend" mode, never in "hold" mode) is the time from the
moment the provider has the whole message to the COMMIT of "sent": the provider's own time to answer plus one
UPDATE; the figures measured by tests/notifications/test_worker_faults.py are in the README's Faults table.
"""

import hashlib
import json
import logging
import smtplib
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from functools import partial

import requests
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
from django.utils.translation import gettext_noop

from cases.models import CaseEventKind
from cases.services import case_event_append
from cases.timeline import say, say_text
from inbox.tokens import case_reply_address

from .catalogue import TEMPLATES
from .models import Message, MessageStatus
from .rendering import message_render

logger = logging.getLogger(__name__)

ANYMAIL_REFUSED_STATUSES = {"rejected", "invalid", "failed"}

# Email backends whose provider drops a second request carrying the same idempotency key, and for how long
# (Resend: the Idempotency-Key HTTP header, 24 hours; Brevo: the idempotencyKey header, 15 minutes).
DEDUPLICATING_BACKENDS = {
    "notifications.backends.ResendEmailBackend": timedelta(hours=24),
    "anymail.backends.brevo.EmailBackend": timedelta(minutes=15),
    "anymail.backends.sendinblue.EmailBackend": timedelta(minutes=15),
}
# Resend a message in doubt to a deduplicating provider only this long before its replay window ends.
DEDUPLICATION_MARGIN = timedelta(minutes=2)


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
    result: str  # sent | failed | in_doubt | already_done | sending | busy | not_due | gone


def _message_hand_over(message_id: int, countdown: int | None = None) -> bool:
    """Give the row to the worker. If the broker is down the row simply waits for the sweep."""
    from .tasks import send_message_task

    try:
        send_message_task.apply_async(args=[message_id], retry=False, countdown=countdown)
    except Exception as exc:  # the broker is down or unreachable: the outbox row is the record, not the task
        logger.warning("Message %s left queued for the sweep: broker unavailable (%s)", message_id, exc)
        return False
    return True


def _json_context(context: dict | None) -> dict:
    try:
        return json.loads(json.dumps(context or {}, cls=DjangoJSONEncoder))
    except (TypeError, ValueError) as exc:
        raise ValidationError({"context": f"The context must be JSON-serialisable: {exc}"}) from exc


def _messages_hand_over(message_ids: list[int]) -> None:
    """Give rows to the worker in batches (send_messages_task: one provider session per batch)."""
    from .tasks import send_messages_task

    size = max(settings.NOTIFICATIONS_SEND_BATCH_SIZE, 1)
    for start in range(0, len(message_ids), size):
        try:
            send_messages_task.apply_async(args=[message_ids[start:start + size]], retry=False)
        except Exception as exc:  # the broker is down: the rows wait for the sweep
            logger.warning("%s messages left queued for the sweep: broker unavailable (%s)",
                           len(message_ids) - start, exc)
            return


def message_errors(*, recipient: str, template: str, idempotency_key: str, language: str) -> dict[str, str]:
    """What is wrong with a message to be queued, by field (empty: nothing)."""
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
    return errors


@transaction.atomic
def message_queue(
    *, recipient: str, template: str, idempotency_key: str, context: dict | None = None, language: str = "en",
    time_zone: str = "UTC", case=None, send_after: timedelta | None = None,
) -> tuple[Message, bool]:
    """Write one outbox row in the caller's transaction; the worker gets it when that transaction commits.

    The idempotency key is unique: queueing the same key again returns the existing row and sends nothing more.
    ``send_after`` keeps the row queued that long first, so a person can still hold it back (message_hold_back).
    """
    errors = message_errors(recipient=recipient, template=template, idempotency_key=idempotency_key,
                            language=language)
    if errors:
        raise ValidationError(errors)
    values = _json_context(context)
    now = timezone.now()
    delay = max(int(send_after.total_seconds()), 0) if send_after else 0
    try:
        with transaction.atomic():
            message = Message.objects.create(
                idempotency_key=idempotency_key.strip(), recipient=recipient, template=template, context=values,
                language=language, time_zone=time_zone or "UTC", case=case,
                next_attempt_at=now + timedelta(seconds=delay), created_at=now, status_changed_at=now,
            )
    except IntegrityError:
        existing = Message.objects.filter(idempotency_key=idempotency_key.strip()).first()
        if existing is None:
            raise
        return existing, False
    transaction.on_commit(partial(_message_hand_over, message.pk, delay or None), robust=True)
    return message, True


@dataclass(frozen=True)
class MessageDraft:
    """One message for message_queue_many: the arguments of message_queue, without a case or a delay."""

    recipient: str
    template: str
    idempotency_key: str
    context: dict
    language: str = "en"
    time_zone: str = "UTC"


@transaction.atomic
def message_queue_many(*, drafts: list[MessageDraft]) -> list[int]:
    """Write many outbox rows in one INSERT, in the caller's transaction; handed over in batches on commit.

    As message_queue, row by row: a draft whose idempotency key is already queued adds nothing (INSERT ... ON
    CONFLICT DO NOTHING on the unique key). Returns the ids of the rows this call inserted; only they are handed
    over. Raises ValidationError, naming the key, for a draft message_queue would refuse (nothing is written).
    """
    if not drafts:
        return []
    for draft in drafts:
        errors = message_errors(recipient=draft.recipient, template=draft.template,
                                idempotency_key=draft.idempotency_key, language=draft.language)
        if errors:
            raise ValidationError({draft.idempotency_key or "idempotency_key": list(errors.values())})
    now = timezone.now()
    rows = [
        {"idempotency_key": draft.idempotency_key.strip(), "recipient": draft.recipient, "template": draft.template,
         "context": _json_context(draft.context), "language": draft.language, "time_zone": draft.time_zone or "UTC",
         "status": MessageStatus.QUEUED, "attempts": 0, "last_error": "", "esp_message_id": "", "case": None,
         "created_at": now, "next_attempt_at": now, "status_changed_at": now}
        for draft in drafts
    ]
    inserted = [message_id for (message_id,) in insert_ignoring_conflicts(
        Message, rows, conflict_fields=["idempotency_key"], returning=["id"])]
    if inserted:
        transaction.on_commit(partial(_messages_hand_over, sorted(inserted)), robust=True)
    return inserted


def insert_ignoring_conflicts(model, rows: list[dict], *, conflict_fields: list[str],
                              returning: list[str]) -> list[tuple]:
    """INSERT the rows in one statement, ON CONFLICT (the unique fields) DO NOTHING, RETURNING the inserted rows.

    Django's bulk_create(ignore_conflicts=True) does not say which rows it inserted; this does (PostgreSQL, and
    SQLite 3.35+). Values are prepared by the model's fields, as save() prepares them.
    """
    if not rows:
        return []
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in rows[0]]
    params = []
    for row in rows:
        params.extend(field.get_db_prep_save(row[field.name], connection) for field in fields)
    placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (
        # Only the model's own table and column names, quoted, go into the text; every value is a parameter.
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) "  # nosec B608
        f"VALUES {', '.join([placeholders] * len(rows))} "
        f"ON CONFLICT ({', '.join(quote(model._meta.get_field(name).column) for name in conflict_fields)}) "
        f"DO NOTHING RETURNING {', '.join(quote(model._meta.get_field(name).column) for name in returning)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


HELD_BACK_PREFIX = "held back: "


def message_is_held_back(message: Message) -> bool:
    return message.status == MessageStatus.FAILED and message.last_error.startswith(HELD_BACK_PREFIX)


@transaction.atomic
def message_hold_back(*, message_id: int, reason: str, by, now: datetime | None = None) -> Message:
    """A person stops a queued message before it leaves (e.g. the customer was told by phone), with a reason,
    recorded on its case's timeline. The row ends "failed" with the reason (the outbox has no other state for a
    message that will not be sent); ``message_resend`` still sends it if someone changes their mind."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the email is held back (e.g. the customer was told by phone)."})
    now = now or timezone.now()
    message = Message.objects.select_for_update(of=("self",)).select_related("case").get(pk=message_id)
    if message_is_held_back(message):
        return message
    if message.status != MessageStatus.QUEUED or message.attempts:
        raise ValidationError({"reason": "This email has already left or is being sent: it can no longer be held."})
    name = by.get_username() if by is not None else "caseapp"
    message.status = MessageStatus.FAILED
    message.last_error = f"{HELD_BACK_PREFIX}{reason} ({name})"[:2000]
    message.status_changed_at = now
    message.save(update_fields=["status", "last_error", "status_changed_at"])
    if message.case_id:
        said = say(gettext_noop("Email to %(email)s held back by %(name)s: %(reason)s"), email=message.recipient,
                   name=name, reason=reason)
        case_event_append(case=message.case, kind=CaseEventKind.NOTE, actor=by, text=say_text(said),
                          data={"message_id": message.pk, "template": message.template, "held_back": reason,
                                "say": said})
    return message


def _message_id_header(message: Message) -> str:
    """Stable per outbox row, so a receiver can recognise a resend of the same message."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "caseapp.invalid"
    digest = hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:32]
    return f"<{digest}.{message.pk}@{domain}>"


def provider_idempotency_key(message: Message) -> str:
    """The key an ESP deduplicates on: the same for every attempt of one outbox row (a UUID, as Brevo asks)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"caseapp:message:{message.pk}:{message.idempotency_key}"))


def backend_deduplication_window() -> timedelta | None:
    """How long the configured provider drops a repeated send with the same idempotency key (None: it does not)."""
    return DEDUPLICATING_BACKENDS.get(settings.EMAIL_BACKEND)


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


def send_error_leaves_doubt(exc: Exception) -> bool:
    """The message had left us and no answer came: the provider may have accepted it.

    Called only for errors raised after the connection was open (a failure to connect sent nothing). An SMTP
    reply code or an HTTP status is an answer; a timeout or a connection cut while waiting for one is not.
    """
    if isinstance(exc, smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused | smtplib.SMTPSenderRefused):
        return False
    if isinstance(exc, AnymailAPIError) and getattr(exc, "status_code", None):
        return False
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return False
    if isinstance(exc, requests.exceptions.ConnectionError):
        cause = exc.__cause__ if isinstance(exc, AnymailAPIError) else exc
        first = (getattr(cause, "args", ()) or (None,))[0]
        # urllib3 could not even connect (refused, no route): nothing was sent
        return type(getattr(first, "reason", None)).__name__ != "NewConnectionError"
    return isinstance(exc, requests.exceptions.Timeout | smtplib.SMTPServerDisconnected | socket.timeout
                      | TimeoutError | ConnectionError)


def send_error_reason(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{address}: {code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
            for address, (code, text) in exc.recipients.items()
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        return f"{exc.smtp_code} {text}"
    cause = f" ({type(exc.__cause__).__name__}: {exc.__cause__})" if exc.__cause__ else ""
    return f"{type(exc).__name__}: {exc}{cause}"[:2000]


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


def _message_retry_later(message: Message, *, reason: str, now: datetime) -> int:
    """Back to "queued" with the next attempt after the backoff (or failed after the last attempt)."""
    if message.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
        _message_fail(message, reason=reason, now=now)
        return 0
    delay = retry_delay_seconds(message.attempts)
    message.status = MessageStatus.QUEUED
    message.last_error = reason
    message.next_attempt_at = now + timedelta(seconds=delay)
    message.status_changed_at = now
    message.save(update_fields=["status", "last_error", "next_attempt_at", "status_changed_at"])
    return delay


def _message_hold(message: Message, *, reason: str, now: datetime) -> None:
    message.status = MessageStatus.IN_DOUBT
    message.last_error = reason
    message.status_changed_at = now
    message.save(update_fields=["status", "last_error", "status_changed_at"])
    logger.warning("Message %s held in doubt: %s", message.pk, reason)
    if message.case_id:
        case_event_append(
            case=message.case, kind=CaseEventKind.NOTIFICATION_FAILED,
            text=f"Email “{message.template}” to {message.recipient} may or may not have been sent ({reason}); "
                 f"it is held: resend it or confirm it arrived.",
            data={"message_id": message.pk, "template": message.template, "recipient": message.recipient,
                  "attempts": message.attempts, "reason": reason, "in_doubt": True},
        )


def _message_doubt_settle(message: Message, *, reason: str, now: datetime) -> str:
    """The provider may have the message. Resend only where that cannot make a second copy, or when configured."""
    window = backend_deduplication_window()
    started = message.last_attempt_at or now
    if window is not None and now - started < window - DEDUPLICATION_MARGIN:
        _message_retry_later(message, reason=f"{reason}; sent again with the same idempotency key", now=now)
        return message.status
    if settings.NOTIFICATIONS_IN_DOUBT == "resend":
        _message_retry_later(message, reason=f"{reason}; sent again with the same Message-ID", now=now)
        return message.status
    _message_hold(message, reason=reason, now=now)
    return message.status


def _message_build(message: Message, rendered) -> EmailMultiAlternatives:
    headers = {"Message-ID": _message_id_header(message), "X-Caseapp-Message": message.idempotency_key}
    if settings.EMAIL_BACKEND in ("anymail.backends.brevo.EmailBackend", "anymail.backends.sendinblue.EmailBackend"):
        headers["idempotencyKey"] = provider_idempotency_key(message)  # Brevo reads it from the headers
    # A case's email carries the case's signed reply address, so the customer's answer threads to it (inbox/).
    reply_to = [case_reply_address(message.case_id)] if message.case_id else None
    email = EmailMultiAlternatives(
        subject=rendered.subject, body=rendered.text, from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.recipient], headers=headers, reply_to=reply_to,
    )
    email.attach_alternative(rendered.html, "text/html")
    email.caseapp_idempotency_key = provider_idempotency_key(message)  # for backends that send it in HTTP headers
    return email


@transaction.atomic
def _message_claim(*, message_id: int, now: datetime) -> SendOutcome | tuple[Message, EmailMultiAlternatives]:
    """Step 1: commit "sending" with the attempt's time before anything is handed to the provider."""
    message = (
        Message.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("case").filter(pk=message_id).first()
    )
    if message is None:
        busy = Message.objects.filter(pk=message_id).exists()
        return SendOutcome(message_id, "busy" if busy else "gone")
    if message.status == MessageStatus.SENDING:
        return SendOutcome(message_id, "sending")
    if message.status != MessageStatus.QUEUED:
        return SendOutcome(message_id, "already_done")
    if message.next_attempt_at > now + timedelta(seconds=1):
        return SendOutcome(message_id, "not_due")
    message.attempts += 1
    try:
        rendered = message_render(
            template=message.template, context=message.context, language=message.language,
            time_zone=message.time_zone,
        )
    except Exception as exc:  # a message that cannot be written will not get better by retrying
        _message_fail(message, reason=f"could not be rendered: {send_error_reason(exc)}", now=now)
        logger.exception("Message %s could not be rendered", message.pk)
        return SendOutcome(message_id, "failed")
    message.status = MessageStatus.SENDING
    message.last_attempt_at = now
    message.status_changed_at = now
    message.save(update_fields=["status", "attempts", "last_attempt_at", "status_changed_at"])
    return message, _message_build(message, rendered)


def _message_ours(message: Message) -> Message | None:
    """The row, locked, if it is still in the attempt this worker claimed (nobody resolved it meanwhile)."""
    return (
        Message.objects.select_for_update(of=("self",)).select_related("case")
        .filter(pk=message.pk, status=MessageStatus.SENDING, attempts=message.attempts).first()
    )


def _message_settle_error(message: Message, exc: Exception, *, left_us: bool, now: datetime) -> SendOutcome:
    reason = send_error_reason(exc)
    delay = 0
    with transaction.atomic():
        row = _message_ours(message)
        if row is None:
            logger.warning("Message %s: attempt %s ended (%s) after it was resolved elsewhere", message.pk,
                           message.attempts, reason)
            return SendOutcome(message.pk, "already_done")
        if left_us and send_error_leaves_doubt(exc):
            status = _message_doubt_settle(row, reason=f"no answer from the email provider: {reason}", now=now)
            if status != MessageStatus.QUEUED:
                return SendOutcome(message.pk, "failed" if status == MessageStatus.FAILED else "in_doubt")
            delay = int((row.next_attempt_at - now).total_seconds())
        elif send_error_is_permanent(exc):
            _message_fail(row, reason=reason, now=now)
            logger.warning("Message %s failed: %s", message.pk, reason)
            return SendOutcome(message.pk, "failed")
        else:
            delay = _message_retry_later(row, reason=reason, now=now)
            if row.status == MessageStatus.FAILED:
                logger.warning("Message %s failed after %s attempts: %s", message.pk, row.attempts, reason)
                return SendOutcome(message.pk, "failed")
    raise MessageSendDeferred(message.pk, delay, reason)


@transaction.atomic
def _message_settle_sent(message: Message, email: EmailMultiAlternatives, *, now: datetime) -> SendOutcome:
    # An answer beats a doubt: if the sweep held this attempt meanwhile, the provider's "accepted" settles it.
    row = (
        Message.objects.select_for_update(of=("self",)).select_related("case")
        .filter(pk=message.pk, status__in=[MessageStatus.SENDING, MessageStatus.IN_DOUBT, MessageStatus.QUEUED])
        .first()
    )
    if row is None:
        return SendOutcome(message.pk, "already_done")
    status = getattr(email, "anymail_status", None)
    if status is not None and status.status and status.status <= ANYMAIL_REFUSED_STATUSES:
        _message_fail(row, reason=f"refused by the email provider ({', '.join(sorted(status.status))})", now=now)
        return SendOutcome(message.pk, "failed")
    esp_id = getattr(status, "message_id", None)
    row.status = MessageStatus.SENT
    row.esp_message_id = (email.extra_headers["Message-ID"] if esp_id in (None, "") else str(esp_id))[:255]
    row.sent_at = now
    row.status_changed_at = now
    row.last_error = ""
    row.save(update_fields=["status", "esp_message_id", "sent_at", "status_changed_at", "last_error"])
    return SendOutcome(message.pk, "sent")


def message_send(*, message_id: int, now: datetime | None = None) -> SendOutcome:
    """Send one outbox row, never twice. Raises MessageSendDeferred on a temporary failure (row queued again).

    Runs outside any transaction: the claim, the hand-over and the outcome are separate steps (module docstring).
    """
    claim = _message_claim(message_id=message_id, now=now or timezone.now())
    if isinstance(claim, SendOutcome):
        return claim
    message, email = claim
    connection = get_connection(fail_silently=False)
    email.connection = connection
    try:
        try:
            connection.open()
        except Exception as exc:  # nothing reached the provider
            return _message_settle_error(message, exc, left_us=False, now=now or timezone.now())
        try:
            email.send(fail_silently=False)
        except Exception as exc:
            return _message_settle_error(message, exc, left_us=True, now=now or timezone.now())
        return _message_settle_sent(message, email, now=now or timezone.now())
    finally:
        _connection_close(connection, message_id)


def _connection_close(connection, message_id: int) -> None:
    try:
        connection.close()
    except Exception:  # the outcome is already committed; a goodbye that fails changes nothing
        logger.debug("Closing the email connection after message %s failed", message_id, exc_info=True)


def _connection_is_alive(connection) -> bool:
    """Before a session is reused: an SMTP server may have hung up on an idle session, and a send on a dead one
    would fail after "the message left us" (a doubt) although nothing was sent. NOOP asks, at the cost of one
    round trip. HTTP backends (anymail) check their pooled connections themselves before reuse (urllib3)."""
    smtp = getattr(connection, "connection", None)
    if not isinstance(smtp, smtplib.SMTP):
        return True
    try:
        return smtp.noop()[0] == 250
    except Exception:  # noqa: BLE001 (any failure means: open a new session)
        return False


@dataclass
class BatchOutcome:
    outcomes: list[SendOutcome]
    deferred: list[MessageSendDeferred]  # queued again, each due after its backoff
    left: list[int]  # not claimed in this run (the time limit came near): hand them over again


def batch_claim_guard_seconds() -> float:
    """A batch claims its next row only while this much of the send time limit is left: three provider timeouts
    (the single send's own margin, NOTIFICATIONS_SENDING_TIMEOUT_SECONDS >= 3 * EMAIL_TIMEOUT by default), or half
    the limit where it is set shorter than that."""
    limit = settings.NOTIFICATIONS_SENDING_TIMEOUT_SECONDS
    margin = 3 * settings.EMAIL_TIMEOUT
    return margin if limit > margin else limit / 2


def message_send_batch(*, message_ids: list[int], started: float | None = None) -> BatchOutcome:
    """Send several outbox rows over one provider session (one SMTP connection, one HTTP session).

    Each row goes through the same three steps as in message_send, one row after the other: claimed (committed
    "sending") just before its hand-over, settled just after, so at most one row of the batch is ever "sending"
    and a row already sent, being sent or not due is left alone. A row whose send failed is settled as message_send
    settles it (retried later, failed, or in doubt) and the session is closed; the next row opens a new one.
    Rows are claimed only while the task's time limit is not near (batch_claim_guard_seconds); the rest are
    returned in `left`, for a new task.
    """
    started = time.monotonic() if started is None else started
    deadline = started + settings.NOTIFICATIONS_SENDING_TIMEOUT_SECONDS - batch_claim_guard_seconds()
    result = BatchOutcome(outcomes=[], deferred=[], left=[])
    connection = None
    try:
        for index, message_id in enumerate(message_ids):
            if index and time.monotonic() >= deadline:
                result.left = list(message_ids[index:])
                break
            if connection is not None and not _connection_is_alive(connection):
                _connection_close(connection, message_id)
                connection = None
            claim = _message_claim(message_id=message_id, now=timezone.now())
            if isinstance(claim, SendOutcome):
                result.outcomes.append(claim)
                continue
            message, email = claim
            try:
                if connection is None:
                    connection = get_connection(fail_silently=False)
                    try:
                        connection.open()
                    except Exception as exc:  # nothing reached the provider
                        _connection_close(connection, message_id)
                        connection = None
                        result.outcomes.append(_message_settle_error(message, exc, left_us=False, now=timezone.now()))
                        continue
                email.connection = connection
                try:
                    email.send(fail_silently=False)
                except Exception as exc:
                    _connection_close(connection, message_id)
                    connection = None
                    result.outcomes.append(_message_settle_error(message, exc, left_us=True, now=timezone.now()))
                    continue
                result.outcomes.append(_message_settle_sent(message, email, now=timezone.now()))
            except MessageSendDeferred as deferred:
                result.deferred.append(deferred)
    finally:
        if connection is not None:
            _connection_close(connection, message_ids[-1])
    return result


def message_doubt_resolve(*, message_id: int, now: datetime | None = None) -> str | None:
    """A row left "sending" past the send time limit: its worker died mid-send. Settle the doubt deliberately."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.NOTIFICATIONS_SENDING_TIMEOUT_SECONDS + SENDING_GRACE_SECONDS)
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(skip_locked=True, of=("self",)).select_related("case")
            .filter(pk=message_id, status=MessageStatus.SENDING, last_attempt_at__lte=cutoff).first()
        )
        if message is None:
            return None
        started = timezone.localtime(message.last_attempt_at).isoformat(timespec="seconds")
        status = _message_doubt_settle(
            message, reason=f"the worker stopped during attempt {message.attempts} (started {started})", now=now
        )
        if status == MessageStatus.QUEUED:  # long after the attempt: no backoff to wait for
            message.next_attempt_at = now
            message.save(update_fields=["next_attempt_at"])
    if status == MessageStatus.QUEUED:
        transaction.on_commit(partial(_message_hand_over, message_id), robust=True)
    return status


# A few seconds on top of the send time limit, for the worker's clock and the kill itself.
SENDING_GRACE_SECONDS = 5


@transaction.atomic
def message_resend(*, message_id: int, by=None, now: datetime | None = None) -> Message:
    """A person sends a held (or failed) message again: same row, same Message-ID, same idempotency key."""
    now = now or timezone.now()
    message = Message.objects.select_for_update(of=("self",)).select_related("case").get(pk=message_id)
    if message.status not in (MessageStatus.IN_DOUBT, MessageStatus.FAILED):
        raise ValidationError({"status": f"Only a message in doubt or failed can be resent (it is {message.status})."})
    message.status = MessageStatus.QUEUED
    message.next_attempt_at = now
    message.status_changed_at = now
    message.attempts = min(message.attempts, max(settings.NOTIFICATIONS_MAX_ATTEMPTS - 1, 0))
    message.save(update_fields=["status", "next_attempt_at", "status_changed_at", "attempts"])
    logger.info("Message %s resent by %s", message.pk, getattr(by, "username", "the system"))
    transaction.on_commit(partial(_message_hand_over, message.pk), robust=True)
    return message


@transaction.atomic
def message_confirm_sent(*, message_id: int, by=None, now: datetime | None = None) -> Message:
    """A person confirms a message in doubt did arrive (the customer has it, or the provider's log shows it)."""
    now = now or timezone.now()
    message = Message.objects.select_for_update(of=("self",)).get(pk=message_id)
    if message.status != MessageStatus.IN_DOUBT:
        raise ValidationError({"status": f"Only a message in doubt can be confirmed (it is {message.status})."})
    message.status = MessageStatus.SENT
    message.sent_at = message.last_attempt_at or now
    message.esp_message_id = message.esp_message_id or _message_id_header(message)
    message.status_changed_at = now
    message.save(update_fields=["status", "sent_at", "esp_message_id", "status_changed_at"])
    logger.info("Message %s confirmed sent by %s", message.pk, getattr(by, "username", "the system"))
    return message


def outbox_sweep(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Hand over again the rows left queued too long (broker down at commit time, a worker died before its claim),
    and settle the rows left "sending" by a worker that died mid-send (`message_doubt_resolve`).

    A row is touched (next_attempt_at = now) when it is handed over, so the next sweep waits another grace period.
    Stops at the first broker error: the rows stay queued for the next sweep.
    """
    now = now or timezone.now()
    abandoned = now - timedelta(seconds=settings.NOTIFICATIONS_SENDING_TIMEOUT_SECONDS + SENDING_GRACE_SECONDS)
    for message_id in list(
        Message.objects.filter(status=MessageStatus.SENDING, last_attempt_at__lte=abandoned)
        .order_by("pk").values_list("pk", flat=True)[:batch_size]
    ):
        message_doubt_resolve(message_id=message_id, now=now)
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
