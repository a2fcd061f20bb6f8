"""manage.py backup [--output FILE]: pg_dump of the default database, the same as scripts/backup.sh."""

import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections


class Command(BaseCommand):
    help = ("Back up the PostgreSQL database (pg_dump custom format, restore with scripts/restore.sh); "
            "prints the file written.")

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="The file to write (default: backups/caseapp-<UTC time>.dump).")

    def handle(self, *args, **options):
        db = connections["default"].settings_dict
        if not db["ENGINE"].endswith("postgresql"):
            raise CommandError("manage.py backup backs up PostgreSQL; on SQLite copy the database file "
                               f"({db['NAME']}) while nothing writes to it.")
        pg_dump = shutil.which("pg_dump")
        if pg_dump is None:
            raise CommandError("pg_dump is not installed (apt-get install postgresql-client-15, the server's "
                               "major version or newer).")
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        output = Path(options["output"] or Path(settings.BASE_DIR) / "backups" / f"caseapp-{stamp}.dump")
        output.parent.mkdir(parents=True, exist_ok=True)
        partial = output.with_name(output.name + ".part")
        command = [pg_dump, "--format=custom", "--no-owner", "--no-privileges", f"--file={partial}",
                   f"--dbname={db['NAME']}"]
        for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
            if db.get(key):
                command.append(f"{flag}={db[key]}")
        env = {**os.environ, **({"PGPASSWORD": str(db["PASSWORD"])} if db.get("PASSWORD") else {})}
        done = subprocess.run(command, env=env, capture_output=True, text=True)  # noqa: S603 (our own arguments)
        if done.returncode != 0:
            partial.unlink(missing_ok=True)
            raise CommandError(f"pg_dump failed: {done.stderr.strip()[-2000:]}")
        partial.replace(output)  # complete: a failed dump never looks like a backup
        self.stdout.write(str(output))
