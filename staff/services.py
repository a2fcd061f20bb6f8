"""Staff settings: one transaction each."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from .models import StaffProfile


@transaction.atomic
def staff_language_set(*, user, language: str) -> StaffProfile:
    """Choose the language of one's own emails ("" for the site's language)."""
    if language and language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": f"{language!r} is not one of {', '.join(dict(settings.LANGUAGES))}."})
    profile, _ = StaffProfile.objects.update_or_create(user=user, defaults={"language": language or ""})
    return profile
