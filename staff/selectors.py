"""Read queries for staff settings."""

from django.conf import settings

from .models import StaffProfile


def staff_language(user) -> str:
    """The language a staff member reads caseapp's emails in: their own choice, else the site's language."""
    if user is None or not getattr(user, "pk", None):
        return settings.LANGUAGE_CODE
    language = StaffProfile.objects.filter(user_id=user.pk).values_list("language", flat=True).first()
    return language or settings.LANGUAGE_CODE
