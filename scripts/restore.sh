#!/usr/bin/env bash
# Restores a backup made by ./scripts/backup.sh into an EMPTY database (create it first, e.g.
# createdb -h HOST -U USER caseapp_restored), in one transaction: all of it or nothing.
#   ./scripts/restore.sh FILE TARGET_DATABASE_URL
# Then point DATABASE_URL at it and run `python manage.py migrate` (a no-op unless the code is newer).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -ne 2 ]; then
  echo "usage: $0 FILE TARGET_DATABASE_URL   (the target database must exist and be empty)" >&2
  exit 2
fi
file=$1
target=$2
[ -r "$file" ] || { echo "restore.sh: cannot read $file" >&2; exit 2; }
tables=$(psql --no-psqlrc -X -At --dbname="$target" \
  -c "select count(*) from pg_tables where schemaname not in ('pg_catalog', 'information_schema')")
if [ "$tables" != "0" ]; then
  echo "restore.sh: the target database already has $tables tables; restore only into an empty database" >&2
  exit 1
fi
# pg_restore empties the search_path while it restores (CVE-2018-1058): every function an index or a constraint
# calls names its schema (search 0002 made caseapp_fold() and caseapp_ident() call public.unaccent), so it builds.
pg_restore --no-owner --no-privileges --single-transaction --exit-on-error --dbname="$target" "$file"
echo "restored $file into the target database"
