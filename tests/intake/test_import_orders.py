"""import_orders: realistic Shopify and WooCommerce exports, encodings, idempotence, dry run, bad files."""

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from customers.models import Customer
from intake.imports import ImportRefused, orders_import
from orders.models import Order, OrderLine, OrderStatus, PaymentMethod

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"
SHOPIFY = FIXTURES / "shopify_orders_export.csv"
WOOCOMMERCE = FIXTURES / "woocommerce_orders_export.csv"

GENERIC_HEADER = "number,placed_at,currency,status,email,name,payment_method,shipping_amount,total,sku,item_name,quantity,unit_price\n"


def _run(path, fmt, *args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_orders", str(path), "--format", fmt, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_shopify_export_imports_orders_lines_statuses_and_one_customer_per_email():
    # when the shop's Shopify export is imported
    out, err = _run(SHOPIFY, "shopify")
    # then five orders arrive with all their line items
    assert "5 created, 0 changed, 0 unchanged, 0 rejected" in out, (out, err)
    assert Order.objects.count() == 5 and OrderLine.objects.count() == 9
    first = Order.objects.get(number="#1001")
    assert [(line.sku, line.quantity, line.unit_price) for line in first.lines.order_by("id")] == [
        ("TEA-01", 2, Decimal("45.00")), ("MUG-BL", 1, Decimal("80.00")), ("GIFT-SET", 1, Decimal("250.00"))]
    assert (first.total, first.shipping_amount, first.tax_amount, first.status, first.currency) == (
        Decimal("435.00"), Decimal("15.00"), Decimal("69.45"), OrderStatus.SHIPPED, "RON")
    # refunded and voided orders are kept with their status
    statuses = dict(Order.objects.values_list("number", "status"))
    assert statuses["#1003"] == OrderStatus.REFUNDED
    assert statuses["#1004"] == OrderStatus.VOIDED
    assert statuses["#1005"] == OrderStatus.PARTIALLY_REFUNDED
    # Elena under two spellings of her email is one customer with both orders
    assert Customer.objects.count() == 4
    elena = Customer.objects.get(email__iexact="elena.popescu@mail.example")
    assert set(elena.orders.values_list("number", flat=True)) == {"#1001", "#1003"}
    # Cyrillic names, the COD quote and the promised date from the note attributes
    anna = Order.objects.get(number="#1002")
    assert anna.customer.name == "Анна Смирнова" and anna.shipping_city == "Белгород"
    assert anna.customer.preferred_language == "ru"
    assert (anna.payment_method, anna.cod_quoted_amount) == (PaymentMethod.CASH_ON_DELIVERY, Decimal("5300.00"))
    assert str(anna.promised_delivery_date) == "2026-11-14"


def test_a_re_import_changes_nothing_and_a_dry_run_writes_nothing():
    # given a dry run of the export
    out, _ = _run(SHOPIFY, "shopify", "--dry-run")
    # then it counts what it would do and writes nothing
    assert "dry run, nothing written: 5 created" in out
    assert not Order.objects.exists() and not Customer.objects.exists()
    # when it is imported twice
    _run(SHOPIFY, "shopify")
    lines_before = sorted(OrderLine.objects.values_list("pk", flat=True))
    out, _ = _run(SHOPIFY, "shopify")
    # then the second import changes nothing
    assert "0 created, 0 changed, 5 unchanged, 0 rejected" in out
    assert sorted(OrderLine.objects.values_list("pk", flat=True)) == lines_before


def test_a_woocommerce_export_imports_with_its_payment_methods_and_statuses():
    out, err = _run(WOOCOMMERCE, "woocommerce")
    assert "3 created, 0 changed, 0 unchanged, 0 rejected" in out, (out, err)
    cod = Order.objects.get(number="2041")
    assert (cod.payment_method, cod.cod_quoted_amount, cod.status) == (
        PaymentMethod.CASH_ON_DELIVERY, Decimal("190.00"), OrderStatus.PAID)
    assert [(line.sku, line.quantity) for line in cod.lines.order_by("id")] == [("SOCK-3", 3), ("HAT-1", 1)]
    card = Order.objects.get(number="2042")
    assert (card.discount_amount, card.total, card.status, card.customer.name) == (
        Decimal("5.00"), Decimal("52.50"), OrderStatus.SHIPPED, "Maria Rossi")
    refunded = Order.objects.get(number="2043")
    assert (refunded.status, refunded.payment_method) == (OrderStatus.REFUNDED, PaymentMethod.BANK_TRANSFER)
    assert refunded.customer_id == cod.customer_id  # ION.IONESCU@… is Ion


@pytest.mark.parametrize(("encoding", "name", "item"), [
    ("utf-8-sig", "Ștefan Țăranu", "Ceainic"),
    ("cp1250", "Štefan Łukasiewicz-Ţăranu", "Čajník z litiny a šálek žlutý"),
    ("cp1251", "Дмитрий Иванович Смирнов", "Чайник электрический белый"),
    ("cp1252", "Niccolò Dell’Acqua", "Caffè macinato perché è buono"),
])
def test_any_encoding_a_spreadsheet_writes_is_read_and_named(tmp_path, encoding, name, item):
    # given a generic export saved in a spreadsheet's encoding
    rows = "".join(
        f"A-{n},2026-11-0{n} 10:00:00,EUR,paid,c{n}@mail.example,{name},card,0.00,12.50,S-{n},{item} {n},1,12.50\n"
        for n in range(1, 8)
    )
    path = tmp_path / "export.csv"
    path.write_bytes((GENERIC_HEADER + rows).encode(encoding))
    # when it is imported without saying the encoding
    out, err = _run(path, "generic")
    # then the names read right and the report says which encoding was used
    assert "7 created" in out, (out, err)
    assert Customer.objects.get(email="c1@mail.example").name == name
    assert OrderLine.objects.get(sku="S-1").name == f"{item} 1"
    assert f"read as {encoding.replace('_', '-')}" in out.replace("utf_8", "utf-8")


def test_an_override_encoding_is_used_and_a_binary_file_is_refused(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes((GENERIC_HEADER + "A-1,2026-11-01 10:00:00,RUB,paid,a@mail.example,Ёлка,card,0,5.00,S,Ёж,1,5.00\n")
                     .encode("cp1251"))
    out, _ = _run(path, "generic", "--encoding", "cp1251")
    assert "read as cp1251" in out and Customer.objects.get().name == "Ёлка"
    path.write_bytes("number,email\n".encode("utf-16"))
    with pytest.raises(CommandError, match="NUL bytes"):
        _run(path, "generic")


def test_a_missing_column_is_refused_before_anything_is_written(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(SHOPIFY.read_text(encoding="utf-8").replace("Lineitem price", "Price"), encoding="utf-8")
    with pytest.raises(CommandError, match="Lineitem price"):
        _run(path, "shopify")
    assert not Order.objects.exists()


def test_broken_and_invalid_rows_are_reported_with_their_lines_and_never_half_an_order(tmp_path):
    # given an export with a row of the wrong width, an amount with three decimals, an unknown currency
    # and a good order
    path = tmp_path / "export.csv"
    path.write_text(GENERIC_HEADER + "\n".join([
        "B-1,2026-11-01 10:00:00,EUR,paid,b1@mail.example,B One,card,0.00,20.00,S-1,First,1,10.00",
        "B-1,,,,,,,,,S-2,Second,1,10.00,EXTRA",                      # line 3: one cell too many
        "B-2,2026-11-02 10:00:00,EUR,paid,b2@mail.example,B Two,card,0.00,10.00,S-3,Item,1,10.00",
        "B-2,,,,,,,,,S-4,Item,1,1.005",                             # line 5: three decimals
        "B-3,2026-11-03 10:00:00,EUQ,paid,b3@mail.example,B Three,card,0.00,5.00,S-5,Item,1,5.00",
        "B-4,2026-11-04 10:00:00,EUR,paid,b4@mail.example,B Four,card,0.00,5.00,S-6,Item,1,5.00",
    ]) + "\n", encoding="utf-8")
    # when it is imported
    out, err = _run(path, "generic")
    # then only the good order is written, and each rejection says where and why
    assert "1 created, 0 changed, 0 unchanged, 3 rejected" in out
    assert list(Order.objects.values_list("number", flat=True)) == ["B-4"]
    assert not OrderLine.objects.filter(sku__in=["S-1", "S-2", "S-3", "S-4", "S-5"]).exists()
    assert "line 2: order B-1: line 3 has 14 cells, the header has 13" in err
    assert "line 5: order B-2: “unit_price”:" in err and "2 decimal places" in err
    assert "line 6: order B-3: “currency”:" in err and "ISO 4217" in err


def test_orders_import_refuses_an_unknown_encoding_name():
    with pytest.raises(ImportRefused, match="not an encoding"):
        orders_import(stream=io.BytesIO(GENERIC_HEADER.encode()), fmt="generic", encoding="klingon-8")


@pytest.mark.parametrize(("text", "encoding"), [
    ("Niccolò Dell’Acqua,Caffè macinato perché è buono", "cp1252"),
    ("Jürgen Müller,Größe Straße Café", "cp1252"),
    ("Zoë Brontë, naïve café, 5€", "cp1252"),
    ("Ştefan Ţăranu, Cană, Iaşi", "cp1250"),
    ("Anna Kowalska, Łódź, Kraków", "cp1250"),
    ("Štefan Łukasiewicz,Čajník z litiny a šálek žlutý", "cp1250"),
    ("Дмитрий Иванов, Чайник, Белгород", "cp1251"),
    ("Ирина", "cp1251"),
])
def test_the_windows_code_page_is_told_from_short_samples(text, encoding):
    from intake.imports import encoding_detect

    assert encoding_detect(f"{text}\n".encode(encoding)) == encoding
