#!/usr/bin/env bash
# A backup of caseapp's PostgreSQL database: pg_dump's custom format (compressed; pg_restore reads it, table by
# table if need be). ./scripts/backup.sh [FILE]   (default: backups/caseapp-<UTC time>.dump; prints the file)
# Reads DATABASE_URL (postgres://user:password@host:port/name). pg_dump must be the server's major version or
# newer (PostgreSQL 15 here: apt-get install postgresql-client-15). Restore with ./scripts/restore.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL to the PostgreSQL database to back up}"
case "$DATABASE_URL" in
  postgres://*|postgresql://*) ;;
  *) echo "backup.sh backs up PostgreSQL; DATABASE_URL is not a postgres:// URL (SQLite: copy var/db.sqlite3)" >&2
     exit 2 ;;
esac
file=${1:-backups/caseapp-$(date -u +%Y%m%dT%H%M%SZ).dump}
mkdir -p "$(dirname "$file")"
# Written under a temporary name and moved into place when complete: a failed dump never looks like a backup.
pg_dump --format=custom --no-owner --no-privileges --file="$file.part" --dbname="$DATABASE_URL"
mv "$file.part" "$file"
echo "$file"
