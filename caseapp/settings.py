"""caseapp settings.

Nothing set: embedded defaults (SQLite in var/, Celery on kombu's filesystem transport in var/broker,
emails written to var/mail). With DATABASE_URL / REDIS_URL set: PostgreSQL and Redis.
"""

import secrets
from datetime import timedelta

from .env import BASE_DIR, VAR_DIR, env

VAR_DIR.mkdir(parents=True, exist_ok=True)

# Development only: without DEBUG a missing or default key stops the web app (caseapp.checks), and its
# "django-insecure-" prefix makes `manage.py check --deploy` flag it too.
DEVELOPMENT_SECRET_KEY = "django-insecure-caseapp-development-key-never-use-it-in-production-7f3a9c2e51d8b604"  # public on purpose, refused without DEBUG  # nosec B105
SECRET_KEY = env.str("SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Served over HTTPS (behind a proxy that sets X-Forwarded-Proto): secure cookies, redirect, HSTS.
HTTPS = env.bool("CASEAPP_HTTPS", default=False)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=3600)
    # Only when every subdomain is HTTPS too: the shop's choice, so off unless set.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "caseapp.apps.CaseappConfig",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "apitokens",
    "anymail",
    "customers",
    "vouchers",
    "orders",
    "cases",
    "policies",
    "claims",
    "notifications",
    "django_htmx",
    "csp",
    "axes",
    "staff",
    "dashboard",
    "intake",
    "search",
    "macros",
    "health",
    "surveys",
    "inbox",
    "pgtrigger",
    "pghistory",
    "audit",
]

MIDDLEWARE = [
    # First: a request id (X-Request-ID) on every log line of the request and of the tasks it enqueues.
    "caseapp.logcontext.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # A logged 500 page (templates/500.html) for what slips through a view, never a traceback, even with DEBUG.
    "caseapp.middleware.ServerErrorMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # 400 for a NUL or a lone surrogate in a query parameter or form field, before any view.
    "caseapp.middleware.BadInputMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: the audit trail's context (the user, the URL) for every write of the request.
    "audit.middleware.AuditContextMiddleware",
    "dashboard.middleware.NoStoreForSignedInMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "caseapp.middleware.PermissionsPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "dashboard.middleware.UserTimezoneMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout response.
    "axes.middleware.AxesMiddleware",
]

# --- Content-Security-Policy (django-csp) and Permissions-Policy ----------------------------------------------
# Only our own scripts and styles (htmx and app.js are static files; no inline handlers), images from us and
# data: URLs, the SVG charts inline in the page; nothing may frame us, forms post only to us.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# Browser features caseapp never uses, switched off for the page and anything it embeds.
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in (
    "accelerometer", "camera", "display-capture", "geolocation", "gyroscope", "magnetometer", "microphone",
    "payment", "usb",
))

ROOT_URLCONF = "caseapp.urls"
WSGI_APPLICATION = "caseapp.wsgi.application"
ASGI_APPLICATION = "caseapp.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dashboard.context_processors.roles",
                "health.context_processors.scan_warning",
            ],
        },
    }
]

# --- Database ---------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'caseapp.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("TEST", {})
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
# A reused connection is checked before its first query (so a restarted database costs a check, not an error).
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
# A Celery worker keeps its database connection this many seconds between tasks (0: a new one for every task, as
# Celery's Django fixup does by default); caseapp.celery applies it to worker processes only.
WORKER_DB_CONN_MAX_AGE = env.int("WORKER_DB_CONN_MAX_AGE", default=300)
# The same for the web app's processes (caseapp.wsgi: gunicorn and runserver, not the tests): a request no longer
# pays for a new PostgreSQL connection (a backend forked per request: ~10 ms and CPU on the same machine).
# Django closes a broken one, or one left in a transaction, after the request; CONN_HEALTH_CHECKS checks it first.
WEB_DB_CONN_MAX_AGE = env.int("WEB_DB_CONN_MAX_AGE", default=60)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- The audit trail (audit/, django-pghistory on django-pgtrigger) ----------------------------------------------
# The history triggers are declared on the tracked models (customers, orders, cases, ...) but must not become
# migrations in those apps: `migrate` installs them instead (on PostgreSQL; SQLite has none, see audit.services).
PGTRIGGER_MIGRATIONS = False
PGTRIGGER_INSTALL_ON_MIGRATE = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- i18n ---------------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ro", "Română"), ("ru", "Русский"), ("it", "Italiano")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []
# whitenoise serves the dashboard's CSS and htmx under gunicorn too, without a collectstatic step (the two-command
# start and the tests); caseapp.settings_production collects them at build time into a compressed manifest instead.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
# Uploaded files (Django's storage API), e.g. case attachments: a named volume in docker-compose.yml.
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))

LOGIN_URL = "login"
# The managers' "scans stopped" banner reads the heartbeats at most once this many seconds per process.
HEALTH_BANNER_SECONDS = env.float("HEALTH_BANNER_SECONDS", default=5)
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# --- Logins: rate-limited by django-axes ---------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out username/address before checking
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# --- Redis and Celery -------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
BROKER_DIR = VAR_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # Redis hands an unacknowledged task to another worker after this many seconds (a killed worker's tasks come
    # back then): longer than any task runs and any retry delay, or a task runs twice (README, "Scale out").
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
else:
    # A real transport that needs no server: messages are files, shared by every process on the machine.
    for sub in ("in", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "in"),
        "data_folder_out": str(BROKER_DIR / "in"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),  # else kombu writes control/*.exchange into the cwd
        "store_processed": False,
    }
if WORKER_DB_CONN_MAX_AGE:
    # Celery's fixup closes every connection before and after each task unless this is set; caseapp.celery closes
    # the unusable or obsolete ones instead (close_old_connections, as Django does after each request).
    CELERY_DB_REUSE_MAX = 1_000_000
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Email (django-anymail) --------------------------------------------------------------------
# EMAIL_BACKEND picks the ESP, e.g. "anymail.backends.mailgun.EmailBackend"; ANYMAIL_* vars configure it.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)  # seconds the provider may take to answer one step of a send
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="caseapp <care@shop.example>")
# No usable default: without ANYMAIL_WEBHOOK_SECRET the webhooks want a random secret nobody knows, and without
# DEBUG the web app refuses to start while any webhook is mounted (caseapp.checks).
UNUSABLE_WEBHOOK_SECRET = "unset:" + secrets.token_urlsafe(32)
ANYMAIL = {
    key: value
    for key, value in {
        "MAILGUN_API_KEY": env.str("ANYMAIL_MAILGUN_API_KEY", default=""),
        "MAILGUN_SENDER_DOMAIN": env.str("ANYMAIL_MAILGUN_SENDER_DOMAIN", default=""),
        # Mailgun signs its tracking webhooks with this key; anymail checks it on top of WEBHOOK_SECRET.
        "MAILGUN_WEBHOOK_SIGNING_KEY": env.str("ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY", default=""),
        "POSTMARK_SERVER_TOKEN": env.str("ANYMAIL_POSTMARK_SERVER_TOKEN", default=""),
        "SENDGRID_API_KEY": env.str("ANYMAIL_SENDGRID_API_KEY", default=""),
        "AMAZON_SES_CLIENT_PARAMS": None,
        "WEBHOOK_SECRET": env.str("ANYMAIL_WEBHOOK_SECRET", default="") or UNUSABLE_WEBHOOK_SECRET,
    }.items()
    if value
}
# The ESPs whose inbound webhooks are mounted (/anymail/<esp>/inbound/: mail to the support address, inbox/);
# none unless listed. Authenticated like the tracking webhooks (ANYMAIL_WEBHOOK_SECRET plus the ESP's signature).
ANYMAIL_INBOUND_ESPS = env.list("ANYMAIL_INBOUND_ESPS", default=[])
# The ESPs whose tracking webhooks are mounted (/anymail/<esp>/tracking/): the one EMAIL_BACKEND sends through,
# or those listed. Each needs ANYMAIL_WEBHOOK_SECRET (and its own signing key where the ESP signs).
ANYMAIL_WEBHOOK_ESPS = env.list(
    "ANYMAIL_WEBHOOK_ESPS",
    default=[EMAIL_BACKEND.split(".")[2]] if EMAIL_BACKEND.startswith("anymail.backends.") else [],
)

# --- caseapp --------------------------------------------------------------------------------
# Service levels: how long a new case may wait for a first answer and for its resolution.
CASE_FIRST_RESPONSE_HOURS = env.int("CASE_FIRST_RESPONSE_HOURS", default=8)
CASE_RESOLUTION_HOURS = env.int("CASE_RESOLUTION_HOURS", default=72)
CASE_FIRST_RESPONSE_SLA = timedelta(hours=CASE_FIRST_RESPONSE_HOURS)
CASE_RESOLUTION_SLA = timedelta(hours=CASE_RESOLUTION_HOURS)
# The dashboard's "quiet cases": no reply for this long (or a customer who rarely complains).
DASHBOARD_QUIET_WAIT_HOURS = env.int("DASHBOARD_QUIET_WAIT_HOURS", default=4)
DASHBOARD_PAGE_SIZE = env.int("DASHBOARD_PAGE_SIZE", default=50)
# How long the queue's filter counts may be reused before they are counted again (the page says when it counted;
# any change to a case recounts at once). 0 counts on every view.
DASHBOARD_QUEUE_COUNTS_SECONDS = env.int("DASHBOARD_QUEUE_COUNTS_SECONDS", default=30)

# --- Proactive notifications (notifications/) ----------------------------------------------------
# Reminders before a voucher expires, in days.
try:
    VOUCHER_REMINDER_OFFSETS_DAYS = sorted(
        {int(days) for days in env.list("VOUCHER_REMINDER_OFFSETS_DAYS", default=["30", "7", "1"])}, reverse=True
    )
except ValueError as exc:
    raise ValueError("VOUCHER_REMINDER_OFFSETS_DAYS: give whole numbers of days, e.g. 30,7,1") from exc
if any(days < 0 for days in VOUCHER_REMINDER_OFFSETS_DAYS):
    raise ValueError("VOUCHER_REMINDER_OFFSETS_DAYS: days before expiry cannot be negative")
# Where a voucher can be used, as said in the reminder; empty: "in any of our shops or on our web shop", translated.
NOTIFICATIONS_VOUCHER_WHERE_TO_USE = env.str("NOTIFICATIONS_VOUCHER_WHERE_TO_USE", default="")
# Shipment scans look at orders placed within this many days (older ones are for people, not for a scan).
NOTIFICATIONS_LOOKBACK_DAYS = env.int("NOTIFICATIONS_LOOKBACK_DAYS", default=30)
# A shipment with no courier event for this long is at risk.
NOTIFICATIONS_SHIPMENT_SILENT_HOURS = env.int("NOTIFICATIONS_SHIPMENT_SILENT_HOURS", default=48)
# The new date promised in a late-delivery apology when the courier gives none, in days from today.
NOTIFICATIONS_LATE_NEW_DATE_DAYS = env.int("NOTIFICATIONS_LATE_NEW_DATE_DAYS", default=2)
# How long the courier correction of a COD amount may take, at most, in hours.
NOTIFICATIONS_COD_FIX_HOURS = env.int("NOTIFICATIONS_COD_FIX_HOURS", default=4)
# A date-critical parcel that can still be saved is the shop's to act on first: if no person has acted on the case
# this many hours after the escalation, the customer is told it is at risk (never a new date after the occasion).
NOTIFICATIONS_DATE_CRITICAL_ACT_HOURS = env.int("NOTIFICATIONS_DATE_CRITICAL_ACT_HOURS", default=4)
NOTIFICATIONS_SCAN_BATCH_SIZE = env.int("NOTIFICATIONS_SCAN_BATCH_SIZE", default=500)
# Rows handed to one send_messages_task, sent over one provider session (1: one task and one connection a row).
NOTIFICATIONS_SEND_BATCH_SIZE = env.int("NOTIFICATIONS_SEND_BATCH_SIZE", default=50)
# Sending: attempts, exponential backoff (kept well below the broker's visibility timeout), and the sweep.
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=8)
NOTIFICATIONS_RETRY_BACKOFF_SECONDS = env.int("NOTIFICATIONS_RETRY_BACKOFF_SECONDS", default=30)
NOTIFICATIONS_RETRY_BACKOFF_MAX_SECONDS = env.int("NOTIFICATIONS_RETRY_BACKOFF_MAX_SECONDS", default=900)
NOTIFICATIONS_SWEEP_AFTER_SECONDS = env.int("NOTIFICATIONS_SWEEP_AFTER_SECONDS", default=120)
if REDIS_URL and NOTIFICATIONS_RETRY_BACKOFF_MAX_SECONDS * 2 > CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]:
    raise ValueError("NOTIFICATIONS_RETRY_BACKOFF_MAX_SECONDS must stay well below the broker's visibility timeout.")
# A send may take this long at most (the task's hard time limit, enforced by the prefork pool); a row still
# "sending" after it (plus a few seconds) belongs to a worker that died mid-send, and the sweep resolves it.
NOTIFICATIONS_SENDING_TIMEOUT_SECONDS = env.int(
    "NOTIFICATIONS_SENDING_TIMEOUT_SECONDS", default=max(120, 3 * EMAIL_TIMEOUT)
)
if NOTIFICATIONS_SENDING_TIMEOUT_SECONDS <= EMAIL_TIMEOUT:
    raise ValueError("NOTIFICATIONS_SENDING_TIMEOUT_SECONDS must be longer than EMAIL_TIMEOUT.")
# When nobody can know whether the provider accepted a message (the worker died after handing it over, or the
# answer never came) and the provider does not deduplicate on our idempotency key: "hold" it for a person
# (nothing is sent twice, nothing is sent until someone decides) or "resend" it (same Message-ID; at least once).
NOTIFICATIONS_IN_DOUBT = env.str("NOTIFICATIONS_IN_DOUBT", default="hold")
if NOTIFICATIONS_IN_DOUBT not in ("hold", "resend"):
    raise ValueError("NOTIFICATIONS_IN_DOUBT: give hold or resend.")
# Providers that deduplicate on the idempotency key caseapp sends (notifications.services.DEDUPLICATING_BACKENDS).
ANYMAIL.update({key: value for key, value in {
    "RESEND_API_KEY": env.str("ANYMAIL_RESEND_API_KEY", default=""),
    "BREVO_API_KEY": env.str("ANYMAIL_BREVO_API_KEY", default=""),
}.items() if value})

# Remedies carried out and told (policies.services._remedy_followups): a refund, a free item or a manager's
# cancellation is a to-do for the case owner, due this many hours after it was applied; the customer's email about a
# remedy waits this many minutes in the outbox, so an agent can hold it back (told by phone); a refund email tells
# the customer to expect the money within this many business days.
REMEDY_PAYMENT_DUE_HOURS = env.int("REMEDY_PAYMENT_DUE_HOURS", default=24)
REMEDY_NOTICE_HOLD_MINUTES = env.int("REMEDY_NOTICE_HOLD_MINUTES", default=10)
REMEDY_REFUND_BUSINESS_DAYS = env.int("REMEDY_REFUND_BUSINESS_DAYS", default=5)

# One beat scheduler runs these (celery -A caseapp beat); each interval in seconds from the environment.
BEAT_SCANS = [  # (schedule name, task, environment variable with its interval in seconds, default)
    ("scan-expiring-vouchers", "scan_expiring_vouchers_task", "NOTIFICATIONS_SCAN_VOUCHERS_SECONDS", 3600),
    ("scan-late-shipments", "scan_late_shipments_task", "NOTIFICATIONS_SCAN_SHIPMENTS_SECONDS", 900),
    ("scan-cod-mismatches", "scan_cod_mismatches_task", "NOTIFICATIONS_SCAN_COD_SECONDS", 900),
    ("scan-uncollected-parcels", "scan_uncollected_parcels_task", "NOTIFICATIONS_SCAN_NOT_COLLECTED_SECONDS", 3600),
    ("scan-overdue-promises", "scan_overdue_promises_task", "NOTIFICATIONS_SCAN_PROMISES_SECONDS", 300),
    ("sweep-outbox", "sweep_outbox_task", "NOTIFICATIONS_SWEEP_SECONDS", 60),
    ("mark-expired-vouchers", "vouchers.tasks.mark_expired_vouchers_task", "VOUCHERS_MARK_EXPIRED_SECONDS", 3600),
]
BEAT_SCANS += [  # tasks of other apps: their full dotted name
    ("purge-webhook-payloads", "intake.tasks.purge_webhook_payloads_task", "INTAKE_PURGE_SECONDS", 3600),
    ("fetch-email", "inbox.tasks.fetch_email_task", "CASEAPP_IMAP_POLL_SECONDS", 60),
    ("scan-claim-deadlines", "claims.tasks.scan_claim_deadlines_task", "CLAIMS_SCAN_SECONDS", 3600),
    ("scan-due-surveys", "surveys.tasks.scan_due_surveys_task", "SURVEYS_SCAN_SECONDS", 300),
]
# Courier claims (claims/): a claim still to file this many days before its deadline alerts its owner and a manager.
CLAIMS_DEADLINE_WARNING_DAYS = env.int("CLAIMS_DEADLINE_WARNING_DAYS", default=7)
CELERY_BEAT_SCHEDULE: dict = {  # a task without a module is one of notifications.tasks
    name: {"task": task if "." in task else f"notifications.tasks.{task}",
           "schedule": env.float(variable, default=default)}
    for name, task, variable, default in BEAT_SCANS
}

# Shop data in (intake/): webhooks and order imports.
INTAKE_WEBHOOK_TOLERANCE_SECONDS = env.int("INTAKE_WEBHOOK_TOLERANCE_SECONDS", default=300)
INTAKE_WEBHOOK_MAX_BYTES = env.int("INTAKE_WEBHOOK_MAX_BYTES", default=1_000_000)
INTAKE_WEBHOOK_PAYLOAD_RETENTION_DAYS = env.int("INTAKE_WEBHOOK_PAYLOAD_RETENTION_DAYS", default=14)
INTAKE_UPLOAD_MAX_BYTES = env.int("INTAKE_UPLOAD_MAX_BYTES", default=20_000_000)
# Search: the shop's order-number prefix, so "1004" also finds "SHOP-1004" (empty: none).
CASEAPP_ORDER_NUMBER_PREFIX = env.str("CASEAPP_ORDER_NUMBER_PREFIX", default="")
# Inbound email (inbox/): the support address customers write to; case emails carry a signed reply address on it
# (support+c<case>-<signature>@domain, plus-addressing). Empty: DEFAULT_FROM_EMAIL's address.
CASEAPP_SUPPORT_ADDRESS = env.str("CASEAPP_SUPPORT_ADDRESS", default="")
# An IMAP mailbox read by manage.py fetch_email and the beat task inbox.tasks.fetch_email_task (off without a host).
CASEAPP_IMAP_HOST = env.str("CASEAPP_IMAP_HOST", default="")
CASEAPP_IMAP_PORT = env.int("CASEAPP_IMAP_PORT", default=0)  # 0: 993 with ssl, 143 otherwise
CASEAPP_IMAP_USER = env.str("CASEAPP_IMAP_USER", default="")
CASEAPP_IMAP_PASSWORD = env.str("CASEAPP_IMAP_PASSWORD", default="")
CASEAPP_IMAP_FOLDER = env.str("CASEAPP_IMAP_FOLDER", default="INBOX")
CASEAPP_IMAP_DONE_FOLDER = env.str("CASEAPP_IMAP_DONE_FOLDER", default="")  # empty: taken messages are marked seen
CASEAPP_IMAP_SECURITY = env.str("CASEAPP_IMAP_SECURITY", default="ssl")  # ssl | starttls | none
if CASEAPP_IMAP_SECURITY not in ("ssl", "starttls", "none"):
    raise ValueError("CASEAPP_IMAP_SECURITY must be ssl, starttls or none.")
CASEAPP_IMAP_TIMEOUT = env.int("CASEAPP_IMAP_TIMEOUT", default=30)
CASEAPP_IMAP_BATCH = env.int("CASEAPP_IMAP_BATCH", default=200)
CASEAPP_IMAP_POLL_SECONDS = env.float("CASEAPP_IMAP_POLL_SECONDS", default=60)

# --- Satisfaction surveys (surveys/): one email per resolved case, after a delay, on or off per category -------
# JSON: {"default": {"enabled": true, "delay_hours": 2}, "<case category>": {"enabled": false}, ...}; a category's
# entry is laid over the default's.
CASEAPP_SURVEY = env.json("CASEAPP_SURVEY", default={"default": {"enabled": True, "delay_hours": 2}})
if not isinstance(CASEAPP_SURVEY, dict) or not all(
    isinstance(entry, dict) and set(entry) <= {"enabled", "delay_hours"}
    and isinstance(entry.get("enabled", True), bool)
    and isinstance(entry.get("delay_hours", 0), int | float) and not isinstance(entry.get("delay_hours", 0), bool)
    and 0 <= entry.get("delay_hours", 0) <= 24 * 90
    for entry in CASEAPP_SURVEY.values()
):
    raise ValueError('CASEAPP_SURVEY: give {"default": {"enabled": true, "delay_hours": 2}, "<category>": {...}} '
                     "(enabled true/false, delay_hours from 0 to 2160).")
CASEAPP_SURVEY.setdefault("default", {})
# The rating links work this many days after the email is sent.
CASEAPP_SURVEY_LINK_DAYS = env.int("CASEAPP_SURVEY_LINK_DAYS", default=30)
# Where customers reach caseapp's public pages (the survey links in emails), without a trailing slash.
CASEAPP_PUBLIC_URL = env.str("CASEAPP_PUBLIC_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- Files on cases (cases.Attachment): a local folder by default, S3-compatible storage by setting -----------
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"  # never served as such: files go out only through dashboard:attachment, to staff
CASEAPP_ATTACHMENT_MAX_BYTES = env.int("CASEAPP_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
# Kept types (as caseapp decides them from the bytes and the name, cases.attachments); "image/*" is a family.
CASEAPP_ATTACHMENT_TYPES = env.list("CASEAPP_ATTACHMENT_TYPES", default=[
    "image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain", "text/csv",
    "application/msword", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
    "video/mp4", "video/quicktime",
    "message/rfc822",  # a forwarded email, attached whole (inbox/)
])
CASEAPP_STORAGE = env.str("CASEAPP_STORAGE", default="filesystem")
if CASEAPP_STORAGE == "filesystem":
    _DEFAULT_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage",
                        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": MEDIA_URL}}
elif CASEAPP_STORAGE == "s3":
    # django-storages' S3 backend: AWS S3 or any S3-compatible service (MinIO, Ceph, Backblaze, Wasabi, ...).
    _DEFAULT_STORAGE = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME"),
        "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
        "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
        "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
        "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
        "location": env.str("AWS_LOCATION", default=""),
        "default_acl": None,  # private: the bucket's own policy; files are read by caseapp, never linked
        "querystring_auth": True,
        "file_overwrite": False,
    }}
else:
    raise ValueError("CASEAPP_STORAGE: give filesystem or s3.")
STORAGES = {
    "default": _DEFAULT_STORAGE,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

REST_FRAMEWORK = {
    # 400, not 500, for JSON nested absurdly deep or with NUL / lone surrogates in any string (caseapp.parsers).
    "DEFAULT_PARSER_CLASSES": [
        "caseapp.parsers.StrictJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # A token first, so an anonymous request gets 401 with WWW-Authenticate; sessions (the dashboard) enforce CSRF.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apitokens.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["caseapp.api_v1.FilterBackend"],  # django-filter's, skipped when no filter is given
    "DEFAULT_THROTTLE_CLASSES": ["apitokens.throttling.ApiRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
# Requests per token (or per signed-in user) and period; for fairness between integrations, not security.
API_TOKEN_THROTTLE_RATE = env.str("API_TOKEN_THROTTLE_RATE", default="1200/minute")
API_USER_THROTTLE_RATE = env.str("API_USER_THROTTLE_RATE", default="600/minute")

SPECTACULAR_SETTINGS = {
    "TITLE": "caseapp API",
    "DESCRIPTION": "Customers, vouchers, orders, shipments, cases, promises and remedies of caseapp. "
                   "Authenticate with `Authorization: Bearer <token>` (a manager creates tokens at /tokens/) "
                   "or a dashboard session.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SCHEMA_PATH_PREFIX": r"/api/v1/",
    "SWAGGER_UI_DIST": "SIDECAR",  # served from our own static files: no CDN
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "cases.models.CaseStatus", "CaseChannelEnum": "cases.models.CaseChannel",
        "CaseEventKindEnum": "cases.models.CaseEventKind", "PromiseStatusEnum": "cases.models.PromiseStatus",
        "OrderStatusEnum": "orders.models.OrderStatus", "ShipmentStatusEnum": "orders.models.ShipmentStatus",
        "VoucherStatusEnum": "vouchers.models.VoucherStatus", "RemedyStatusEnum": "policies.models.RemedyStatus",
        "RemedyKindEnum": "policies.models.RemedyKind",
        "InboundStatusEnum": "inbox.models.InboundStatus", "InboundSourceEnum": "inbox.models.InboundSource",
        "InboundProblemEnum": "inbox.models.InboundProblem",
    },
    "PREPROCESSING_HOOKS": ["caseapp.api_v1.only_v1_endpoints"],
}

# --- Logs ---------------------------------------------------------------------------------------
# LOG_FORMAT=plain (default: one readable line) or json (one JSON object a line, python-json-logger). Both carry the
# request id, which follows a request into the tasks it enqueues, and the case number where there is one
# (caseapp/logcontext.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ValueError("LOG_FORMAT: give plain or json.")
LOG_FORMATTERS = {
    "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s case=%(case_number)s] %(message)s"},
    "json": {"()": "pythonjsonlogger.json.JsonFormatter",
             "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(case_number)s "
                       "%(process)d %(processName)s",
             "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"}},
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "permission_denied_without_traceback": {"()": "caseapp.logfilters.PermissionDeniedWithoutTraceback"},
        "context": {"()": "caseapp.logcontext.ContextFilter"},
    },
    "formatters": {LOG_FORMAT: LOG_FORMATTERS[LOG_FORMAT]},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["context"], "formatter": LOG_FORMAT}},
    "loggers": {
        # An ordinary 403 is one line, not a traceback (caseapp/logfilters.py).
        "django.request": {"filters": ["permission_denied_without_traceback"]},
        # One line per trigger on every migrate ("Installing ... trigger"): only what goes wrong is worth a line.
        "pgtrigger": {"level": "WARNING"},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
# In JSON, the worker and beat log through the same handler (Celery leaves the root logger alone); in plain, Celery
# keeps its own familiar format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = LOG_FORMAT != "json"

# --- Macros -------------------------------------------------------------------------------------------------
# Each courier's public tracking page for the {tracking_link} placeholder, as JSON: {"Cargus": "https://…?awb=
# {tracking_number}"}. A courier not listed leaves the placeholder as a "missing" marker for the agent to fill.
MACRO_TRACKING_LINKS = env.json("CASEAPP_TRACKING_LINKS", default={})
