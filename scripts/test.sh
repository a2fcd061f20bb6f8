#!/usr/bin/env bash
# Installs what the tests need and runs them: ./scripts/test.sh [pytest arguments]
# With nothing set, tests use SQLite and kombu's filesystem broker; set DATABASE_URL and REDIS_URL
# (as .ci/run does) to run them against PostgreSQL and Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install.sh test
# Tests run in parallel processes (pytest-xdist, one per core; CASEAPP_TEST_WORKERS=0 runs them in this one),
# a test file staying in one process so that its module fixtures are built once.
exec .venv/bin/python -m pytest -n "${CASEAPP_TEST_WORKERS:-auto}" --dist loadfile "$@"
