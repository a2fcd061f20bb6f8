"""Satisfaction surveys: one per case, planned when the case is resolved, sent by a beat scan after a delay."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Rating(models.IntegerChoices):
    VERY_UNHAPPY = 1, _("Very dissatisfied")
    UNHAPPY = 2, _("Dissatisfied")
    NEUTRAL = 3, _("Neither satisfied nor dissatisfied")
    HAPPY = 4, _("Satisfied")
    VERY_HAPPY = 5, _("Very satisfied")


class Survey(models.Model):
    """The question "how did we do?" about one case, and the customer's answer.

    One row per case (the one-to-one is the guard against a second survey): a case reopened and resolved again
    before its survey went out has it postponed to the new resolution; once sent, a case is never surveyed again.
    The category and the agent are the case's at its (last) resolution, so the report does not move when a case
    is later recategorised or reassigned.
    """

    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="survey")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="surveys")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="surveys",
        help_text="The case's owner when it was resolved.",
    )
    category = models.CharField(max_length=20, help_text="The case's category when it was resolved.")
    # What the signed links carry: never the sequential id.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    resolved_at = models.DateTimeField()
    due_at = models.DateTimeField(help_text="Not sent before this time.")
    sent_at = models.DateTimeField(null=True, blank=True)
    message = models.OneToOneField(
        "notifications.Message", null=True, blank=True, on_delete=models.PROTECT, related_name="survey"
    )
    rating = models.PositiveSmallIntegerField(null=True, blank=True, choices=Rating.choices)
    rated_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)
    commented_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["due_at"], condition=models.Q(sent_at__isnull=True), name="survey_due_idx"),
            models.Index(fields=["customer", "rated_at"], name="survey_customer_rated_idx"),
            models.Index(fields=["rated_at"], name="survey_rated_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5),
                name="survey_rating_1_to_5",
            ),
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True, rated_at__isnull=True)
                | models.Q(rating__isnull=False, rated_at__isnull=False),
                name="survey_rating_has_time",
            ),
            models.CheckConstraint(
                condition=models.Q(comment="") | models.Q(rating__isnull=False, commented_at__isnull=False),
                name="survey_comment_after_rating",
            ),
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(sent_at__isnull=False),
                name="survey_rated_after_sent",
            ),
        ]

    def __str__(self):
        return f"Survey of case #{self.case_id} ({self.rating or '-'})"
