"""manage.py import_orders FILE --format shopify|woocommerce|generic [--dry-run] [--encoding ENC]"""

import os
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from intake.imports import FORMATS, ImportRefused, orders_import


class Command(BaseCommand):
    help = ("Import a shop's order export (CSV): one transaction per order, idempotent on the order number; "
            "rejected rows are reported with their line numbers and reasons.")

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--format", choices=FORMATS, required=True)
        parser.add_argument("--dry-run", action="store_true", help="Check and count everything, write nothing.")
        parser.add_argument("--encoding", help="e.g. cp1251; without it UTF-8 or a Windows code page is detected.")

    def handle(self, *args, **options):
        path = options["file"]
        try:
            stream = open(path, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise CommandError(f"Cannot open {path}: {exc.strerror}") from exc
        size = os.path.getsize(path)
        bar = tqdm(total=size, unit="B", unit_scale=True, desc="orders", file=sys.stderr,
                   disable=not sys.stderr.isatty() or options["verbosity"] == 0)

        def progress():
            bar.update(stream.tell() - bar.n)

        try:
            report = orders_import(stream=stream, fmt=options["format"], dry_run=options["dry_run"],
                                   encoding=options["encoding"], progress=progress)
        except ImportRefused as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
            stream.close()
        for rejection in report.rejected:
            self.stderr.write(f"line {rejection.line}: order {rejection.number or '?'}: {rejection.reason}")
        if report.stopped:
            self.stderr.write(report.stopped)
        prefix = "dry run, nothing written: " if options["dry_run"] else ""
        self.stdout.write(
            f"{prefix}{report.created} created, {report.changed} changed, {report.unchanged} unchanged, "
            f"{len(report.rejected)} rejected (read as {report.encoding})"
        )
        if report.stopped:
            raise CommandError("The import stopped before the end of the file.")
