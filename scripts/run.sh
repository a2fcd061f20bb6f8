#!/usr/bin/env bash
# Installs caseapp, migrates, loads the demo and starts the web app and a Celery worker (with beat).
# With nothing set: SQLite in var/ and a filesystem broker in var/broker (no server needed).
# Set DATABASE_URL / REDIS_URL to use PostgreSQL / Redis. HOST and PORT choose where the web app listens.
set -euo pipefail
cd "$(dirname "$0")/.."
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
./scripts/install.sh
export DEBUG=${DEBUG:-true}
.venv/bin/python manage.py migrate --noinput -v0
.venv/bin/python manage.py seed_demo --size "${DEMO_SIZE:-200}"
logdir="${CASEAPP_VAR_DIR:-var}/log"; mkdir -p "$logdir"
.venv/bin/celery -A caseapp worker --beat --loglevel=INFO --concurrency=2 \
  --schedule "${CASEAPP_VAR_DIR:-var}/celerybeat-schedule" >"$logdir/worker.log" 2>&1 &
worker=$!
trap 'kill "$worker" 2>/dev/null || true' EXIT INT TERM
# Run every scan once now, not only at its first beat interval, so the demo's proactive moments happen at start.
.venv/bin/python manage.py shell -v0 -c "from django.conf import settings; from caseapp.celery import app
for entry in settings.CELERY_BEAT_SCHEDULE.values(): app.send_task(entry['task'])"
echo
echo "caseapp is running at http://$HOST:$PORT/  (admin: http://$HOST:$PORT/admin/)"
echo "demo logins, password caseapp-demo: agent, agent2 (support agents), manager (manager), admin (staff)"
echo "worker log: $logdir/worker.log; emails are written to var/mail/ unless EMAIL_BACKEND is set"
echo
.venv/bin/python manage.py runserver "$HOST:$PORT" --noreload
