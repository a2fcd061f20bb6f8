"""Three parts of the case page, each in its old and its new form, CPU time in process (issue 15, perf-case2).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<a copy of caseapp_bench_100k> \\
        .venv/bin/python bench/case_page_parts_bench.py

Read only. "What changed": the ORM-built union against its SQL built once per process (audit.selectors); the
active policy: the version's document read and compared on every page against the id/number/created_at query
(policies.services._active_policy); {% when %}: Django's date_format against the tag. Interleaved A, B, A, B.
"""

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseapp.settings")


def cpu_per_call(function, args_list, repeat=1):
    function(*args_list[0])
    start = time.process_time()
    for _ in range(repeat):
        for args in args_list:
            function(*args)
    return (time.process_time() - start) / (len(args_list) * repeat) * 1000


def main():
    import django

    django.setup()
    from datetime import UTC, datetime

    from dashboard_bench import full_case_ids
    from django.utils import timezone
    from django.utils.dateformat import format as date_format
    from django.utils.html import format_html

    from audit import selectors as audit_selectors
    from caseapp import formatting
    from cases.models import Case
    from dashboard.templatetags.dashboard_tags import when
    from policies import services
    from policies.selectors import policy_compiled, policy_version_active

    cases = [(case,) for case in Case.objects.filter(pk__in=full_case_ids(50))]

    def changes_orm(case):
        return list(audit_selectors._union(case.pk, case.customer_id, case.order_id))

    def active_before():
        version = policy_version_active()
        return version, policy_compiled(version)

    def when_before(value, fmt):
        local = timezone.localtime(value)
        shown = formatting.datetime_brief(value) if fmt == "d M H:i" else date_format(local, fmt)
        return format_html('<time datetime="{}" title="{}">{}</time>', value.isoformat(),
                           date_format(local, "Y-m-d H:i T"), shown)

    moments = [(datetime(2026, 11, 1 + n % 28, n % 24, n % 60, tzinfo=UTC), fmt)
               for n in range(200) for fmt in ("Y-m-d H:i", "d M H:i")]
    rows = [
        ("what changed, ORM (ms)", changes_orm, cases, 1),
        ("what changed, SQL once (ms)", audit_selectors._sql_rows, cases, 1),
        ("active policy, document (ms)", active_before, [()], 50),
        ("active policy, by id (ms)", services._active_policy, [()], 50),
        ("{% when %}, date_format (us)", when_before, moments, 5),
        ("{% when %}, the tag (us)", when, moments, 5),
    ]
    for _round in range(2):
        for label, function, args_list, repeat in rows:
            value = cpu_per_call(function, args_list, repeat)
            print(f"{label:34} {value * (1000 if '(us)' in label else 1):8.2f} CPU")
    print("load average:", open("/proc/loadavg").read().strip())


if __name__ == "__main__":
    main()
