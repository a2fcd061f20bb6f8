"""The beat scan: a claim still to file near its deadline alerts the case owner and a manager, once each."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from cases.models import CaseEventKind
from claims.models import Claim
from claims.scans import claim_deadline_alert, claims_near_deadline_queryset
from claims.services import claim_file
from claims.tasks import alert_claim_deadlines_task
from notifications import catalogue
from notifications.models import Message
from notifications.scans import keyset_enqueue

from .conftest import apply_refund, lost_parcel_case

pytestmark = pytest.mark.django_db


def beat():
    """What one beat of scan_claim_deadlines_task does, with the batch task run here instead of on a worker."""
    return keyset_enqueue(claims_near_deadline_queryset(), lambda ids: alert_claim_deadlines_task(ids))


def test_a_claim_near_its_deadline_alerts_the_owner_and_a_manager_once_under_two_beats(policy, agent, manager):
    # given a claim due in 5 days (a 10-day window, lost 5 days ago), one due in 25 days, and one already filed
    near = Claim.objects.get(remedy=apply_refund(lost_parcel_case(owner=agent, window_days=10, lost_days_ago=5), agent))
    far = Claim.objects.get(remedy=apply_refund(
        lost_parcel_case(owner=agent, window_days=30, lost_days_ago=5, courier_name="FarPost"), agent))
    filed = Claim.objects.get(remedy=apply_refund(
        lost_parcel_case(owner=agent, window_days=10, lost_days_ago=5, courier_name="QuickPost"), agent))
    claim_file(claim=filed, by=manager, reference="QP-1")
    assert settings.CLAIMS_DEADLINE_WARNING_DAYS == 7
    # when the beat runs twice, and a late batch handles the same claim again
    assert beat() == 1
    assert beat() == 0
    assert claim_deadline_alert(claim_id=near.pk) is None
    # then the owner and a manager each got one alert, in their language, and the timeline says so once
    alerts = Message.objects.filter(template=catalogue.CLAIM_DEADLINE)
    assert sorted(alerts.values_list("recipient", flat=True)) == sorted([agent.email, manager.email])
    assert {alert.context["claim_deadline_date"] for alert in alerts} == {near.deadline.isoformat()}
    near.refresh_from_db()
    assert near.deadline_alerted_at is not None
    assert near.case.events.filter(kind=CaseEventKind.DETECTED, data__deadline_alert=True).count() == 1
    assert not Message.objects.filter(case__in=[far.case, filed.case], template=catalogue.CLAIM_DEADLINE).exists()


def test_the_warning_days_come_from_the_setting(policy, agent, manager, settings):
    claim = Claim.objects.get(remedy=apply_refund(lost_parcel_case(owner=agent, window_days=30), agent))
    assert claim.deadline > timezone.localdate() + timedelta(days=7)
    assert beat() == 0
    settings.CLAIMS_DEADLINE_WARNING_DAYS = 40
    assert beat() == 1
