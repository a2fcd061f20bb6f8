"""Evaluator throughput: decisions per second on one core, default policy, varied facts. No database.

    .venv/bin/python bench/policy_evaluator.py [--cases 50000] [--passes 5]
"""

import argparse
import os
import random
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policies.engine import Facts, compile_policy, default_policy_document, evaluate  # noqa: E402

CATEGORIES = ["voucher_expired", "late_delivery", "lost_parcel", "wrong_item", "incomplete_order", "cod_mismatch",
              "not_collected", "broken_promise", "other"]
CURRENCIES = ["EUR", "RON", "RUB", "USD"]
STATUSES = ["in_transit", "delayed", "delivered", "lost", "not_collected", "created"]


def random_facts(rng: random.Random, case_id: int) -> Facts:
    today = date(2026, 11, 23)
    total = Decimal(rng.randint(500, 200000)) / 100
    cod = rng.random() < 0.2
    promised = today + timedelta(days=rng.randint(-10, 10))
    has_voucher = rng.random() < 0.3
    valid_until = today - timedelta(days=rng.randint(-60, 60))
    tenure = rng.randint(0, 3000)
    return Facts(
        today=today, currency=rng.choice(CURRENCIES), case_id=case_id, tenure_days=tenure,
        tenure_years=round(tenure / 365.25, 1), order_count=rng.randint(0, 60),
        lifetime_spend=Decimal(rng.randint(0, 900000)) / 100, remedies_this_year=rng.randint(0, 5),
        remedy_cost_this_year=Decimal(rng.randint(0, 50000)) / 100, category=rng.choice(CATEGORIES), channel="email",
        order_total=total, payment_method="cod" if cod else "card", promised_date=promised,
        is_date_critical=rng.random() < 0.1, cod_quoted_amount=total if cod else None,
        shipment_status=rng.choice(STATUSES), days_late=max(rng.randint(-5, 6), 0), courier="FastCourier",
        cod_label_amount=(total + (20 if rng.random() < 0.3 else 0)) if cod else None,
        voucher_value=Decimal("100.00") if has_voucher else None,
        voucher_balance=Decimal("100.00") if has_voucher else None,
        voucher_valid_until=valid_until if has_voucher else None,
        voucher_days_since_expiry=(today - valid_until).days if has_voucher else None,
        voucher_validity_months=6 if has_voucher else None,
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=50_000)
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    rng = random.Random(20261123)
    policy = compile_policy(default_policy_document())
    cases = [random_facts(rng, i) for i in range(args.cases)]
    evaluate(policy, cases[0])
    best, proposals = None, 0
    for _ in range(args.passes):
        start = time.perf_counter()
        proposals = sum(len(evaluate(policy, facts)) for facts in cases)
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    print(f"default policy ({len(policy.rules)} rules), {args.cases} varied cases, best of {args.passes} passes "
          f"on one core: {args.cases / best:,.0f} decisions/s ({best * 1e6 / args.cases:.1f} µs each; "
          f"{proposals / args.cases:.2f} proposals per case)")


if __name__ == "__main__":
    main()
