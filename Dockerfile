# caseapp's image: the web app (gunicorn), the Celery worker and the beat all run from it (docker-compose.yml).
#
# psycopg2 is built from source here, not psycopg2-binary: psycopg2's maintainers advise the binary wheel for
# development and testing only, because it bundles its own libpq and OpenSSL (not updated with the system's
# security fixes, and known to clash with other libraries linking another libssl). The two-command start keeps
# psycopg2-binary (pyproject.toml) so it needs no compiler. requirements/production.txt is the hashed lock of
# the runtime dependencies with psycopg2 in its place (scripts/lock.sh writes it).

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential libpq-dev \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /venv
COPY requirements/production.txt /tmp/production.txt
# Every package pinned and checked against its hash; psycopg2 compiled against Debian's libpq.
RUN /venv/bin/pip install --require-hashes --no-deps -r /tmp/production.txt
WORKDIR /app
COPY . .
RUN /venv/bin/pip install --no-deps --no-build-isolation . 2>/dev/null || /venv/bin/pip install --no-deps .

FROM python:3.11-slim
ENV PATH=/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=caseapp.settings_production CASEAPP_VAR_DIR=/app/var MEDIA_ROOT=/app/var/media
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 postgresql-client \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 caseapp \
 && useradd --system --uid 10001 --gid caseapp --home-dir /app --shell /usr/sbin/nologin caseapp
COPY --from=build /venv /venv
WORKDIR /app
COPY --chown=caseapp:caseapp . .
# Static files collected once, at build time, into the compressed manifest (caseapp.settings_production); the
# translations compiled. Build-time only key: nothing is served with it.
RUN SECRET_KEY=build-only-not-a-secret DEBUG=true python manage.py collectstatic --noinput -v0 \
 && python manage.py compile_translations -v0 \
 && mkdir -p /app/var/media \
 && chown -R caseapp:caseapp /app/var /app/staticfiles /app/locale
USER caseapp:caseapp
VOLUME ["/app/var/media"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=10s --start-period=20s --retries=5 \
  CMD python -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=5).status != 200)"
CMD ["gunicorn", "caseapp.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
