#!/usr/bin/env bash
# Side by side with django-helpdesk (issue 15): the peer harness in ../shared/peers/django-helpdesk (it installs
# django-helpdesk from PyPI into /tmp/peer-helpdesk-venv; nothing of it is committed here) and caseapp's
# dashboard bench, on the same PostgreSQL, the same N, the same open share (30 %), interleaved ROUNDS times.
#
#   ./bench/compare_helpdesk.sh 10000          # env: ROUNDS (2), K (100 requests a page), LOAD=1 to (re)load
#   ./bench/compare_helpdesk.sh 100000
#
# Databases: caseapp_bench_<N/1000>k and peer_helpdesk_<N/1000>k on 127.0.0.1:5432 (user postgres). With LOAD=1
# caseapp's is emptied and loaded with bench/shape.py (--cases N --orders 10 N); the peer's is seeded by its own
# bench.sh when it does not hold N tickets. Each run's output, with the load average before it, goes to
# bench/results/compare-<N>.txt (appended, one "=== sitting" per run of this script); bench/compare_summary.py then
# writes the sitting's table (p50s, query counts, load averages, ratios) into bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-10000}"; ROUNDS="${ROUNDS:-2}"; K="${K:-100}"
TAG="$((N / 1000))k"
PEER_DIR="$(cd ../shared/peers/django-helpdesk 2>/dev/null && pwd || { cd /work/shared/peers/django-helpdesk && pwd; })"
PG="postgres://postgres@127.0.0.1:5432"
export SECRET_KEY="${SECRET_KEY:-bench-only-secret-key-$(hostname)-0123456789abcdefghijklmnopqrstuvwxyz}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/9}" CASEAPP_VAR_DIR="${CASEAPP_VAR_DIR:-/tmp/var_bench}"
mkdir -p bench/results
OUT="bench/results/compare-$N.txt"
for db in "caseapp_bench_$TAG" "peer_helpdesk_$TAG"; do
  psql -h 127.0.0.1 -U postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 \
    || psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db"
done
[ -x /tmp/peer-helpdesk-venv/bin/python ] || DATABASE_URL="$PG/peer_helpdesk_$TAG" "$PEER_DIR/setup.sh"
if [ "${LOAD:-0}" = 1 ]; then
  DATABASE_URL="$PG/caseapp_bench_$TAG" .venv/bin/python bench/shape.py --cases "$N" --orders "$((N * 10))" | tee -a "$OUT"
fi
echo "=== sitting $(date -u +%FT%TZ), N=$N, ROUNDS=$ROUNDS, K=$K, $(nproc) cores" | tee -a "$OUT"
for round in $(seq 1 "$ROUNDS"); do
  echo "== round $round, N=$N, $(date -u +%FT%TZ), load average: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT"
  echo "-- django-helpdesk" | tee -a "$OUT"
  (cd "$PEER_DIR" && DATABASE_URL="$PG/peer_helpdesk_$TAG" K="$K" ./bench.sh "$N") 2>&1 \
    | grep -vE "^(AXES|seed|ANALYZE)" | tee -a "$OUT"
  echo "-- caseapp (load average: $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$OUT"
  DATABASE_URL="$PG/caseapp_bench_$TAG?conn_max_age=60" .venv/bin/python bench/dashboard_bench.py --requests "$K" 2>&1 \
    | grep -v AXES | tee -a "$OUT"
done
# The ratios of this sitting, written into bench/README.md between its "compare N=<N>" markers.
.venv/bin/python bench/compare_summary.py "$OUT" --readme bench/README.md
