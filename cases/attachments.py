"""What a file on a case may be called, what type it is served as, and whether it is kept at all.

Pure functions (no database): the service (cases.services.attachment_store) and the serving view use them.
The type a file is served with is decided here, never taken from the sender: images only when their bytes are
the image they claim (PNG, JPEG, GIF, WebP; SVG is never an image here), PDF only when the bytes are a PDF, text
as plain text, and anything that a browser could run (HTML, SVG, XML, scripts) as ``application/octet-stream``.
"""

import mimetypes
import re
import unicodedata

from django.conf import settings

INLINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
OCTET_STREAM = "application/octet-stream"
# Types a browser would render or run: never served as themselves.
ACTIVE_TYPES = frozenset({
    "text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml", "text/javascript",
    "application/javascript", "application/ecmascript", "text/ecmascript", "application/x-shockwave-flash",
    "text/xsl", "application/vnd.wap.xhtml+xml", "multipart/x-mixed-replace", "text/vtt", "application/pdf+xml",
})
MAX_FILENAME_LENGTH = 150


def _sniff(data: bytes) -> str:
    """The type the bytes themselves say, for the types we trust by their bytes ("" when none)."""
    head = data[:16]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return ""


def content_type_normalize(declared: str) -> str:
    """``Image/JPEG; name="x.jpg"`` -> ``image/jpeg`` ("" for nonsense)."""
    value = (declared or "").split(";", 1)[0].strip().lower()
    return value if re.fullmatch(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*", value) else ""


def content_type_decide(*, filename: str, declared: str, data: bytes) -> str:
    """The type caseapp says the file is (the allowed-types check and the serving view use it).

    The bytes win for images and PDF; otherwise the declared type, or the file name's when the declared one
    says nothing. A declared image or PDF whose bytes are not one is ``application/octet-stream``."""
    sniffed = _sniff(data)
    if sniffed:
        return sniffed
    kind = content_type_normalize(declared)
    if kind in ("", OCTET_STREAM, "binary/octet-stream", "application/x-download"):
        kind = mimetypes.guess_type(filename or "", strict=False)[0] or OCTET_STREAM
    if kind.startswith("image/") or kind == "application/pdf":
        return OCTET_STREAM  # it says it is one, its bytes say it is not
    return kind


def serving_content_type(safe_content_type: str) -> str:
    """The Content-Type header a stored file is served with."""
    kind = content_type_normalize(safe_content_type) or OCTET_STREAM
    if kind in ACTIVE_TYPES or kind.endswith(("+xml", "/xml")):
        return OCTET_STREAM
    if kind.startswith("text/"):
        return "text/plain; charset=utf-8"  # never rendered as the sender meant (csv, markdown, html-ish text)
    return kind


def is_served_inline(safe_content_type: str) -> bool:
    return safe_content_type in INLINE_IMAGE_TYPES


_UNSAFE_CHARACTERS = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')


def filename_sanitize(name: str) -> str:
    """A file name fit to show and to put in a Content-Disposition header: no path, no control or bidirectional
    characters (the "gpj.exe" trick), no leading dots, at most 150 characters keeping the extension."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn"))
    name = _UNSAFE_CHARACTERS.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    if len(name) > MAX_FILENAME_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            name = stem[: MAX_FILENAME_LENGTH - len(extension) - 1].rstrip(" .") + "." + extension
        else:
            name = name[:MAX_FILENAME_LENGTH].rstrip(" .")
    return name or "attachment"


def max_bytes() -> int:
    return settings.CASEAPP_ATTACHMENT_MAX_BYTES


def type_allowed(kind: str) -> bool:
    """Whether files of this (decided) type are kept: CASEAPP_ATTACHMENT_TYPES, where ``image/*`` is a family."""
    for allowed in settings.CASEAPP_ATTACHMENT_TYPES:
        allowed = allowed.strip().lower()
        if allowed == kind or (allowed.endswith("/*") and kind.startswith(allowed[:-1])):
            return True
    return False
