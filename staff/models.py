from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class StaffProfile(models.Model):
    """What one staff member chose for themselves: the language of the emails caseapp sends them."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile")
    language = models.CharField(
        _("Language of your emails"), max_length=8, blank=True, choices=settings.LANGUAGES,
        help_text=_("Escalations and task emails are written in this language."),
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(language="") | models.Q(language__in=[code for code, _ in settings.LANGUAGES]),
                name="staff_profile_language_known",
            )
        ]

    def __str__(self):
        return f"{self.user} ({self.language or settings.LANGUAGE_CODE})"
