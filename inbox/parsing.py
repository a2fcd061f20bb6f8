"""Reading a raw RFC 822 message: pure functions, no database.

The standard library's ``email`` package with ``email.policy.default`` does the MIME work (charsets, RFC 2047
names and subjects, RFC 2231 file names); nh3 sanitizes the HTML; mail-parser-reply takes the quoted history off
the text. Nothing here raises on a malformed message: what cannot be read is said in ``ParsedEmail.problem``.
"""

import hashlib
import html as html_lib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import errors as email_errors
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser, HeaderParser
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

import nh3

# Structure defects after which the body cannot be trusted (the boundary never appears, ...): kept raw, unprocessed.
BROKEN_STRUCTURE = (email_errors.StartBoundaryNotFoundDefect, email_errors.NoBoundaryInMultipartDefect,
                    email_errors.MultipartInvariantViolationDefect)
MESSAGE_ID_MAX = 255
# Languages whose "On ... wrote:" lines mail-parser-reply knows (it has none for ro and ru: caseapp's own patterns
# below cut those, and the Gmail/Outlook shapes its Italian patterns miss, before the parser runs).
REPLY_PARSER_LANGUAGES = ["en", "it", "de", "fr", "es"]

# caseapp's own quoted-history patterns, for the attribution lines and header blocks of Gmail, Outlook, Apple Mail,
# Thunderbird, Yahoo, Yandex and Mail.ru in en, ro, ru and it (mail-parser-reply 1.x has no ro or ru).
# The last line of an attribution: "... a scris:", "... написал(а):", "... пишет:", "... ha scritto:", "... wrote:".
QUOTE_ATTRIBUTION_VERB = re.compile(
    r"(?:\ba\s+scris|написал\(а\)|написала?|пишет|\bha\s+scritto|\bwrote)\s*:\s*$", re.IGNORECASE)
# Gmail in Russian (and Yandex, Mail.ru) write no verb: "ср, 2 дек. 2026 г. в 10:15, Иван <ivan@example.ru>:".
QUOTE_ATTRIBUTION_ADDRESS = re.compile(r"\d{1,2}:\d{2}.*<[^<>\s]+@[^<>\s]+>\s*:\s*$")
# Where a wrapped attribution starts ("On Wed, ...", "În data de ...", "Pe 2 dec.", "Il giorno ...", "ср, 2 дек.",
# "02.12.2026 ...", "Среда, 2 декабря ...").
QUOTE_ATTRIBUTION_START = re.compile(r"^(?:On|În|In|Pe|Il|Le|Am|El|\d|\w{2,11}[.,]\s*\d)", re.IGNORECASE)
# Outlook's separators: "-----Original Message-----" and its translations.
QUOTE_SEPARATOR = re.compile(
    r"^-{2,}\s*(?:Original Message|Mesaj(?:ul)? original|Исходное сообщение|Messaggio originale)\s*-{2,}\s*$",
    re.IGNORECASE)
QUOTE_RULE = re.compile(r"^[_\-]{20,}\s*$")
# Outlook's header block: a From line followed by another header line (Sent/Date/To/Subject/Cc) in any language.
QUOTE_HEADER_FROM = re.compile(r"^\*?(?:From|De la|От|Da)\s*:\*?\s*\S", re.IGNORECASE)
QUOTE_HEADER_NEXT = re.compile(
    r"^\*?(?:Sent|Date|To|Subject|Cc|Trimis|Data|Către|Catre|Subiect|Отправлено|Дата|Кому|Тема|Копия|Inviato|A|"
    r"Oggetto)\s*:", re.IGNORECASE)
# What survives nh3 in inbound HTML: text formatting, links and tables; no images (they are attachments), no style.
HTML_TAGS = {"a", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4", "hr", "i", "li", "ol", "p",
             "pre", "span", "strong", "table", "tbody", "td", "th", "thead", "tr", "u", "ul"}


@dataclass
class ParsedAttachment:
    filename: str
    content_type: str
    data: bytes
    inline: bool = False


@dataclass
class ParsedEmail:
    message_id: str
    problem: str = ""  # why the message cannot be processed ("" when it can), for the record
    problem_kind: str = ""  # the same as an inbox.models.InboundProblem code
    auto_reason: str = ""  # why it is an automatic message (auto-reply, bounce), "" for a person's mail
    is_bounce: bool = False
    bounced_message_ids: list[str] = field(default_factory=list)
    from_address: str = ""
    from_name: str = ""
    to_addresses: list[str] = field(default_factory=list)
    subject: str = ""
    sent_at: datetime | None = None
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    text: str = ""
    text_reply: str = ""
    html: str = ""
    attachments: list[ParsedAttachment] = field(default_factory=list)


def _header(message, name: str) -> str:
    """A header as text, or "" when it is missing or cannot be decoded."""
    try:
        value = message.get(name)
    except Exception:  # a header the policy cannot parse
        value = message.get_all(name, [None])[0] if hasattr(message, "get_all") else None
    if value is None:
        return ""
    return re.sub(r"\s+", " ", str(value)).strip()


def message_ids_in(value: str) -> list[str]:
    """The ``<...>`` ids in an In-Reply-To or References header, in order."""
    return [f"<{found.strip()}>" for found in re.findall(r"<([^<>\s]+)>", value or "")]


def message_id_of(raw: bytes, header_value: str) -> str:
    """The id the message is stored under: its Message-ID, or one derived from its bytes when it has none (so the
    same bytes twice are still stored once)."""
    ids = message_ids_in(header_value)
    value = ids[0] if ids else (header_value or "").strip()
    if not value or len(value) > MESSAGE_ID_MAX:
        value = f"<{hashlib.sha256(raw).hexdigest()}@no-message-id.caseapp.invalid>"
    return value


def _decoded_text(part) -> str:
    """A text part's content in any charset it declares; an unknown charset is read as UTF-8 with replacements."""
    try:
        content = part.get_content()
        if isinstance(content, str):
            return content
    except (LookupError, UnicodeError, KeyError, AssertionError, ValueError):
        pass
    payload = part.get_payload(decode=True) or b""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        return payload.decode("utf-8", errors="replace")


def html_sanitize(value: str) -> str:
    """Customer HTML made safe to show: no scripts, no event handlers, no styles, no remote images."""
    return nh3.clean(value or "", tags=HTML_TAGS, attributes={"a": {"href", "title"}},
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow")


def html_to_text(value: str) -> str:
    """The words of an HTML-only email, for the timeline (block tags become line breaks)."""
    value = re.sub(r"(?is)<(script|style|head)\b.*?</\1\s*>", " ", value or "")
    value = re.sub(r"(?i)<br\s*/?>|</(p|div|li|tr|h[1-6]|blockquote)\s*>", "\n", value)
    value = html_lib.unescape(nh3.clean(value, tags=set()))
    return re.sub(r"\n\s*\n+", "\n\n", re.sub(r"[ \t\xa0]+", " ", value)).strip()


def _next_filled(lines: list[str], index: int) -> str:
    """The first non-empty line after ``index`` ("" when there is none)."""
    for line in lines[index + 1:]:
        if line.strip():
            return line.strip()
    return ""


def _attribution_start(lines: list[str], end: int) -> int:
    """Where the attribution ending at line ``end`` starts: mail clients wrap it over up to three lines (a line that
    starts as an attribution does is one by itself: the customer's line above it stays theirs)."""
    if QUOTE_ATTRIBUTION_START.match(lines[end].strip()):
        return end
    for start in (end - 2, end - 1):
        if start < 0:
            continue
        wrapped = lines[start:end]
        if (QUOTE_ATTRIBUTION_START.match(lines[start].strip())
                and all(line.strip() and not line.lstrip().startswith(">")
                        and not line.rstrip().endswith((".", "!", "?")) for line in wrapped)):
            return start
    return end


def quoted_history_start(text: str) -> int | None:
    """The line where the quoted history starts by caseapp's own patterns (attribution lines, Outlook separators
    and header blocks in en/ro/ru/it), or None when none is found."""
    lines = (text or "").splitlines()
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith(">"):
            continue
        if QUOTE_SEPARATOR.match(stripped):
            return index
        if QUOTE_HEADER_FROM.match(stripped) and QUOTE_HEADER_NEXT.match(_next_filled(lines, index)):
            before = index - 1
            while before >= 0 and not lines[before].strip():
                before -= 1
            return before if before >= 0 and QUOTE_RULE.match(lines[before].strip()) else index
        if QUOTE_ATTRIBUTION_ADDRESS.search(stripped):
            return _attribution_start(lines, index)
        previous = lines[index - 1].strip() if index else ""
        if QUOTE_ATTRIBUTION_VERB.search(f"{previous} {stripped}" if previous[:1] != ">" else stripped):
            start = _attribution_start(lines, index)
            attribution = " ".join(lines[start:index + 1])
            # a bare "Elena a scris:" counts only when a quote follows it (not "Soțul meu a scris:" in a sentence)
            if re.search(r"\d|@", attribution) or _next_filled(lines, index).startswith(">"):
                return start
    return None


def reply_text(text: str) -> str:
    """The text without the quoted history (caseapp's patterns, then mail-parser-reply); the whole text when
    nothing is left."""
    from mailparser_reply import EmailReplyParser

    start = quoted_history_start(text)
    if start is not None and "\n".join(text.splitlines()[:start]).strip():
        text = "\n".join(text.splitlines()[:start])
    try:
        found = EmailReplyParser(languages=REPLY_PARSER_LANGUAGES).parse_reply(text=text or "")
    except Exception:  # the parser is a heuristic: it never costs the message
        found = ""
    found = (found or "").strip()
    if not found:
        return (text or "").strip()
    lines = found.splitlines()
    while lines and lines[-1].lstrip().startswith(">"):  # a quote the parser did not recognise as one
        lines.pop()
    return "\n".join(lines).strip() or (text or "").strip()


def auto_reason_of(message) -> str:
    """Why this is an automatic message (RFC 3834 and the headers mail servers really send), "" when it is not."""
    auto_submitted = _header(message, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"):
        if _header(message, name):
            return f"{name}: {_header(message, name)}"
    precedence = _header(message, "Precedence").lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"Precedence: {precedence}"
    return_path = message.get_all("Return-Path") or []
    if return_path and all(str(value).strip() in ("<>", "") for value in return_path):
        return "empty Return-Path"
    if message.get_content_type() == "multipart/report":
        return "delivery report"
    return ""


def _bounced_ids(message) -> list[str]:
    """The Message-IDs of our messages a delivery report (multipart/report, RFC 3464) is about."""
    found = []
    for part in message.walk():
        kind = part.get_content_type()
        headers = None
        if kind == "message/rfc822":
            payload = part.get_payload()
            headers = payload[0] if isinstance(payload, list) and payload else None
        elif kind == "text/rfc822-headers":
            headers = HeaderParser(policy=policy.default).parsestr(_decoded_text(part))
        if headers is not None:
            found += message_ids_in(_header(headers, "Message-ID"))
    return list(dict.fromkeys(found))


def _walk_parts(part):
    """The leaf parts, in order; a forwarded message (message/rfc822) is one leaf, kept whole as a file."""
    if part.get_content_type() == "message/rfc822" or not part.is_multipart():
        yield part
        return
    for sub in part.iter_parts():
        yield from _walk_parts(sub)


def _body_and_files(message: EmailMessage, parsed: ParsedEmail) -> None:
    text_parts, html_parts = [], []
    for part in _walk_parts(message):
        kind = part.get_content_type()
        disposition = part.get_content_disposition()
        filename = part.get_filename() if disposition or part.get_param("name") else None
        if kind in ("text/plain", "text/html") and disposition != "attachment" and not filename:
            (text_parts if kind == "text/plain" else html_parts).append(_decoded_text(part))
            continue
        if part.is_multipart() and kind != "message/rfc822":
            continue
        if kind == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            data = inner.as_bytes(policy=policy.SMTP) if inner is not None else b""
            name = filename or (_header(inner, "Subject") if inner is not None else "") or "forwarded"
            name = name if name.lower().endswith(".eml") else f"{name}.eml"
            parsed.attachments.append(ParsedAttachment(filename=name, content_type="message/rfc822", data=data))
            continue
        if kind in ("message/delivery-status", "text/rfc822-headers"):
            continue
        data = part.get_payload(decode=True) or b""
        extension = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif"}.get(kind, "")
        parsed.attachments.append(ParsedAttachment(
            filename=filename or f"attachment{extension}", content_type=kind, data=data,
            inline=disposition == "inline" or bool(part.get("Content-ID")),
        ))
    parsed.text = "\n\n".join(t.strip() for t in text_parts if t.strip())
    raw_html = "\n".join(html_parts)
    parsed.html = html_sanitize(raw_html) if raw_html.strip() else ""
    if not parsed.text and raw_html.strip():
        parsed.text = html_to_text(raw_html)
    parsed.text_reply = reply_text(parsed.text)


def _scrub(value: str) -> str:
    """Text PostgreSQL can store: no NUL, no lone surrogate (what undecodable bytes become)."""
    return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8") if value else value


def _scrubbed(parsed: ParsedEmail) -> ParsedEmail:
    for name, value in vars(parsed).items():
        if isinstance(value, str):
            setattr(parsed, name, _scrub(value))
        elif isinstance(value, list) and all(isinstance(item, str) for item in value):
            setattr(parsed, name, [_scrub(item) for item in value])
    for attachment in parsed.attachments:
        attachment.filename = _scrub(attachment.filename)
    return parsed


def email_parse(raw: bytes) -> ParsedEmail:
    """Everything caseapp reads from a raw message. Never raises: a message it cannot read has a ``problem``."""
    return _scrubbed(_email_parse(raw))


def _email_parse(raw: bytes) -> ParsedEmail:
    raw = bytes(raw or b"")
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception as exc:  # the parser is lenient; this is truly unreadable input
        return ParsedEmail(message_id=message_id_of(raw, ""), problem=f"unreadable: {type(exc).__name__}",
                           problem_kind="unreadable")
    parsed = ParsedEmail(message_id=message_id_of(raw, _header(message, "Message-ID")))
    try:
        parsed.auto_reason = auto_reason_of(message)
        parsed.is_bounce = message.get_content_type() == "multipart/report" and (
            (message.get_param("report-type") or "").lower() == "delivery-status")
        if parsed.is_bounce:
            parsed.bounced_message_ids = _bounced_ids(message)
        name, address = parseaddr(_header(message, "From"))
        parsed.from_name, parsed.from_address = name.strip()[:200], address.strip()[:254]
        parsed.to_addresses = [address.strip() for _, address in getaddresses(
            [_header(message, h) for h in ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")]
        ) if "@" in address][:50]
        parsed.subject = _header(message, "Subject")[:500]
        try:
            parsed.sent_at = parsedate_to_datetime(_header(message, "Date")) if _header(message, "Date") else None
        except (TypeError, ValueError, IndexError):
            parsed.sent_at = None
        if parsed.sent_at is not None and parsed.sent_at.tzinfo is None:
            parsed.sent_at = None
        in_reply_to = message_ids_in(_header(message, "In-Reply-To"))
        parsed.in_reply_to = in_reply_to[0][:MESSAGE_ID_MAX] if in_reply_to else ""
        parsed.references = [i for i in message_ids_in(_header(message, "References")) if len(i) <= MESSAGE_ID_MAX]
        if any(isinstance(defect, BROKEN_STRUCTURE) for part in message.walk() for defect in part.defects):
            parsed.problem, parsed.problem_kind = "malformed MIME: the multipart structure is broken", "malformed"
            return parsed
        _body_and_files(message, parsed)
    except Exception as exc:  # a message that breaks the parser is kept raw, not lost
        parsed.problem, parsed.problem_kind = f"could not be parsed: {type(exc).__name__}: {exc}"[:500], "unreadable"
        return parsed
    if not parsed.problem and not parsed.auto_reason and "@" not in parsed.from_address:
        parsed.problem, parsed.problem_kind = "no sender: the message has no usable From address", "no_sender"
    return parsed
