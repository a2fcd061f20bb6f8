"""The beat schedule and the reminder offsets come from the environment."""

import os
import subprocess
import sys

from django.conf import settings

from caseapp.celery import app


def settings_in_subprocess(env_extra: dict, expression: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **env_extra}
    return subprocess.run(
        [sys.executable, "-c",
         "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE','caseapp.settings'); django.setup();"
         f"from django.conf import settings as s; print({expression})"],
        env=env, capture_output=True, text=True, cwd=settings.BASE_DIR,
    )


def test_every_scan_and_the_sweep_are_scheduled_as_registered_tasks():
    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled == {
        "notifications.tasks.scan_expiring_vouchers_task", "notifications.tasks.scan_late_shipments_task",
        "notifications.tasks.scan_cod_mismatches_task", "notifications.tasks.scan_uncollected_parcels_task",
        "notifications.tasks.scan_overdue_promises_task", "notifications.tasks.sweep_outbox_task",
        "intake.tasks.purge_webhook_payloads_task",
        "vouchers.tasks.mark_expired_vouchers_task",  # nothing else stores "expired" on a voucher past its date
        "claims.tasks.scan_claim_deadlines_task",
    }
    assert scheduled <= set(app.tasks)


def test_intervals_and_offsets_are_read_from_the_environment():
    # given intervals and offsets set in the environment
    out = settings_in_subprocess(
        {"NOTIFICATIONS_SCAN_VOUCHERS_SECONDS": "17", "NOTIFICATIONS_SWEEP_SECONDS": "5",
         "VOUCHER_REMINDER_OFFSETS_DAYS": "14,3"},
        "s.CELERY_BEAT_SCHEDULE['scan-expiring-vouchers']['schedule'], "
        "s.CELERY_BEAT_SCHEDULE['sweep-outbox']['schedule'], s.VOUCHER_REMINDER_OFFSETS_DAYS",
    )
    # then settings use them
    assert out.stdout.split() == ["17.0", "5.0", "[14,", "3]"], out.stderr


def test_a_retry_cap_above_the_visibility_timeout_is_refused_at_startup():
    out = settings_in_subprocess({"REDIS_URL": "redis://127.0.0.1:6379/5",
                                  "NOTIFICATIONS_RETRY_BACKOFF_MAX_SECONDS": "3000"}, "1")
    assert out.returncode != 0
    assert "NOTIFICATIONS_RETRY_BACKOFF_MAX_SECONDS" in out.stderr


def test_the_in_doubt_policy_and_the_send_time_limit_are_checked_at_startup():
    # given a policy that is neither hold nor resend, or a send time limit shorter than one SMTP answer may take
    unknown = settings_in_subprocess({"NOTIFICATIONS_IN_DOUBT": "retry"}, "1")
    too_short = settings_in_subprocess({"EMAIL_TIMEOUT": "30", "NOTIFICATIONS_SENDING_TIMEOUT_SECONDS": "30"}, "1")
    default = settings_in_subprocess({"EMAIL_TIMEOUT": "60"}, "s.NOTIFICATIONS_SENDING_TIMEOUT_SECONDS, s.NOTIFICATIONS_IN_DOUBT")
    # then the start stops and names the setting; the default limit covers three SMTP answers, and holds
    assert unknown.returncode != 0 and "NOTIFICATIONS_IN_DOUBT" in unknown.stderr
    assert too_short.returncode != 0 and "NOTIFICATIONS_SENDING_TIMEOUT_SECONDS" in too_short.stderr
    assert default.stdout.split() == ["180", "hold"], default.stderr
