import pgtrigger
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from caseapp.money import CurrencyField, MoneyField, currency_check

IMMUTABLE_VERSION = """
IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'Policy versions are immutable: they are never deleted' USING ERRCODE = 'restrict_violation';
END IF;
IF NEW.number IS DISTINCT FROM OLD.number OR NEW.document IS DISTINCT FROM OLD.document
   OR NEW.author_id IS DISTINCT FROM OLD.author_id OR NEW.note IS DISTINCT FROM OLD.note
   OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
    RAISE EXCEPTION 'Policy versions are immutable: create a new version instead' USING ERRCODE = 'restrict_violation';
END IF;
RETURN NEW;
"""


class PolicyVersion(models.Model):
    """An immutable version of the remedy policy document. Exactly one is active at a time.

    On PostgreSQL a trigger (django-pgtrigger, installed by `migrate`) refuses, from any code and raw SQL, deleting
    a version or changing anything but whether it is active (`is_active`, `activated_at`)."""

    number = models.PositiveIntegerField(unique=True)
    document = models.JSONField(help_text="The rules; see policies/engine.py for the format.")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    is_active = models.BooleanField(default=False)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=models.Q(is_active=True), name="policy_one_active_version"
            ),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="policy_number_positive"),
        ]
        triggers = [
            pgtrigger.Trigger(
                name="policyversion_immutable", when=pgtrigger.Before,
                operation=pgtrigger.Update | pgtrigger.Delete, func=IMMUTABLE_VERSION,
            ),
        ]

    def __str__(self):
        return f"Policy v{self.number}" + (" (active)" if self.is_active else "")


class RemedyKind(models.TextChoices):
    EXTEND_VOUCHER = "extend_voucher", _("Extend voucher")
    DISCOUNT = "discount", _("Discount")
    REFUND = "refund", _("Refund")
    REPLACEMENT = "replacement", _("Replacement shipment")
    ABSORB_COST = "absorb_cost", _("Absorb cost")
    CORRECT_COD = "correct_cod", _("Correct COD amount")
    FREE_ITEM = "free_item", _("Free item")
    CALLBACK = "callback", _("Call-back promise")
    MANAGER_OVERRIDE = "manager_override", _("Manager override")


class RemedyStatus(models.TextChoices):
    PENDING_APPROVAL = "pending_approval", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    APPLIED = "applied", _("Applied")
    REJECTED = "rejected", _("Rejected")


class DefaultBudget(models.TextChoices):
    """The four budgets every shop starts with (the data migration creates them as Budget rows)."""

    MARKETING = "marketing", _("Marketing")
    CUSTOMER_CARE = "customer_care", _("Customer care")
    LOGISTICS = "logistics", _("Logistics")
    QUALITY = "quality", _("Quality (shop's own mistakes)")


# The defaults' names as stored (in the source language): a budget still so named is shown translated.
DEFAULT_BUDGET_NAMES = {
    "marketing": "Marketing", "customer_care": "Customer care", "logistics": "Logistics",
    "quality": "Quality (shop's own mistakes)",
}


class BudgetPeriod(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")


class Budget(models.Model):
    """Money a shop sets aside for remedies, per month or quarter. Policy rules book to it by its slug.

    No amount means no limit: the four default budgets start that way until a manager sets one. A remedy is
    counted in the budget's currency only (no exchange rates): see policies.selectors.budget_balance."""

    # The default slugs, so ``Budget.CUSTOMER_CARE`` reads as it did when budgets were four labels.
    MARKETING, CUSTOMER_CARE, LOGISTICS, QUALITY = DefaultBudget.values

    slug = models.SlugField(max_length=16, unique=True, help_text="What policy rules write after budget:")
    name = models.CharField(max_length=80)
    currency = CurrencyField()
    period = models.CharField(max_length=8, choices=BudgetPeriod.choices, default=BudgetPeriod.MONTH)
    amount = MoneyField(null=True, blank=True, help_text="Per period; empty: no limit.")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="budgets_owned"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__isnull=True) | models.Q(amount__gte=0),
                                   name="budget_amount_not_negative"),
            models.CheckConstraint(condition=models.Q(period__in=BudgetPeriod.values), name="budget_period_known"),
            models.CheckConstraint(condition=~models.Q(name=""), name="budget_has_name"),
            currency_check("currency", "budget_currency_iso"),
        ]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        """The default budgets' names in the reader's language; a shop's own names as entered."""
        from django.utils.translation import gettext

        if self.slug in DEFAULT_BUDGET_NAMES and self.name == DEFAULT_BUDGET_NAMES[self.slug]:
            return gettext(str(DefaultBudget(self.slug).label))
        return self.name

    @property
    def is_limited(self) -> bool:
        return self.amount is not None


class BudgetChange(models.Model):
    """Who changed a budget, when, and what it was before and after (written by policies.services only)."""

    budget = models.ForeignKey(Budget, on_delete=models.PROTECT, related_name="changes")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)
    before = models.JSONField(default=dict, blank=True, help_text="Empty when the budget was created.")
    after = models.JSONField(default=dict)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self):
        return f"{self.budget.slug} changed at {self.changed_at:%Y-%m-%d %H:%M}"


class Remedy(models.Model):
    """The ledger of what a case cost and why. One row per applied (or pending) proposal, ever."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="remedies")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="remedies")
    kind = models.CharField(max_length=20, choices=RemedyKind.choices)
    parameters = models.JSONField(default=dict, blank=True)
    amount = MoneyField(default=0)
    currency = CurrencyField()
    budget = models.CharField(
        max_length=16, default=DefaultBudget.CUSTOMER_CARE, help_text="The slug of the Budget it is booked to."
    )
    recoverable_from = models.ForeignKey(
        "orders.Courier", null=True, blank=True, on_delete=models.PROTECT, related_name="recoverable_remedies"
    )
    policy_version = models.ForeignKey(
        PolicyVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="remedies"
    )
    rule_id = models.CharField(max_length=80, blank=True)
    rationale = models.TextField()
    rationale_data = models.JSONField(
        default=dict, blank=True,
        help_text="The rationale as data (rule, facts and values, remedy), rendered in the reader's language.",
    )
    proposal_key = models.CharField(
        max_length=200, unique=True, help_text="Idempotency key: the same proposal is applied once, ever."
    )
    status = models.CharField(max_length=20, choices=RemedyStatus.choices)
    needs_approval = models.BooleanField(default=False)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    # Committed (applied) is not paid: a refund, a free item or a cancelled order is paid by a person in the payment
    # system, who records the payment's reference here (policies.services.remedy_payment_record).
    paid_at = models.DateTimeField(null=True, blank=True)
    payment_reference = models.CharField(
        max_length=100, blank=True, help_text="The payment system's reference of the refund; unique in the shop."
    )
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-proposed_at", "id"]
        verbose_name_plural = "remedies"
        indexes = [
            models.Index(fields=["status", "proposed_at"], name="remedy_status_time_idx"),
            models.Index(fields=["customer", "applied_at"], name="remedy_customer_applied_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="remedy_amount_not_negative"),
            models.CheckConstraint(condition=models.Q(kind__in=RemedyKind.values), name="remedy_kind_known"),
            models.CheckConstraint(condition=models.Q(status__in=RemedyStatus.values), name="remedy_status_known"),
            models.CheckConstraint(condition=~models.Q(rationale=""), name="remedy_has_rationale"),
            models.CheckConstraint(
                condition=~models.Q(status="rejected") | ~models.Q(decision_reason=""),
                name="remedy_rejection_has_reason",
            ),
            currency_check("currency", "remedy_currency_iso"),
            models.UniqueConstraint(fields=["payment_reference"], condition=~models.Q(payment_reference=""),
                                    name="remedy_payment_reference_unique"),
            models.CheckConstraint(
                condition=(models.Q(paid_at__isnull=True, payment_reference="")
                           | (models.Q(paid_at__isnull=False) & ~models.Q(payment_reference=""))),
                name="remedy_paid_has_reference",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount} {self.currency} on #{self.case_id}"

    def clean(self):
        if self.decided_by_id and self.proposed_by_id and self.decided_by_id == self.proposed_by_id:
            raise ValidationError({"decided_by": "Nobody approves or rejects their own remedy."})
