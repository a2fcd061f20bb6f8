"""manage.py simulate_policy --version V --from DATE --to DATE: replay a policy version over past cases."""

import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from policies.models import PolicyVersion
from policies.services import policy_replay


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a date (use YYYY-MM-DD).") from exc


class Command(BaseCommand):
    help = ("Evaluate a policy version over the cases that arrived in a date range and report remedies by kind, "
            "cost per currency and budget, and the cases whose outcome differs from the active version. "
            "Writes nothing.")

    def add_base_argument(self, parser, *args, **kwargs):
        if "--version" in args:  # here --version is the policy version, not Django's
            return
        super().add_base_argument(parser, *args, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("--version", dest="policy_version", type=int, required=True, help="policy version number")
        parser.add_argument("--from", dest="date_from", required=True, help="first arrival date, YYYY-MM-DD")
        parser.add_argument("--to", dest="date_to", required=True, help="last arrival date, YYYY-MM-DD")
        parser.add_argument("--differences", type=int, default=20, help="how many differing cases to list")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args, policy_version, date_from, date_to, differences, json: bool = False, **options):
        start, end = _date(date_from), _date(date_to)
        if end < start:
            raise CommandError("--to is before --from.")
        version = PolicyVersion.objects.filter(number=policy_version).first()
        if version is None:
            known = ", ".join(str(n) for n in PolicyVersion.objects.values_list("number", flat=True)) or "none"
            raise CommandError(f"There is no policy version {policy_version} (versions: {known}).")
        report = policy_replay(version=version, date_from=start, date_to=end, max_differences=max(differences, 0))
        if json:
            self.stdout.write(_to_json(report))
            return
        write = self.stdout.write
        compared = f"active version {report.compared_with}" if report.compared_with else "no active version"
        write(f"Policy version {report.version} over cases that arrived {start} to {end} ({report.cases} cases), "
              f"compared with {compared}")
        write(f"Cases with a remedy: {report.cases_with_remedy}; remedies needing approval: "
              f"{report.needing_approval}")
        write("Remedies by kind:")
        for kind, count in report.remedies_by_kind.items():
            write(f"  {kind:<18} {count:>8}   (active: {report.active_remedies_by_kind.get(kind, 0)})")
        write("Cost per currency:")
        for currency, amount in report.cost_by_currency.items():
            write(f"  {currency} {amount:>14}   (active: {report.active_cost_by_currency.get(currency, 0)})")
        write("Cost per budget:")
        for budget, amounts in report.cost_by_budget.items():
            write(f"  {budget:<14} " + ", ".join(f"{amount} {currency}" for currency, amount in amounts.items()))
        write(f"Cases whose outcome differs from the active version: {report.differing_cases}")
        for difference in report.differences:
            write(f"  #{difference.case_id} ({difference.arrived_on})")
            write(f"    v{report.version}: {difference.rationale}")
            write(f"    active: {difference.active_rationale}")
        if report.differences_truncated:
            write(f"  … and {report.differing_cases - len(report.differences)} more")


def _to_json(report) -> str:
    from dataclasses import asdict

    return json.dumps(asdict(report), default=str, indent=2, ensure_ascii=False)
