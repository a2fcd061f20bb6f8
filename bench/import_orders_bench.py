"""import_orders over a generated Shopify export of N order rows: time and peak memory (max RSS).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/caseapp_h5 .venv/bin/python bench/import_orders_bench.py \\
        --rows 100000

Writes the export (one to four line items per order, order columns only on an order's first row, Cyrillic and
Romanian names, one customer per ten orders under varying email case, refunded and voided orders) to a
temporary file, runs `manage.py import_orders` in a child process (the command as a shop would run it), then runs
it again (the re-import must report 0 created, 0 changed) and deletes what it imported.
"""

import argparse
import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = ["Name", "Email", "Financial Status", "Fulfillment Status", "Currency", "Subtotal", "Shipping", "Taxes",
          "Total", "Discount Amount", "Created at", "Lineitem quantity", "Lineitem name", "Lineitem price",
          "Lineitem sku", "Billing Name", "Shipping Name", "Shipping Street", "Shipping City", "Shipping Zip",
          "Shipping Country", "Payment Method", "Note Attributes", "Cancelled at", "Phone"]
NAMES = [("Елена Смирнова", "RU", "Белгород", "RUB"), ("Ana Popescu", "RO", "București", "RON"),
         ("Giulia Bianchi", "IT", "Milano", "EUR"), ("Mary Jones", "GB", "Leeds", "GBP")]
FINANCIAL = ["paid"] * 16 + ["pending", "refunded", "voided", "partially_refunded"]


def export_write(path: Path, rows: int) -> int:
    written = orders = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        while written < rows:
            orders += 1
            name, country, city, currency = NAMES[orders % 4]
            customer = orders // 10
            email = f"bench.customer{customer}@mail.example"
            email = email.upper() if orders % 3 == 0 else email
            count = min(1 + orders % 4, rows - written)
            lines = [(1 + (orders + i) % 3, f"Produs {i}", f"{10 + (orders * 7 + i) % 90}.50", f"SKU-{i}")
                     for i in range(count)]
            subtotal = sum(q * float(p) for q, _, p, _ in lines)
            financial = FINANCIAL[orders % len(FINANCIAL)]
            cod = orders % 5 == 0
            for index, (quantity, item, price, sku) in enumerate(lines):
                first = index == 0
                writer.writerow([
                    f"#B{orders}", email, financial if first else "", "fulfilled" if first and orders % 2 else "",
                    currency if first else "", f"{subtotal:.2f}" if first else "", "15.00" if first else "",
                    "0.00" if first else "", f"{subtotal + 15:.2f}" if first else "", "0.00" if first else "",
                    f"2026-{1 + orders % 11:02d}-{1 + orders % 28:02d} 10:{orders % 60:02d}:00 +0200" if first else "",
                    quantity, item, price, sku, f"{name} {customer}" if first else "",
                    f"{name} {customer}" if first else "", "Strada 1" if first else "", city if first else "",
                    "010101" if first else "", country if first else "",
                    ("Cash on Delivery (COD)" if cod else "Shopify Payments") if first else "",
                    "Delivery date: 2026-12-20" if first and orders % 7 == 0 else "",
                    "2026-11-02 10:00:00 +0200" if first and financial == "voided" else "", "",
                ])
                written += 1
    return orders


def run_import(path: Path, env: dict) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "manage.py", "import_orders", str(path), "--format", "shopify", "-v0"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )
    elapsed = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(done.stderr[-2000:])
    return elapsed, done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="Keep the imported orders.")
    args = parser.parse_args()
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="caseapp.settings")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "orders_export.csv"
        started = time.perf_counter()
        orders = export_write(path, args.rows)
        print(f"wrote {args.rows:,} rows ({orders:,} orders, {path.stat().st_size / 1e6:.1f} MB) in "
              f"{time.perf_counter() - started:.1f} s")
        elapsed, report = run_import(path, env)
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"import: {elapsed:.1f} s ({args.rows / elapsed:,.0f} rows/s, {orders / elapsed:,.0f} orders/s); "
              f"max RSS {rss:.0f} MiB; {report}")
        elapsed, report = run_import(path, env)
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"re-import: {elapsed:.1f} s; max RSS so far {rss:.0f} MiB; {report}")
    if not args.keep:
        code = ("from orders.models import Order, OrderLine; from customers.models import Customer; "
                "OrderLine.objects.filter(order__number__startswith='#B').delete(); "
                "Order.objects.filter(number__startswith='#B').delete(); "
                "Customer.objects.filter(email__istartswith='bench.customer').delete()")
        subprocess.run([sys.executable, "manage.py", "shell", "-v0", "-c", code], cwd=ROOT, env=env, check=True)
        print("deleted the imported orders and customers")


if __name__ == "__main__":
    main()
