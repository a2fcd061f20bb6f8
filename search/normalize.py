"""How a query and the searched columns are folded, in plain Python (no Django).

The same three folds exist as SQL functions (PostgreSQL: search/migrations/0001; SQLite: registered on each
connection by search.apps), so an index built on the column and the query meet in the same form:
- ``ident``: an identifier (order number, tracking number, voucher code) with everything but letters and
  digits dropped, upper-cased: "bk-gift 2026/elena" -> "BKGIFT2026ELENA".
- ``fold``: text for names, lower-cased with accents removed: "Mulţumesc" and "Mulțumesc" -> "multumesc".
- ``phone_key``: the last nine digits of a phone number, so "+40 721 000 111" and "0721000111" meet.
- ``latin``: a transliteration of the query (only the query: the stored name keeps its script).
"""

from __future__ import annotations

import re
import unicodedata

from anyascii import anyascii

MAX_QUERY_CHARS = 200
PHONE_KEY_DIGITS = 9
_NOT_DIGIT = re.compile(r"\D+")


def clean_query(raw: str | None) -> str:
    """What we search for: at most MAX_QUERY_CHARS characters, no control characters or lone surrogates."""
    if not raw:
        return ""
    text = raw[: MAX_QUERY_CHARS * 2]
    text = text.encode("utf-8", "ignore").decode("utf-8")  # drops lone surrogates
    text = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    return " ".join(text.split())[:MAX_QUERY_CHARS]


def fold(text: str | None) -> str:
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.replace("ё", "е").replace("Ё", "Е").lower()


def ident(text: str | None) -> str:
    if not text:
        return ""
    return "".join(ch for ch in fold(text) if ch.isalnum()).upper()


def phone_key(text: str | None) -> str:
    digits = _NOT_DIGIT.sub("", text or "")
    return digits[-PHONE_KEY_DIGITS:]


def digits_only(text: str | None) -> str:
    return _NOT_DIGIT.sub("", text or "")


def latin(text: str | None) -> str:
    """The query in Latin letters ("Дмитрий Соколов" -> "dmitriy sokolov"), so a name typed in another
    script than it was stored in is still found by similarity."""
    return anyascii(text or "").lower()
