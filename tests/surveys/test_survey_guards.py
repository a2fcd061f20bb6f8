"""The guards: two beats at once send one email; the settings are checked; only GET records a rating."""

import threading
from datetime import timedelta

import pytest
from django.core.checks import run_checks
from django.db import close_old_connections, connection
from django.utils import timezone

from cases.models import CaseStatus
from cases.services import case_change_status
from notifications.models import Message
from surveys.models import Survey
from surveys.services import survey_send
from surveys.tokens import rating_token
from tests.factories import CaseFactory
from tests.notifications.test_settings import settings_in_subprocess


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_beats_sending_the_same_due_survey_at_once_queue_one_email():
    # given a resolved case whose survey is due (committed, so other connections see it)
    case = CaseFactory(status=CaseStatus.OPEN)
    case_change_status(case=case, status=CaseStatus.RESOLVED)
    survey = Survey.objects.get(case=case)
    later = survey.due_at + timedelta(minutes=1)
    # when four workers (two beats' tasks, redeliveries) send it at the same moment
    barrier = threading.Barrier(4)
    results, errors = [], []

    def send():
        try:
            barrier.wait(timeout=10)
            results.append(survey_send(survey_id=survey.pk, now=later))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # then one of them sent it, the others found nothing to do, and the outbox has one email
    assert errors == []
    assert sum(result is not None for result in results) == 1
    assert Message.objects.filter(template="satisfaction_survey", case=case).count() == 1
    assert Survey.objects.get(pk=survey.pk).sent_at == later


@pytest.mark.django_db
def test_only_get_records_a_rating(client):
    case = CaseFactory(status=CaseStatus.OPEN)
    case_change_status(case=case, status=CaseStatus.RESOLVED)
    survey = Survey.objects.get(case=case)
    survey_send(survey_id=survey.pk, now=timezone.now() + timedelta(hours=3))
    token = rating_token(survey=Survey.objects.get(pk=survey.pk), score=5)
    assert client.head(f"/survey/{token}/").status_code == 405  # a link checker's HEAD records nothing
    assert client.post(f"/survey/{token}/").status_code == 405
    assert Survey.objects.get(pk=survey.pk).rating is None


def test_an_unknown_category_in_the_survey_settings_fails_the_check(settings):
    settings.CASEAPP_SURVEY = {"default": {"enabled": True}, "late_delivry": {"enabled": False}}
    errors = [error for error in run_checks() if error.id == "surveys.E001"]
    assert len(errors) == 1 and "late_delivry" in errors[0].msg


@pytest.mark.parametrize("value", ['{"default": {"enabled": "yes"}}', '{"default": {"delay_hours": -1}}',
                                   '{"default": {"dealy_hours": 2}}', '[1, 2]', "not json"])
def test_malformed_survey_settings_are_refused_at_startup(value):
    out = settings_in_subprocess({"CASEAPP_SURVEY": value}, "s.CASEAPP_SURVEY")
    assert out.returncode != 0
    assert "CASEAPP_SURVEY" in out.stderr or "JSON" in out.stderr or "Expecting value" in out.stderr


def test_survey_settings_are_read_from_the_environment():
    out = settings_in_subprocess({"CASEAPP_SURVEY": '{"default": {"delay_hours": 6}, "other": {"enabled": false}}',
                                  "SURVEYS_SCAN_SECONDS": "42"},
                                 "s.CASEAPP_SURVEY['default']['delay_hours'], s.CASEAPP_SURVEY['other']['enabled'], "
                                 "s.CELERY_BEAT_SCHEDULE['scan-due-surveys']['schedule']")
    assert out.stdout.split() == ["6", "False", "42.0"], out.stderr
