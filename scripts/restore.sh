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
# pg_restore empties search_path while it restores (CVE-2018-1058), and search's caseapp_fold() calls unaccent()
# without a schema, so its indexes would not build: the restore runs as SQL with search_path set to public
# (the only line changed is pg_restore's own set_config; a COPY data line always starts with a row's id).
pg_restore --no-owner --no-privileges --file=- "$file" \
  | sed -e "s/^SELECT pg_catalog.set_config('search_path', '', false);\$/SELECT pg_catalog.set_config('search_path', 'public', false);/" \
  | psql --no-psqlrc -X -q -v ON_ERROR_STOP=1 --single-transaction --dbname="$target" >/dev/null
echo "restored $file into the target database"
