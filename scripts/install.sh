#!/usr/bin/env bash
# Creates .venv and installs caseapp from the hashed lock (with the test extras when given "test"); skipped when
# nothing changed. Fails, naming the fix, when requirements.lock was not made from pyproject.toml's current
# dependencies (refresh it with ./scripts/lock.sh). ./scripts/install.sh [test] [--no-lock-check]
set -euo pipefail
cd "$(dirname "$0")/.."
extras=""
lock_check=1
for arg in "$@"; do
  case "$arg" in
    test) extras=test ;;
    --no-lock-check) lock_check=0 ;;  # only scripts/lock.sh, to bootstrap pip-tools before a refresh
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done
PY=${PYTHON:-python3}
if [ "$lock_check" = 1 ]; then
  "$PY" scripts/lockcheck.py check requirements.lock
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=".venv/.caseapp-installed${extras:+-$extras}"
want=$(cat pyproject.toml requirements.lock | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  if [ "$lock_check" = 1 ]; then
    # Everything pinned, every file checked against its hash; the lock holds the test extras too (a superset).
    .venv/bin/python -m pip install -q --require-hashes --no-deps -r requirements.lock
  else
    .venv/bin/python -m pip install -q "pip-tools>=7.4"
    .venv/bin/python -m pip install -q -e ".${extras:+[$extras]}"
  fi
  # caseapp itself, editable, without touching the locked set.
  .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e . 2>/dev/null \
    || .venv/bin/python -m pip install -q --no-deps -e .
  if [ "$lock_check" = 1 ]; then echo "$want" > "$stamp"; fi
fi
.venv/bin/python manage.py compile_translations -v0 >/dev/null
