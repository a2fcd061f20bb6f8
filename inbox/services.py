"""Inbound email: one service behind every way in (manage.py receive_email, fetch_email, anymail's webhooks).

``inbound_email_receive`` stores the message once (the unique Message-ID is claimed in the transaction that does
the work, so a retry, two mailboxes, or IMAP and a webhook at once store it once), then:

- an automatic message (auto-reply, out-of-office, list mail, bounce) opens no case and sends nothing; a bounce
  marks our outbox message bounced;
- a message that cannot be read (malformed MIME, no sender) is kept raw as "unprocessed" for the managers;
- a reply is threaded to its case by its In-Reply-To / References ids (our outgoing Message-IDs and earlier
  inbound ones), then the signed reply address (inbox.tokens), then ``[#case]`` in the subject (only from the
  case's customer); it reopens a resolved case and does not count as our first response;
- anything else opens a case for its customer (created if unknown, its language guessed from the text), linked to
  the order a number in the subject or body names, or lands on that order's open case.
"""

import logging
import re
from functools import lru_cache

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from cases.models import (
    OPEN_STATUSES,
    AttachmentSource,
    Case,
    CaseCategory,
    CaseChannel,
    CaseEventKind,
    CaseStatus,
)
from cases.services import (
    ACT_CUSTOMER_WROTE,
    attachment_store,
    case_change_status,
    case_event_append,
    case_open,
    case_status_follow,
)
from cases.timeline import say, say_text
from customers.models import Customer
from customers.services import customer_upsert

from . import tokens
from .models import InboundMessage, InboundProblem, InboundSource, InboundStatus
from .parsing import ParsedEmail, email_parse

logger = logging.getLogger(__name__)

LANGUAGES = ("en", "ro", "ru", "it")
SUBJECT_CASE = re.compile(r"\[#(\d{1,18})\]")
# "#1004", "1004", "SHOP-1004", "ORD-0001004": a run of at least three digits, with the letters and dash before it
ORDER_CANDIDATE = re.compile(r"(?<![\w-])#?((?:[A-Za-z]{1,10}-?)?\d{3,20})(?![\w-])")
MAX_ORDER_CANDIDATES = 50


@lru_cache(maxsize=1)
def _language_identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def language_guess(text: str) -> str:
    """en, ro, ru or it: the shop's languages only (py3langid); English when there is nothing to go on."""
    text = (text or "").strip()
    if len(re.findall(r"\w+", text)) < 2:
        return "en"
    return _language_identifier().classify(text[:5000])[0]


def order_candidates(*texts: str) -> list[str]:
    """The order numbers a customer may mean, as the shop may store them (with or without its prefix)."""
    prefix = getattr(settings, "CASEAPP_ORDER_NUMBER_PREFIX", "")
    found = []
    for text in texts:
        for token in ORDER_CANDIDATE.findall(text or ""):
            found.append(token)
            if prefix and token.isdigit():
                found.append(f"{prefix}{token}")
    return list(dict.fromkeys(found))[:MAX_ORDER_CANDIDATES]


def _order_named(customer, parsed: ParsedEmail):
    from orders.models import Order

    candidates = order_candidates(parsed.subject, parsed.text_reply)
    if not candidates or customer is None:
        return None
    matches = Q()
    for candidate in candidates:
        matches |= Q(number__iexact=candidate)
    orders = {order.number.lower(): order for order in Order.objects.filter(matches, customer=customer)}
    for candidate in candidates:  # the first one the customer wrote wins
        if candidate.lower() in orders:
            return orders[candidate.lower()]
    return None


def _outgoing_case(ids: list[str]):
    """The case of our outbox message with one of these Message-IDs (ours: ``<digest.pk@domain>``, or the id
    the email provider gave it)."""
    from notifications.models import Message
    from notifications.services import _message_id_header

    by_pk = {}
    for value in ids:
        match = re.fullmatch(r"<[0-9a-f]{32}\.(\d{1,18})@[^>]+>", value)
        if match:
            by_pk[int(match.group(1))] = value
    candidates = list(Message.objects.filter(pk__in=by_pk, case__isnull=False))
    candidates += list(Message.objects.filter(esp_message_id__in=[v.strip("<>") for v in ids] + ids,
                                              case__isnull=False))
    for value in ids:
        for message in candidates:
            if _message_id_header(message) == value or message.esp_message_id in (value, value.strip("<>")):
                return message
    return None


def _thread(parsed: ParsedEmail, sender: Customer | None) -> tuple[Case | None, str]:
    """The case this message continues, and how it was found ("" for none)."""
    ids = list(dict.fromkeys(([parsed.in_reply_to] if parsed.in_reply_to else []) + parsed.references[::-1]))
    if ids:
        message = _outgoing_case(ids)
        if message is not None:
            return Case.objects.get(pk=message.case_id), "message_id"
        earlier = (InboundMessage.objects.filter(message_id__in=ids, case__isnull=False)
                   .order_by("-received_at").first())
        if earlier is not None:
            return Case.objects.get(pk=earlier.case_id), "message_id"
    case_id = tokens.case_id_from_addresses(parsed.to_addresses)
    if case_id is not None:
        case = Case.objects.filter(pk=case_id).first()
        if case is not None:
            return case, "reply_address"
    match = SUBJECT_CASE.search(parsed.subject or "")
    if match and sender is not None:  # only the case's own customer threads by the subject alone
        case = Case.objects.filter(pk=int(match.group(1)), customer=sender).first()
        if case is not None:
            return case, "subject"
    return None, ""


def _bounce_record(parsed: ParsedEmail) -> int:
    """Mark the outbox messages a delivery report is about as bounced (notifications' tracking rule)."""
    from notifications.services import message_tracking_record

    message = _outgoing_case(parsed.bounced_message_ids) if parsed.bounced_message_ids else None
    ids = {i.strip("<>") for i in parsed.bounced_message_ids} | set(parsed.bounced_message_ids)
    if message is not None:
        ids.add(message.esp_message_id)
    changed = 0
    for esp_message_id in sorted(i for i in ids if i):
        changed += message_tracking_record(esp_message_id=esp_message_id, event_type="bounced",
                                           description=f"bounce: {parsed.subject}"[:500])
    return changed


def _customer_wrote(*, case: Case, inbound: InboundMessage, parsed: ParsedEmail, how: str) -> Case:
    """Put the email on the case's timeline. On a case it continues (``how`` says how it was found), a resolved or
    closed case is reopened and a case waiting on the customer is open again; a case the email just opened stays
    new, for the queue. Our first-response clock is not touched: the customer writing is not our answer."""
    case_event_append(
        case=case, kind=CaseEventKind.EMAIL_IN, text=parsed.text_reply or parsed.subject,
        data={"inbound_message_id": inbound.pk, "from": parsed.from_address, "subject": parsed.subject,
              "threaded_by": how, "has_quoted_history": parsed.text_reply.strip() != parsed.text.strip()},
    )
    if how == "new":
        return case
    if case.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        message = say(gettext_noop("Reopened: the customer wrote again by email."))
        case = case_change_status(case=case, status=CaseStatus.OPEN, reason=say_text(message))
    else:
        case = case_status_follow(case=case, act=ACT_CUSTOMER_WROTE)
    return case


def _attachments_store(*, case: Case, inbound: InboundMessage, parsed: ParsedEmail) -> None:
    kept = []
    for file in parsed.attachments:
        attachment = attachment_store(case=case, filename=file.filename, content_type=file.content_type,
                                      data=file.data, source=AttachmentSource.INBOUND_EMAIL, email=inbound)
        if attachment is not None:
            kept.append(attachment.pk)
    if kept:
        inbound.data = {**inbound.data, "attachment_ids": kept}


def _case_new(*, parsed: ParsedEmail, customer: Customer):
    order = _order_named(customer, parsed)
    if order is not None:
        open_case = (Case.objects.filter(order=order, status__in=OPEN_STATUSES)
                     .order_by("-arrived_at", "-arrival_number").first())
        if open_case is not None:
            return open_case, "order"
    subject = (parsed.subject or parsed.text_reply.split("\n", 1)[0] or gettext("(no subject)")).strip()[:200]
    reported_at = parsed.sent_at if parsed.sent_at and parsed.sent_at <= timezone.now() else None
    try:
        with transaction.atomic():
            case = case_open(customer=customer, category=CaseCategory.OTHER, channel=CaseChannel.EMAIL,
                             subject=subject, description=parsed.text_reply, order=order, reported_at=reported_at)
    except Exception as exc:  # a Date header before the customer existed: the case is opened without it
        from django.core.exceptions import ValidationError

        if not isinstance(exc, ValidationError) or reported_at is None:
            raise
        case = case_open(customer=customer, category=CaseCategory.OTHER, channel=CaseChannel.EMAIL,
                         subject=subject, description=parsed.text_reply, order=order)
    return case, ""


def _process(inbound: InboundMessage, parsed: ParsedEmail) -> None:
    if parsed.auto_reason:
        inbound.status = InboundStatus.IGNORED_AUTO
        inbound.reason = parsed.auto_reason[:500]
        if parsed.is_bounce:
            inbound.data = {**inbound.data, "bounced_outbox_messages": _bounce_record(parsed)}
        return
    if parsed.problem:
        inbound.status = InboundStatus.UNPROCESSED
        inbound.reason = parsed.problem[:500]
        inbound.problem = parsed.problem_kind or InboundProblem.UNREADABLE
        return
    inbound.language = language_guess(f"{parsed.subject}\n{parsed.text_reply}")
    sender = Customer.objects.filter(email__iexact=parsed.from_address).first()
    case, how = _thread(parsed, sender)
    if case is None:
        if sender is None:  # a new customer is written to in the language they wrote in
            sender, _ = customer_upsert(email=parsed.from_address, name=parsed.from_name,
                                        preferred_language=inbound.language)
        case, how = _case_new(parsed=parsed, customer=sender)
    case = _customer_wrote(case=case, inbound=inbound, parsed=parsed, how=how or "new")
    _attachments_store(case=case, inbound=inbound, parsed=parsed)
    inbound.case = case
    inbound.threaded_by = how
    inbound.status = InboundStatus.PROCESSED


@transaction.atomic
def inbound_email_receive(raw: bytes, *, source: str) -> tuple[InboundMessage, bool]:
    """Store one raw RFC 822 message once and act on it. Returns (message, created): the same Message-ID again
    returns the stored one with created=False and does nothing more.

    Never loses a message: whatever goes wrong while acting on it (short of the database itself failing), the raw
    message is stored as "unprocessed" with the reason, and the error is logged."""
    if source not in InboundSource.values:
        raise ValueError(f"{source!r} is not an inbound source")
    raw = bytes(raw or b"")
    parsed = email_parse(raw)
    inbound = InboundMessage(
        message_id=parsed.message_id, raw=raw, source=source, status=InboundStatus.UNPROCESSED,
        from_address=parsed.from_address, from_name=parsed.from_name, to_addresses=parsed.to_addresses,
        subject=parsed.subject, sent_at=parsed.sent_at, in_reply_to=parsed.in_reply_to,
        references=parsed.references, text=parsed.text, text_reply=parsed.text_reply, html=parsed.html,
    )
    try:
        with transaction.atomic():  # the unique Message-ID is claimed here, in the transaction doing the work
            inbound.save()
    except IntegrityError:
        existing = InboundMessage.objects.filter(message_id=parsed.message_id).first()
        if existing is None:
            raise
        logger.info("inbound email %s (%s) already stored as #%s", parsed.message_id, source, existing.pk)
        return existing, False
    try:
        with transaction.atomic():
            _process(inbound, parsed)
    except (OperationalError, InterfaceError):
        raise  # the database is gone: the caller (the MTA, the provider, IMAP) retries; nothing was stored
    except Exception as exc:
        logger.exception("inbound email %s kept unprocessed", parsed.message_id)
        inbound.case, inbound.threaded_by, inbound.data = None, "", {}
        inbound.status = InboundStatus.UNPROCESSED
        inbound.problem = InboundProblem.FAILED
        inbound.reason = f"could not be processed: {type(exc).__name__}: {exc}"[:500]
    inbound.save()
    return inbound, True
