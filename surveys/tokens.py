"""The signed links of a survey: one per score (1-5), and the comment page's. No login: the signature authorises.

A token carries the survey's public id (a UUID, never the sequential id) and the score, signed with SECRET_KEY
and a salt of its own, and timestamped: it works CASEAPP_SURVEY_LINK_DAYS days after it was made.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

RATING_SALT = "surveys.rating"


@dataclass(frozen=True)
class SurveyLink:
    public_id: str
    score: int


class LinkInvalid(Exception):
    """Tampered with, cut short, or not ours."""


class LinkExpired(Exception):
    """Genuine, but older than CASEAPP_SURVEY_LINK_DAYS."""


def rating_token(*, survey, score: int) -> str:
    return signing.dumps({"u": str(survey.public_id), "r": int(score)}, salt=RATING_SALT)


def rating_url(*, survey, score: int) -> str:
    path = reverse("surveys:rate", kwargs={"token": rating_token(survey=survey, score=score)})
    return f"{settings.CASEAPP_PUBLIC_URL}{path}"


def link_read(token: str) -> SurveyLink:
    max_age = settings.CASEAPP_SURVEY_LINK_DAYS * 24 * 3600
    try:
        value = signing.loads(token, salt=RATING_SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise LinkExpired from exc
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise LinkInvalid from exc
    if not isinstance(value, dict) or not isinstance(value.get("u"), str) or value.get("r") not in range(1, 6):
        raise LinkInvalid
    return SurveyLink(public_id=value["u"], score=value["r"])
