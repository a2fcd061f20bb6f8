"""The beat's heartbeat: each scheduled scan run writes its row; managers are warned when scans stopped."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from health.models import ScanHeartbeat
from health.selectors import overdue_scans
from health.services import scan_heartbeat_beat
from notifications.tasks import handle_late_shipments_task, scan_late_shipments_task

SHIPMENT_SCAN = "notifications.tasks.scan_late_shipments_task"
WARNING = "The scheduled scans have not run for"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.django_db
def test_a_scheduled_task_run_writes_its_heartbeat_and_an_unscheduled_one_does_not():
    # given no heartbeat yet (a real worker started by an earlier test in this process may have left one behind)
    ScanHeartbeat.objects.all().delete()
    # the task runs as a worker runs it (Celery's trace, with its signals), here in this process
    scan_late_shipments_task.apply()
    scan_late_shipments_task.apply()
    beat = ScanHeartbeat.objects.get(task=SHIPMENT_SCAN)
    assert beat.runs == 2 and timezone.now() - beat.last_run_at < timedelta(minutes=1)
    handle_late_shipments_task.apply(args=[[]])
    assert list(ScanHeartbeat.objects.values_list("task", flat=True)) == [SHIPMENT_SCAN]


@pytest.mark.django_db
def test_overdue_after_twice_the_interval():
    interval = settings.CELERY_BEAT_SCHEDULE["scan-late-shipments"]["schedule"]
    now = timezone.now()
    scan_heartbeat_beat(task=SHIPMENT_SCAN, now=now - timedelta(seconds=2 * interval - 5))
    assert overdue_scans(now=now) is None
    overdue = overdue_scans(now=now + timedelta(seconds=10))
    assert overdue.tasks == [SHIPMENT_SCAN]


@pytest.mark.django_db
def test_managers_see_the_banner_translated_and_agents_do_not(client, manager, agent):
    interval = settings.CELERY_BEAT_SCHEDULE["scan-late-shipments"]["schedule"]
    scan_heartbeat_beat(task=SHIPMENT_SCAN, now=timezone.now() - timedelta(seconds=3 * interval))
    client.force_login(manager)
    page = client.get("/approvals/").content.decode()
    assert WARNING in page and "celery beat" in page
    client.cookies["django_language"] = "ro"
    assert "Scanările programate nu au mai rulat" in client.get("/approvals/", HTTP_ACCEPT_LANGUAGE="ro").content.decode()
    client.force_login(agent)
    assert WARNING not in client.get("/").content.decode()
    # and once the scan runs again, the banner is gone
    scan_heartbeat_beat(task=SHIPMENT_SCAN)
    client.force_login(manager)
    assert WARNING not in client.get("/approvals/").content.decode()
