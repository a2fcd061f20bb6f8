"""Satisfaction surveys end to end: resolve, the scan after the delay, the email in the customer's language, the
signed one-click links (once), the comment page, and the settings per category."""

import re
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail, signing
from django.utils import timezone

from cases.models import CaseCategory, CaseEvent, CaseEventKind, CaseStatus
from cases.services import case_change_status
from notifications.models import Message
from notifications.scans import keyset_enqueue
from notifications.services import message_send
from surveys.models import Survey
from surveys.services import due_surveys_queryset, survey_send
from surveys.tasks import send_surveys_task
from surveys.tokens import RATING_SALT, rating_token
from tests.factories import CaseFactory, CustomerFactory

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://\S+/survey/[^/\s]+/")


def scan(now) -> list:
    """What one beat run does, in-process: find the due surveys by keyset, send each batch."""
    batches = []
    keyset_enqueue(due_surveys_queryset(now=now), batches.append)
    return [sum(survey_send(survey_id=survey_id, now=now) is not None for survey_id in ids) for ids in batches]


def resolve(case, by=None):
    return case_change_status(case=case, status=CaseStatus.RESOLVED, by=by)


def deliver_all():
    """Hand every queued outbox row to the email backend (Django's locmem outbox), as the worker does."""
    for message in Message.objects.filter(status="queued"):
        message_send(message_id=message.pk, now=timezone.now() + timedelta(days=1))


def links_in(email) -> dict[int, str]:
    """{score: path} of the rating links in the text part, read as the customer would."""
    found = {}
    for line in email.body.splitlines():
        match = LINK.search(line)
        if match:
            found[int(line.strip()[0])] = urlsplit(match.group(0)).path
    return found


@pytest.fixture
def resolved_case(agent):
    customer = CustomerFactory(name="Ana Pop", preferred_language="en")
    case = CaseFactory(customer=customer, owner=agent, category=CaseCategory.LATE_DELIVERY, status=CaseStatus.OPEN)
    resolve(case, by=agent)
    return case


@pytest.fixture
def sent_survey(resolved_case):
    survey = Survey.objects.get(case=resolved_case)
    scan(survey.due_at + timedelta(minutes=1))
    deliver_all()
    survey.refresh_from_db()
    return survey


def test_resolving_a_case_sends_one_survey_after_the_delay_even_when_the_scan_runs_twice(resolved_case, agent):
    # given a case just resolved (the default delay is 2 hours)
    survey = Survey.objects.get(case=resolved_case)
    assert survey.agent == agent and survey.category == CaseCategory.LATE_DELIVERY
    assert survey.due_at - survey.resolved_at == timedelta(hours=2)
    # when the scan runs before the delay is over
    assert scan(timezone.now() + timedelta(hours=1)) == []
    assert not Message.objects.filter(template="satisfaction_survey").exists()
    # and twice after it
    later = timezone.now() + timedelta(hours=2, minutes=1)
    assert scan(later) == [1]
    assert scan(later) == []
    assert survey_send(survey_id=survey.pk, now=later) is None  # a redelivered task finds it sent
    assert send_surveys_task([survey.pk]) == 0  # the task itself, run again
    deliver_all()
    deliver_all()  # a retried send task: the row is already sent
    # then exactly one email went out, to the customer, and the timeline says so
    assert Message.objects.filter(template="satisfaction_survey", case=resolved_case).count() == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [resolved_case.customer.email]
    survey.refresh_from_db()
    assert survey.sent_at is not None and survey.message.status == "sent"
    assert CaseEvent.objects.filter(case=resolved_case, kind=CaseEventKind.EMAIL_OUT,
                                    data__survey_id=survey.pk).count() == 1
    assert set(links_in(mail.outbox[0])) == {1, 2, 3, 4, 5}


def test_a_case_reopened_before_the_survey_went_out_is_surveyed_after_its_new_resolution(agent):
    customer = CustomerFactory()
    case = CaseFactory(customer=customer, owner=agent, status=CaseStatus.OPEN)
    resolve(case)
    first_due = Survey.objects.get(case=case).due_at
    # reopened: the scan leaves it alone
    case_change_status(case=case, status=CaseStatus.OPEN)
    assert scan(first_due + timedelta(minutes=1)) == []
    # resolved again: one survey, due after the new resolution
    resolve(case)
    survey = Survey.objects.get(case=case)
    assert survey.due_at >= first_due
    assert scan(survey.due_at + timedelta(minutes=1)) == [1]
    # after it was sent, reopening and resolving again asks nothing more (one survey per case)
    case_change_status(case=case, status=CaseStatus.OPEN)
    resolve(case)
    assert scan(timezone.now() + timedelta(days=1)) == []
    assert Survey.objects.filter(case=case).count() == 1
    assert Message.objects.filter(template="satisfaction_survey", case=case).count() == 1


@pytest.mark.parametrize(("language", "subject_word", "body_words"), [
    ("en", "How did we do?", "Very satisfied"),
    ("ro", "Cum ne-am descurcat?", "Foarte mulțumit"),
    ("ru", "Как мы справились?", "Очень доволен"),
    ("it", "Come ce la siamo cavata?", "Molto soddisfatto"),
])
def test_the_survey_email_is_in_the_customers_language(language, subject_word, body_words):
    customer = CustomerFactory(name="Irina", preferred_language=language)
    case = CaseFactory(customer=customer, status=CaseStatus.OPEN)
    resolve(case)
    scan(timezone.now() + timedelta(hours=3))
    deliver_all()
    (email,) = mail.outbox
    assert subject_word in email.subject and f"#{case.pk}" in email.subject
    assert body_words in email.body and "Irina" in email.body
    html = email.alternatives[0][0]
    assert body_words in html and f'lang="{language}"' in html


def test_a_rating_link_records_its_score_once_then_the_comment_page_in_the_customers_language(client, agent):
    customer = CustomerFactory(preferred_language="ro")
    case = CaseFactory(customer=customer, owner=agent, status=CaseStatus.OPEN)
    resolve(case)
    scan(timezone.now() + timedelta(hours=3))
    deliver_all()
    links = links_in(mail.outbox[0])
    # when the customer clicks "4"
    response = client.get(links[4])
    # then it is recorded and the customer lands on the comment page, in Romanian
    assert response.status_code == 302
    survey = Survey.objects.get(case=case)
    assert survey.rating == 4 and survey.rated_at is not None
    page = client.get(response["Location"])
    assert page.status_code == 200
    text = page.content.decode()
    assert 'lang="ro"' in text and "Mulțumit" in text and 'name="csrfmiddlewaretoken"' in text
    assert agent.username not in text  # no staff data on the public page
    # a second click, on the same or on another score, changes nothing
    rated_at = survey.rated_at
    for score in (4, 1):
        again = client.get(links[score])
        assert again.status_code == 409
        assert "already rated" not in again.content.decode()  # Romanian page
        assert 'data-problem="already_rated"' in again.content.decode()
    survey.refresh_from_db()
    assert (survey.rating, survey.rated_at) == (4, rated_at)


def test_the_comment_is_recorded_once_with_csrf(sent_survey):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    token = rating_token(survey=sent_survey, score=5)
    assert client.get(f"/survey/{token}/").status_code == 302
    page = client.get(f"/survey/{token}/comment/")
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    # without the CSRF token: refused, nothing recorded
    assert client.post(f"/survey/{token}/comment/", {"comment": "Forged"},
                       HTTP_X_CSRFTOKEN="").status_code in (403,)
    sent_survey.refresh_from_db()
    assert sent_survey.comment == ""
    # an empty comment: a field error, not a 500
    empty = client.post(f"/survey/{token}/comment/", {"comment": "   ", "csrfmiddlewaretoken": csrf})
    assert empty.status_code == 400 and 'role="alert"' in empty.content.decode()
    # a real comment
    done = client.post(f"/survey/{token}/comment/", {"comment": "  Quick and kind, thank you!  ",
                                                     "csrfmiddlewaretoken": csrf})
    assert done.status_code == 200 and 'id="survey-thanks"' in done.content.decode()
    sent_survey.refresh_from_db()
    assert sent_survey.comment == "Quick and kind, thank you!" and sent_survey.commented_at is not None
    # a second comment changes nothing
    second = client.post(f"/survey/{token}/comment/", {"comment": "Changed my mind", "csrfmiddlewaretoken": csrf})
    assert second.status_code == 409
    sent_survey.refresh_from_db()
    assert sent_survey.comment == "Quick and kind, thank you!"


def _tampered(token: str) -> str:
    value, _, signature = token.rpartition(":")
    return f"{value}:{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}"


class _OldSigner(signing.TimestampSigner):
    def timestamp(self):
        return signing.b62_encode(int(time.time()) - 31 * 24 * 3600)


@pytest.mark.parametrize("kind", ["tampered", "other_score_forged", "truncated", "garbage", "expired",
                                  "unknown_survey", "other_salt"])
def test_a_bad_link_is_a_clear_4xx_page_and_changes_nothing(client, sent_survey, kind):
    good = rating_token(survey=sent_survey, score=2)
    token = {
        "tampered": _tampered(good),
        # the payload of a 5 with the signature of a 2
        "other_score_forged": signing.dumps({"u": str(sent_survey.public_id), "r": 5}, salt=RATING_SALT)
        .split(":")[0] + ":" + good.split(":", 1)[1],
        "truncated": good[: len(good) // 2],
        "garbage": "not-a-token",
        "expired": _OldSigner(salt=RATING_SALT).sign_object({"u": str(sent_survey.public_id), "r": 2}),
        "unknown_survey": signing.dumps({"u": "00000000-0000-0000-0000-000000000000", "r": 2}, salt=RATING_SALT),
        "other_salt": signing.dumps({"u": str(sent_survey.public_id), "r": 2}, salt="something.else"),
    }[kind]
    for path in (f"/survey/{token}/", f"/survey/{token}/comment/"):
        response = client.get(path)
        assert 400 <= response.status_code < 500
        assert 'id="survey-problem"' in response.content.decode()
        assert response.status_code == (410 if kind == "expired" else 404 if kind == "unknown_survey" else 400)
    sent_survey.refresh_from_db()
    assert sent_survey.rating is None and sent_survey.comment == ""


def test_a_survey_not_sent_yet_cannot_be_rated(client, resolved_case):
    survey = Survey.objects.get(case=resolved_case)
    response = client.get(f"/survey/{rating_token(survey=survey, score=5)}/")
    assert response.status_code == 404
    survey.refresh_from_db()
    assert survey.rating is None


def test_a_category_switched_off_gets_no_survey_and_the_delay_is_per_category(settings):
    settings.CASEAPP_SURVEY = {"default": {"enabled": True, "delay_hours": 2},
                               "wrong_item": {"enabled": False}, "lost_parcel": {"delay_hours": 24}}
    off = CaseFactory(category=CaseCategory.WRONG_ITEM, status=CaseStatus.OPEN)
    slow = CaseFactory(category=CaseCategory.LOST_PARCEL, status=CaseStatus.OPEN)
    resolve(off)
    resolve(slow)
    assert not Survey.objects.filter(case=off).exists()
    survey = Survey.objects.get(case=slow)
    assert survey.due_at - survey.resolved_at == timedelta(hours=24)
    assert scan(timezone.now() + timedelta(hours=3)) == []
    assert scan(timezone.now() + timedelta(hours=25)) == [1]
    assert Message.objects.filter(template="satisfaction_survey").count() == 1


def test_surveys_switched_off_by_default_send_nothing(settings):
    settings.CASEAPP_SURVEY = {"default": {"enabled": False}, "late_delivery": {"enabled": True}}
    case = CaseFactory(category=CaseCategory.OTHER, status=CaseStatus.OPEN)
    resolve(case)
    late = CaseFactory(category=CaseCategory.LATE_DELIVERY, status=CaseStatus.OPEN)
    resolve(late)
    assert list(Survey.objects.values_list("case_id", flat=True)) == [late.pk]


def test_a_closed_case_without_resolution_gets_no_survey():
    case = CaseFactory(status=CaseStatus.OPEN)
    case_change_status(case=case, status=CaseStatus.CLOSED)
    assert not Survey.objects.exists()


def test_a_customer_without_a_valid_address_is_not_surveyed_and_the_scan_does_not_loop_on_it():
    nobody = CaseFactory(customer=CustomerFactory(email=""), status=CaseStatus.OPEN)
    resolve(nobody)
    assert not Survey.objects.filter(case=nobody).exists()
    # an address that broke after the resolution: the survey is dropped at send time, not retried forever
    case = CaseFactory(status=CaseStatus.OPEN)
    resolve(case)
    type(case.customer).objects.filter(pk=case.customer_id).update(email="not an address")
    assert scan(timezone.now() + timedelta(hours=3)) == [0]
    assert not Survey.objects.filter(case=case).exists()
    assert scan(timezone.now() + timedelta(hours=3)) == []
    assert not Message.objects.filter(template="satisfaction_survey").exists()


@pytest.mark.parametrize("comment", ["x" * 2001, "nul \x00 inside", ""])
def test_a_bad_comment_is_a_400_and_writes_nothing(client, sent_survey, comment):
    token = rating_token(survey=sent_survey, score=3)
    assert client.get(f"/survey/{token}/").status_code == 302
    response = client.post(f"/survey/{token}/comment/", {"comment": comment})
    assert response.status_code == 400
    sent_survey.refresh_from_db()
    assert sent_survey.comment == "" and sent_survey.commented_at is None and sent_survey.rating == 3
