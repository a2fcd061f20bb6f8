"""A change made by a task in a real Celery worker process carries the task's name."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import VoucherAudit
from tests.factories import VoucherFactory
from tests.notifications.conftest import (  # noqa: F401  (fixtures)
    clean_broker,
    committed_db,
    roles_kept,
    smtp_server,
    start_worker,
    wait_until,
)
from vouchers.models import VoucherStatus
from vouchers.tasks import mark_expired_vouchers_task


@pytest.mark.worker
@pytest.mark.postgres
def test_a_task_run_by_a_real_worker_records_its_name(committed_db, clean_broker, start_worker):  # noqa: F811
    # given a voucher past its last day, and a worker
    voucher = VoucherFactory(status=VoucherStatus.ACTIVE, valid_until=timezone.localdate() - timedelta(days=1))
    start_worker()
    # when the scan is queued, as the beat does
    mark_expired_vouchers_task.delay()
    # then the worker's QuerySet.update() is in the trail, under the task's name
    expired = VoucherAudit.objects.filter(pgh_obj_id=voucher.pk, status=VoucherStatus.EXPIRED)
    wait_until(expired.exists, timeout=90, message="the worker to expire the voucher")
    event = expired.select_related("pgh_context").get()
    assert event.pgh_context.metadata["task"] == "vouchers.tasks.mark_expired_vouchers_task"
    assert event.pgh_context.metadata["task_id"]
