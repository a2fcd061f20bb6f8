"""Evaluator throughput: decisions per second on one core, default policy, varied facts. No database.

    .venv/bin/python bench/policy_evaluator.py [--cases 50000] [--passes 5] [--baseline cf192fc]

Times the engine of this checkout and the engine of an earlier revision (``--baseline``, read with
``git show <rev>:policies/engine.py`` into a module of its own; ``--baseline ''`` skips it) in the same run,
interleaved pass by pass (baseline, current, baseline, current, ...) on the same facts (each built with its own
engine's Facts class), with the rationale (as the case page asks) and without it (as a replay asks). Reports the
best pass of each by CPU time (time.process_time) and by wall time, the load average, and checks that both engines
propose the same remedies for every case.
"""

import argparse
import importlib.util
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from policies import engine as current_engine  # noqa: E402

BASELINE = "cf192fc"  # main before issue 15's compiled conditions (the engine the issue measured at 28,000/s)

CATEGORIES = ["voucher_expired", "late_delivery", "lost_parcel", "wrong_item", "incomplete_order", "cod_mismatch",
              "not_collected", "broken_promise", "other"]
CURRENCIES = ["EUR", "RON", "RUB", "USD"]
STATUSES = ["in_transit", "delayed", "delivered", "lost", "not_collected", "created"]


def random_facts(rng: random.Random, case_id: int, facts_class=current_engine.Facts):
    today = date(2026, 11, 23)
    total = Decimal(rng.randint(500, 200000)) / 100
    cod = rng.random() < 0.2
    promised = today + timedelta(days=rng.randint(-10, 10))
    has_voucher = rng.random() < 0.3
    valid_until = today - timedelta(days=rng.randint(-60, 60))
    tenure = rng.randint(0, 3000)
    return facts_class(
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


def engine_at(revision: str):
    """policies/engine.py as it was at ``revision``, imported as a module of its own."""
    source = subprocess.run(["git", "show", f"{revision}:policies/engine.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    directory = tempfile.mkdtemp(prefix="policy-engine-")
    path = Path(directory) / "policy_engine_baseline.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("policy_engine_baseline", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def load_average() -> str:
    try:
        with open("/proc/loadavg") as file:
            return " ".join(file.read().split()[:3])
    except OSError:
        return "?"


def one_pass(module, policy, cases, explain: bool) -> tuple[float, float, int]:
    evaluate = module.evaluate
    start, cpu = time.perf_counter(), time.process_time()
    proposals = sum(len(evaluate(policy, facts, explain=explain)) for facts in cases)
    return time.process_time() - cpu, time.perf_counter() - start, proposals


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=50_000)
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--baseline", default=BASELINE, help="git revision of the engine to compare with ('': none)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    engines = [("current", current_engine)]
    if args.baseline:
        engines.insert(0, (f"baseline {args.baseline}", engine_at(args.baseline)))
    runs = {}
    document = current_engine.default_policy_document()  # the same document for both (policies/default_policy.yaml)
    for label, module in engines:
        rng = random.Random(20261123)  # the same facts for every engine
        policy = module.compile_policy(document)
        cases = [random_facts(rng, i, module.Facts) for i in range(args.cases)]
        module.evaluate(policy, cases[0])
        runs[label] = (module, policy, cases)
    if len(engines) == 2:  # the same decisions, rationale included
        (_, (old, old_policy, old_cases)), (_, (new, new_policy, new_cases)) = runs.items()
        for old_facts, new_facts in zip(old_cases, new_cases, strict=True):
            before = [p.as_dict() for p in old.evaluate(old_policy, old_facts)]
            after = [p.as_dict() for p in new.evaluate(new_policy, new_facts)]
            assert before == after, (old_facts, before, after)
        print(f"both engines propose the same remedies, rationale and explanation included, for {args.cases:,} cases")
    print(f"load average before: {load_average()}")
    for explain in (True, False):
        best = {label: [None, None, 0] for label in runs}
        for _ in range(args.passes):
            for label, (module, policy, cases) in runs.items():  # interleaved: baseline, current, baseline, ...
                cpu, wall, proposals = one_pass(module, policy, cases, explain)
                entry = best[label]
                entry[0] = cpu if entry[0] is None else min(entry[0], cpu)
                entry[1] = wall if entry[1] is None else min(entry[1], wall)
                entry[2] = proposals
        for label, (cpu, wall, proposals) in best.items():
            print(f"{label:>18}, {'with' if explain else 'without'} rationale: {args.cases / cpu:>9,.0f} decisions/s "
                  f"by CPU time ({cpu * 1e6 / args.cases:.1f} µs each), {args.cases / wall:>9,.0f}/s by wall time; "
                  f"default policy ({len(runs[label][1].rules)} rules), {args.cases:,} varied cases, best of "
                  f"{args.passes} passes on one core, {proposals / args.cases:.2f} proposals per case")
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
