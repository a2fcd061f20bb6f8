"""Survey actions: plan one when a case is resolved, send it when due, record the customer's rating and comment.

- ``survey_plan`` is called by cases.services.case_change_status, in its transaction, when a case becomes
  resolved. One survey per case (Survey.case is one-to-one): resolving again before the survey went out moves it
  to the new resolution (and its delay); once it has been sent, the case is not surveyed again.
- ``survey_send`` is called by the beat scan for each due survey: it claims the row (a lock, skipping rows another
  scan holds, and ``sent_at``) and queues the email through the outbox with the idempotency key ``survey:<id>``,
  in one transaction, so two beats, a retried task or a re-run scan send one email.
- ``survey_rate`` and ``survey_comment`` are guarded updates: a second use of a link changes nothing.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from cases.models import Case, CaseEventKind, CaseStatus
from cases.services import case_event_append
from cases.timeline import say, say_text
from notifications import catalogue
from notifications.services import message_queue

from .models import Rating, Survey
from .tokens import rating_url

logger = logging.getLogger(__name__)

SURVEYED_STATUSES = (CaseStatus.RESOLVED, CaseStatus.CLOSED)  # a case closed after its resolution still gets it
COMMENT_MAX_LENGTH = 2000


def survey_settings(category: str) -> tuple[bool, timedelta]:
    """Whether a case of this category is surveyed, and how long after its resolution (CASEAPP_SURVEY)."""
    entry = {"enabled": True, "delay_hours": 2, **settings.CASEAPP_SURVEY.get("default", {}),
             **settings.CASEAPP_SURVEY.get(category, {})}
    return bool(entry["enabled"]), timedelta(hours=entry["delay_hours"])


def survey_plan(*, case: Case, now: datetime | None = None) -> Survey | None:
    """The case was just resolved (the caller holds the transaction): plan its survey, or move a pending one."""
    now = now or timezone.now()
    enabled, delay = survey_settings(case.category)
    existing = Survey.objects.select_for_update().filter(case=case).first()
    if existing is not None:
        if existing.sent_at is not None:
            return existing  # one survey per case: already asked
        if not enabled:  # recategorised into a category that is not surveyed
            existing.delete()
            return None
        existing.resolved_at, existing.due_at = now, now + delay
        existing.agent_id, existing.category = case.owner_id, case.category
        existing.save(update_fields=["resolved_at", "due_at", "agent", "category"])
        return existing
    if not enabled or not _is_email(case.customer.email):
        return None
    try:
        with transaction.atomic():
            return Survey.objects.create(case=case, customer_id=case.customer_id, agent_id=case.owner_id,
                                         category=case.category, resolved_at=now, due_at=now + delay)
    except IntegrityError:  # planned at the same moment by another transaction
        return Survey.objects.filter(case=case).first()


def _is_email(address: str) -> bool:
    try:
        validate_email(address or "")
    except ValidationError:
        return False
    return True


def due_surveys_queryset(*, now: datetime):
    return Survey.objects.filter(sent_at__isnull=True, due_at__lte=now, case__status__in=SURVEYED_STATUSES)


@transaction.atomic
def survey_send(*, survey_id: int, now: datetime | None = None) -> Survey | None:
    """Queue the survey email, once. None when the survey is not (or no longer) due, or another scan has it."""
    now = now or timezone.now()
    survey = (
        due_surveys_queryset(now=now).select_for_update(skip_locked=True, of=("self",))
        .select_related("case", "customer").filter(pk=survey_id).first()
    )
    if survey is None:
        return None
    customer, case = survey.customer, survey.case
    if not _is_email(customer.email):  # the address was removed or broken since: nobody to ask, do not rescan it
        logger.info("Survey %s of case %s dropped: the customer has no valid email address", survey.pk, case.pk)
        survey.delete()
        return None
    message, _created = message_queue(
        recipient=customer.email, template=catalogue.SATISFACTION_SURVEY, case=case,
        idempotency_key=f"survey:{survey.pk}", language=customer.preferred_language,
        time_zone=customer.time_zone,
        context={
            "customer_name": customer.name, "case_number": case.pk, "case_subject": case.subject,
            "rating_links": [{"score": score, "url": rating_url(survey=survey, score=score)}
                             for score in Rating.values],
            "link_days": settings.CASEAPP_SURVEY_LINK_DAYS,
        },
    )
    survey.sent_at, survey.message = now, message
    survey.save(update_fields=["sent_at", "message"])
    said = say(gettext_noop("Satisfaction survey sent to %(email)s"), email=customer.email)
    case_event_append(case=case, kind=CaseEventKind.EMAIL_OUT, occurred_at=now, text=say_text(said),
                      data={"survey_id": survey.pk, "message_id": message.pk, "say": said})
    return survey


class SurveyAlreadyAnswered(Exception):  # noqa: N818 (an outcome the page explains)
    """The rating (or the comment) was recorded before: nothing changed."""


@transaction.atomic
def survey_rate(*, survey: Survey, score: int, now: datetime | None = None) -> Survey:
    """Record the customer's score, once: a second click (on any score) changes nothing."""
    if score not in Rating.values:
        raise ValidationError({"rating": "A rating is a whole number from 1 to 5."})
    now = now or timezone.now()
    claimed = Survey.objects.filter(pk=survey.pk, rating__isnull=True, sent_at__isnull=False).update(
        rating=score, rated_at=now)
    if not claimed:
        raise SurveyAlreadyAnswered
    survey.refresh_from_db()
    return survey


@transaction.atomic
def survey_comment(*, survey: Survey, comment: str, now: datetime | None = None) -> Survey:
    """Add the customer's comment to a rated survey, once."""
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError({"comment": "Write a comment, or simply close the page."})
    if len(comment) > COMMENT_MAX_LENGTH:
        raise ValidationError({"comment": f"At most {COMMENT_MAX_LENGTH} characters."})
    now = now or timezone.now()
    claimed = Survey.objects.filter(pk=survey.pk, rating__isnull=False, comment="").update(
        comment=comment, commented_at=now)
    if not claimed:
        raise SurveyAlreadyAnswered
    survey.refresh_from_db()
    return survey
