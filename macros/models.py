"""Saved replies (macros): one text per language, offered on the case page by category, with optional actions."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.models import CaseCategory, CaseStatus
from customers.models import Language

MAX_PROMISE_DUE_HOURS = 24 * 30

# The statuses a macro may set when its reply is sent: resolving needs the open promises settled on the case page.
MACRO_STATUSES = (CaseStatus.OPEN, CaseStatus.WAITING_ON_SHOP, CaseStatus.WAITING_ON_CUSTOMER)


class Macro(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    category = models.CharField(_("category"), max_length=20, choices=CaseCategory.choices, blank=True,
                                help_text=_("Offered only on cases of this category; empty: on every case."))
    is_active = models.BooleanField(_("active"), default=True)
    set_status = models.CharField(_("set the status to"), max_length=20, blank=True,
                                  choices=[(s.value, s.label) for s in MACRO_STATUSES])
    promise_description = models.CharField(_("promise"), max_length=300, blank=True)
    promise_due_hours = models.PositiveIntegerField(
        _("promise due in hours"), null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_PROMISE_DUE_HOURS)],
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["is_active", "category"], name="macro_active_category_idx")]
        constraints = [
            models.CheckConstraint(condition=~models.Q(name=""), name="macro_has_name"),
            models.CheckConstraint(condition=models.Q(category="") | models.Q(category__in=CaseCategory.values),
                                   name="macro_category_known"),
            models.CheckConstraint(condition=models.Q(set_status="") | models.Q(set_status__in=MACRO_STATUSES),
                                   name="macro_status_allowed"),
            models.CheckConstraint(  # a promise has both its words and its deadline, or neither
                condition=(models.Q(promise_description="") & models.Q(promise_due_hours__isnull=True))
                | (~models.Q(promise_description="") & models.Q(promise_due_hours__isnull=False)),
                name="macro_promise_complete",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def records_promise(self) -> bool:
        return bool(self.promise_description and self.promise_due_hours)


class MacroText(models.Model):
    macro = models.ForeignKey(Macro, on_delete=models.CASCADE, related_name="texts")
    language = models.CharField(max_length=2, choices=Language.choices)
    text = models.TextField()

    class Meta:
        ordering = ["macro", "language"]
        constraints = [
            models.UniqueConstraint(fields=["macro", "language"], name="macro_text_one_per_language"),
            models.CheckConstraint(condition=models.Q(language__in=Language.values), name="macro_text_language_known"),
            models.CheckConstraint(condition=~models.Q(text=""), name="macro_text_not_empty"),
        ]

    def __str__(self):
        return f"{self.macro.name} [{self.language}]"
