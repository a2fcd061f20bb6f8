"""The audit trail (audit/): PostgreSQL triggers record every change, whichever code path made it, with who and why."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import InternalError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from audit.models import CaseAudit, CustomerAudit, OrderAudit, UserGroupAudit, VoucherAudit
from cases.models import Case, CaseStatus
from customers.models import Customer
from orders.models import Order
from tests.dashboard.conftest import login
from tests.factories import CaseFactory, CustomerFactory, OrderFactory, VoucherFactory
from vouchers.models import VoucherStatus
from vouchers.tasks import mark_expired_vouchers_task

pytestmark = pytest.mark.django_db


@pytest.mark.postgres
def test_a_queryset_update_is_recorded():
    # given
    customer = CustomerFactory(name="Ana Pop")
    # when: no save(), no signal, no service
    Customer.objects.filter(pk=customer.pk).update(name="Ana Popescu")
    # then
    events = list(CustomerAudit.objects.filter(pgh_obj_id=customer.pk).order_by("pgh_id"))
    assert [(e.pgh_label, e.name) for e in events] == [("insert", "Ana Pop"), ("update", "Ana Popescu")]


@pytest.mark.postgres
def test_a_raw_sql_update_is_recorded():
    # given
    order = OrderFactory(occasion="")
    # when: a hand-made fix in psql, past the ORM
    with connection.cursor() as cursor:
        cursor.execute("UPDATE orders_order SET occasion = %s WHERE id = %s", ["birthday 14 March", order.pk])
    # then
    last = OrderAudit.objects.filter(pgh_obj_id=order.pk).latest("pgh_id")
    assert (last.pgh_label, last.occasion, last.pgh_context) == ("update", "birthday 14 March", None)


@pytest.mark.postgres
def test_a_case_is_tracked_by_its_arrival_number():
    # given
    case = CaseFactory(status=CaseStatus.NEW)
    # when
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.OPEN)
    # then: pgh_obj points at arrival_number, the case's primary key
    events = CaseAudit.objects.filter(pgh_obj=case).order_by("pgh_id")
    assert [(e.pgh_label, e.status, e.arrival_number) for e in events] == [
        ("insert", CaseStatus.NEW, case.arrival_number), ("update", CaseStatus.OPEN, case.arrival_number)]
    assert case.audit_events.count() == 2


@pytest.mark.postgres
def test_a_status_change_through_the_dashboard_records_the_user_the_url_and_the_reason(client, agent):
    # given
    case = CaseFactory(owner=agent, status=CaseStatus.OPEN)
    login(client, agent)
    url = reverse("dashboard:case_status", args=[case.pk])
    # when
    response = client.post(url, {"status": CaseStatus.WAITING_ON_CUSTOMER, "reason": "Asked for a photo."})
    # then
    assert response.status_code == 302
    last = CaseAudit.objects.filter(pgh_obj=case).select_related("pgh_context").latest("pgh_id")
    assert last.status == CaseStatus.WAITING_ON_CUSTOMER
    metadata = last.pgh_context.metadata
    assert (metadata["user"], metadata["username"], metadata["url"], metadata["reason"]) == (
        agent.pk, agent.username, url, "Asked for a photo.")


@pytest.mark.postgres
def test_a_celery_task_records_its_name():
    # given: a voucher past its last day
    voucher = VoucherFactory(status=VoucherStatus.ACTIVE, valid_until=timezone.localdate() - timedelta(days=1))
    # when: the task runs (apply() sends the same task_prerun/task_postrun signals as a worker)
    mark_expired_vouchers_task.apply()
    # then: its QuerySet.update() is recorded under the task's name
    last = VoucherAudit.objects.filter(pgh_obj_id=voucher.pk).select_related("pgh_context").latest("pgh_id")
    assert last.status == VoucherStatus.EXPIRED
    assert last.pgh_context.metadata["task"] == "vouchers.tasks.mark_expired_vouchers_task"


@pytest.mark.postgres
def test_a_role_change_is_recorded(agent):
    # given
    managers = Group.objects.get_or_create(name="manager")[0]
    # when
    agent.groups.add(managers)
    agent.groups.remove(managers)
    # then
    events = UserGroupAudit.objects.filter(user=agent, group=managers).order_by("pgh_id")
    assert [e.pgh_label for e in events] == ["insert", "delete"]


def test_without_triggers_the_services_still_record_case_customer_and_order_changes(client, agent):
    """Both paths: on PostgreSQL the triggers write these; on SQLite audit.services does (on save)."""
    # given
    customer = CustomerFactory()
    order = OrderFactory(customer=customer)
    case = CaseFactory(customer=customer, order=order, owner=agent, status=CaseStatus.OPEN)
    login(client, agent)
    # when
    client.post(reverse("dashboard:case_status", args=[case.pk]),
                {"status": CaseStatus.WAITING_ON_SHOP, "reason": "Checking the stock."})
    customer.phone = "+40 700 000 000"
    customer.save()
    Order.objects.get(pk=order.pk).save()
    # then
    last = CaseAudit.objects.filter(pgh_obj=case).select_related("pgh_context").latest("pgh_id")
    assert (last.status, last.pgh_context.metadata["username"]) == (CaseStatus.WAITING_ON_SHOP, agent.username)
    assert last.pgh_context.metadata["reason"] == "Checking the stock."
    assert CustomerAudit.objects.filter(pgh_obj=customer).latest("pgh_id").phone == "+40 700 000 000"
    assert OrderAudit.objects.filter(pgh_obj=order, pgh_label="insert").exists()


@pytest.mark.postgres
def test_the_trail_itself_is_append_only():
    # given
    customer = CustomerFactory()
    event = CustomerAudit.objects.get(pgh_obj_id=customer.pk)
    # when / then: neither the ORM nor raw SQL can rewrite or remove history
    with pytest.raises(InternalError), transaction.atomic():
        CustomerAudit.objects.filter(pk=event.pk).update(name="someone else")
    with pytest.raises(InternalError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_customeraudit WHERE pgh_id = %s", [event.pk])
    assert CustomerAudit.objects.get(pk=event.pk).name == customer.name
