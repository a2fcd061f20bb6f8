"""Import of the order exports shops already make (Shopify, WooCommerce, a generic CSV): read in any encoding
a spreadsheet writes, grouped into orders, each validated by intake.serializers.OrderIn and written by
intake.services.order_ingest in its own transaction. Streams the file: memory stays flat however long it is."""

import codecs
import csv
import io
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _

from caseapp.upsert import Outcome

from . import formats
from .serializers import OrderIn, validated
from .services import order_ingest

# Columns per format: our name -> the header names a shop's export uses for it (the first present wins).
ORDER_COLUMNS = {
    "shopify": {
        "number": ("Name",), "email": ("Email",), "financial_status": ("Financial Status",),
        "fulfillment_status": ("Fulfillment Status",), "currency": ("Currency",), "shipping_amount": ("Shipping",),
        "tax_amount": ("Taxes",), "discount_amount": ("Discount Amount",), "total": ("Total",),
        "placed_at": ("Created at",), "cancelled_at": ("Cancelled at",), "payment_method": ("Payment Method",),
        "name": ("Billing Name", "Shipping Name"), "phone": ("Phone", "Billing Phone", "Shipping Phone"),
        "ship_name": ("Shipping Name",), "ship_street": ("Shipping Street", "Shipping Address1"),
        "ship_city": ("Shipping City",), "ship_postcode": ("Shipping Zip",), "ship_country": ("Shipping Country",),
        "notes": ("Note Attributes",), "promised_delivery_date": ("Delivery Date",),
        "quantity": ("Lineitem quantity",), "item_name": ("Lineitem name",), "unit_price": ("Lineitem price",),
        "sku": ("Lineitem sku",), "variant": ("Lineitem variant",),
    },
    "woocommerce": {
        "number": ("Order Number", "Order ID"), "email": ("Email (Billing)", "Billing Email", "Billing Email Address"),
        "status": ("Order Status",), "currency": ("Order Currency", "Currency"),
        "shipping_amount": ("Order Shipping Amount", "Shipping Total"),
        "tax_amount": ("Order Total Tax Amount", "Tax Total"),
        "discount_amount": ("Cart Discount Amount", "Discount Total"),
        "total": ("Order Total Amount", "Order Total"), "placed_at": ("Order Date",),
        "payment_method": ("Payment Method", "Payment Method Title"),
        "first_name": ("First Name (Billing)", "Billing First Name"),
        "last_name": ("Last Name (Billing)", "Billing Last Name"),
        "phone": ("Phone (Billing)", "Billing Phone"),
        "ship_first_name": ("First Name (Shipping)", "Shipping First Name"),
        "ship_last_name": ("Last Name (Shipping)", "Shipping Last Name"),
        "ship_street": ("Address 1&2 (Shipping)", "Shipping Address 1"), "ship_city": ("City (Shipping)", "Shipping City"),
        "ship_postcode": ("Postcode (Shipping)", "Shipping Postcode"),
        "ship_country": ("Country Code (Shipping)", "Shipping Country"),
        "promised_delivery_date": ("Delivery Date",),
        "quantity": ("Quantity", "Item Quantity"), "item_name": ("Item Name", "Product Name"),
        "unit_price": ("Item Cost", "Item Price"), "sku": ("SKU", "Item SKU"), "variant": ("Variation",),
    },
    "generic": {
        name: (name,) for name in (
            "number", "placed_at", "currency", "status", "email", "name", "phone", "language", "payment_method",
            "cod_quoted_amount", "shipping_amount", "tax_amount", "discount_amount", "total",
            "promised_delivery_date", "ship_name", "ship_street", "ship_city", "ship_postcode", "ship_country",
            "sku", "item_name", "quantity", "unit_price", "variant",
        )
    },
}
REQUIRED = {
    "shopify": ("number", "email", "currency", "total", "placed_at", "quantity", "item_name", "unit_price"),
    "woocommerce": ("number", "email", "currency", "total", "placed_at", "quantity", "item_name", "unit_price"),
    "generic": ("number", "email", "currency", "placed_at", "payment_method", "quantity", "item_name", "unit_price"),
}
FORMATS = tuple(ORDER_COLUMNS)
LINE_FIELDS = ("quantity", "item_name", "unit_price", "sku", "variant")
CANDIDATE_ENCODINGS = ("utf_8", "cp1252", "cp1250", "cp1251")
SNIFF_BYTES = 1 << 20


class ImportRefused(Exception):
    """The file cannot be read at all (encoding, not a CSV, a missing column): nothing was imported."""


@dataclass
class Rejection:
    line: int
    number: str
    reason: str


@dataclass
class ImportReport:
    encoding: str = ""
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    stopped: str = ""

    def count(self, outcome: Outcome) -> None:
        setattr(self, str(outcome), getattr(self, str(outcome)) + 1)


# --- reading the file ------------------------------------------------------------------------------------

# Accented letters by how telling they are for a code page: the app's languages (Romanian, Italian) first,
# then other languages written in Windows-1250/1252. charset-normalizer was tried and dropped: on exports of a
# few hundred bytes it read Italian Windows-1252 as Czech Windows-1250 (and the reverse).
_TELLING = dict.fromkeys("ăâîşţșțàèéìòù", 2) | dict.fromkeys("áíóúêôûäëïöüçñßãõœąćęłńśźżčďěňřšťůžőűý", 1)
_PUNCTUATION = set("’‘“”„–—€…«»°•")
_WORD = re.compile(r"\w+")


def _plausibility(text: str) -> int:
    """How much a decoding reads like words: consistent Cyrillic words and the usual accented letters score;
    symbols, mixed scripts and Latin words made only of accents (Cyrillic read as Latin) cost."""
    score = -2 * sum(1 for c in text if ord(c) > 127 and (not c.isalpha() or c in "ªº") and c not in _PUNCTUATION)
    for word in _WORD.findall(text):
        high = [c for c in word if ord(c) > 127 and c.isalpha()]
        if not high:
            continue
        cyrillic = sum("\u0400" <= c <= "\u04ff" for c in high)
        letters = sum(c.isalpha() for c in word)
        latin = sum(c.isascii() and c.isalpha() for c in word)
        if cyrillic == len(high) and not latin:
            score += 2 * cyrillic if letters >= 2 else 0
        elif cyrillic or (letters >= 3 and len(high) == letters):
            score -= 3 * len(high)
        else:
            score += sum(_TELLING.get(c.lower(), 0) for c in high)
    return score


def encoding_detect(sample: bytes) -> str:
    """UTF-8 (with or without BOM) when the sample decodes as UTF-8; otherwise the Windows code page (1252,
    1250 or 1251) in which the text reads most like words; ImportRefused when none does."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if b"\x00" in sample:
        raise ImportRefused(_("This is not a CSV text file (it holds NUL bytes, as UTF-16 or a spreadsheet "
                              "does): export or save it as CSV."))
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    scores = {}
    for encoding in CANDIDATE_ENCODINGS[1:]:
        try:
            scores[encoding] = _plausibility(sample.decode(encoding))
        except UnicodeDecodeError:
            continue
    best = max(scores, key=lambda e: (scores[e], -CANDIDATE_ENCODINGS.index(e)), default=None)
    if best is None or scores[best] < 0:
        raise ImportRefused(_("Cannot tell the file's encoding (tried UTF-8, Windows-1250, Windows-1251 and "
                              "Windows-1252): name it (the Encoding field, or --encoding)."))
    return best


def _text(raw, encoding: str | None):
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError as exc:
            raise ImportRefused(_("%(encoding)s is not an encoding Python knows.") % {"encoding": encoding}) from exc
    else:
        encoding = encoding_detect(raw.peek(SNIFF_BYTES)[:SNIFF_BYTES] if hasattr(raw, "peek") else b"")
    return encoding, io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="")


def _columns(header: list[str], fmt: str) -> dict[str, tuple[int, str]]:
    """Our column name -> (its position, the file's own header name)."""
    positions = {name.strip().lstrip("\ufeff"): index for index, name in enumerate(header)}
    found = {}
    for ours, theirs in ORDER_COLUMNS[fmt].items():
        for name in theirs:
            if name in positions:
                found[ours] = (positions[name], name)
                break
    missing = [ORDER_COLUMNS[fmt][ours][0] for ours in REQUIRED[fmt] if ours not in found]
    if missing:
        raise ImportRefused(_("The file has no column %(columns)s (a %(format)s export needs it).") % {
            "columns": ", ".join(f"“{m}”" for m in missing), "format": fmt})
    return found


# --- rows to orders --------------------------------------------------------------------------------------

def _note_pairs(text: str):
    for part in (text or "").replace("\r", "\n").split("\n"):
        key, _sep, value = part.partition(":")
        yield key, value


def order_from_rows(fmt: str, rows: list[dict]) -> dict:
    """One order in the generic shape from its rows (the order's columns are read from its first row)."""
    first = rows[0]
    get = first.get
    if fmt == "shopify":
        status = formats.shopify_status(get("financial_status"), get("fulfillment_status"), bool(get("cancelled_at")))
        promised = get("promised_delivery_date") or formats.promised_date(_note_pairs(get("notes", "")))
        name, ship_name = get("name", ""), get("ship_name", "")
    elif fmt == "woocommerce":
        status = formats.woocommerce_status(get("status"))
        promised = get("promised_delivery_date")
        name = formats._name(get("first_name"), get("last_name"))
        ship_name = formats._name(get("ship_first_name"), get("ship_last_name"))
    else:
        status, promised = get("status") or "placed", get("promised_delivery_date")
        name, ship_name = get("name", ""), get("ship_name", "")
    method = get("payment_method", "")
    data = {
        "number": get("number", ""), "placed_at": formats.timestamp(get("placed_at")),
        "currency": (get("currency") or "").strip().upper(), "status": status,
        "customer": {"email": (get("email") or "").strip(), "name": name or ship_name,
                     "phone": get("phone", ""), "language": get("language", "")},
        "lines": [
            {"sku": row.get("sku", ""), "name": row.get("item_name", ""), "quantity": row.get("quantity"),
             "unit_price": formats.amount(row.get("unit_price"), default=None), "variant": row.get("variant", "")}
            for row in rows
        ],
        "payment_method": method if fmt == "generic" else formats.payment_method(method),
        "shipping_amount": formats.amount(get("shipping_amount")),
        "tax_amount": formats.amount(get("tax_amount")),
        "discount_amount": formats.amount(get("discount_amount")),
        "total": formats.amount(get("total"), default=None),
        "cod_quoted_amount": formats.amount(get("cod_quoted_amount"), default=None),
        "promised_delivery_date": (promised or "").strip()[:10] or None,
        "shipping_address": {"name": ship_name, "street": get("ship_street", ""), "city": get("ship_city", ""),
                             "postcode": get("ship_postcode", ""), "country": get("ship_country", "")},
    }
    return data


# A field of OrderIn -> our column name, so a report names the file's own column.
FIELD_COLUMN = {
    "status": "status", "customer.email": "email", "customer.name": "name", "customer.phone": "phone",
    "customer.language": "language", "lines.name": "item_name", "shipping_address.name": "ship_name",
    "shipping_address.street": "ship_street", "shipping_address.city": "ship_city",
    "shipping_address.postcode": "ship_postcode", "shipping_address.country": "ship_country",
}


def _reason(errors: dict, line_numbers: list[int], columns: dict[str, tuple[int, str]]) -> tuple[int, str]:
    """The line the first error belongs to, and the errors as “column”: message, in the file's own words."""
    line, parts = None, []
    for name, messages in errors.items():
        field_line = line_numbers[0]
        if name.startswith("lines[") and "]" in name:
            index = int(name[6:name.index("]")]) - 1
            field_line = line_numbers[index] if 0 <= index < len(line_numbers) else field_line
            name = "lines" + name[name.index("]") + 1:]
        ours = FIELD_COLUMN.get(name, name.split(".")[-1])
        if ours == "status" and "financial_status" in columns:
            ours = "financial_status"
        label = columns[ours][1] if ours in columns else name
        line = field_line if line is None else line
        parts.append(f"“{label}”: {' '.join(messages)}" if label != "non_field_errors" else " ".join(messages))
    return line or line_numbers[0], "; ".join(parts)


def _groups(reader, columns: dict[str, tuple[int, str]], width: int):
    """(first line number, order number, rows, line numbers, broken-row reason) per order; rows of one order
    are consecutive, as the exports write them."""
    current, rows, lines, broken = None, [], [], ""
    line_number = reader.line_num
    number_at = columns["number"][0]
    for cells in reader:
        line_number, start = reader.line_num, line_number + 1
        if not any(cell.strip() for cell in cells):
            continue
        number = cells[number_at].strip() if number_at < len(cells) else ""
        if number != current and current is not None:
            yield lines[0], current, rows, lines, broken
            rows, lines, broken = [], [], ""
        current = number
        lines.append(start)
        if len(cells) != width:
            broken = broken or _("line %(line)d has %(cells)d cells, the header has %(width)d") % {
                "line": start, "cells": len(cells), "width": width}
            continue
        rows.append({ours: cells[index].strip() for ours, (index, _header) in columns.items()})
    if current is not None:
        yield lines[0], current, rows, lines, broken


def orders_import(*, stream, fmt: str, dry_run: bool = False, encoding: str | None = None,
                  progress=None) -> ImportReport:
    """Import an export from a binary stream. One transaction per order (dry run: each rolled back);
    an order with a broken or invalid row is rejected whole, with its line numbers and reasons."""
    if fmt not in ORDER_COLUMNS:
        raise ImportRefused(_("Unknown format %(format)s.") % {"format": fmt})
    raw = stream if hasattr(stream, "peek") else io.BufferedReader(stream)
    report = ImportReport()
    report.encoding, text = _text(raw, encoding)
    reader = csv.reader(text)
    _fast_commits(True)
    try:
        header = next(reader, None)
        if not header:
            raise ImportRefused(_("The file is empty."))
        columns = _columns(header, fmt)
        seen: set[str] = set()
        for first_line, number, rows, lines, broken in _groups(reader, columns, len(header)):
            if progress:
                progress()
            if not number:
                report.rejected.append(Rejection(first_line, "", _("no order number")))
                continue
            if number in seen:
                report.rejected.append(Rejection(first_line, number, _(
                    "order %(number)s appears again, apart from its first rows") % {"number": number}))
                continue
            seen.add(number)
            if broken:
                report.rejected.append(Rejection(first_line, number, broken))
                continue
            try:
                data = validated(OrderIn, order_from_rows(fmt, rows))
                if dry_run:
                    with transaction.atomic():
                        _order, outcome = order_ingest(data=data)
                        transaction.set_rollback(True)
                else:
                    _order, outcome = order_ingest(data=data)  # its own transaction
            except ValidationError as exc:
                errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
                line, reason = _reason(errors, lines, columns)
                report.rejected.append(Rejection(line, number, reason))
                continue
            report.count(outcome)
    except UnicodeDecodeError as exc:
        report.stopped = _("The file is not valid %(encoding)s after line %(line)d (%(reason)s): name its encoding "
                           "(the Encoding field, or --encoding). Orders before that line were imported.") % {
            "encoding": report.encoding, "line": reader.line_num, "reason": exc.reason}
    except csv.Error as exc:
        report.stopped = _("Line %(line)d cannot be read as CSV (%(reason)s); the import stopped there.") % {
            "line": reader.line_num, "reason": exc}
    finally:
        _fast_commits(False)
        text.detach()
    return report


def _fast_commits(on: bool) -> None:
    """One transaction per order means one commit per order; on PostgreSQL the import does not wait for each
    to reach the disk (synchronous_commit off, this session only). A server crash may lose the last moment's
    orders, never half of one, and the import is idempotent: run it again."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO OFF" if on else "RESET synchronous_commit")
