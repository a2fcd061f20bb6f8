from rest_framework import serializers

from caseapp.money import ISO_4217_CODES
from policies.models import DefaultBudget, Remedy, RemedyKind
from policies.selectors import budget_choices
from policies.services import OVERRIDE_KINDS


class RemedySerializer(serializers.ModelSerializer):
    recoverable_from = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)
    proposed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    policy_version = serializers.SlugRelatedField(slug_field="number", read_only=True, allow_null=True)
    parameters = serializers.JSONField(read_only=True)

    class Meta:
        model = Remedy
        fields = ["id", "case", "customer", "kind", "parameters", "amount", "currency", "budget", "recoverable_from",
                  "policy_version", "rule_id", "rationale", "proposal_key", "status", "needs_approval",
                  "proposed_by", "proposed_at", "decided_by", "decided_at", "decision_reason", "applied_at"]
        read_only_fields = fields


class ProposalSerializer(serializers.Serializer):
    """What the active policy proposes for a case now; apply it by its key."""

    key = serializers.CharField()
    rule_id = serializers.CharField()
    kind = serializers.ChoiceField(choices=RemedyKind.choices)
    parameters = serializers.JSONField()
    cost = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    budget = serializers.CharField(help_text="The slug of the budget it is booked to.")
    recoverable_from = serializers.CharField(allow_null=True)
    rationale = serializers.CharField()
    needs_approval = serializers.BooleanField()
    already_decided = serializers.BooleanField()
    remedy = serializers.IntegerField(allow_null=True, help_text="The remedy already recorded for this proposal.")


class ProposalApplySerializer(serializers.Serializer):
    key = serializers.CharField(max_length=200, help_text="The key of one of the case's current proposals.")


class RemedyRejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class OverrideSerializer(serializers.Serializer):
    """A manager decides beyond the policy, always with a reason."""

    kind = serializers.ChoiceField(choices=[(kind.value, kind.label) for kind in OVERRIDE_KINDS],
                                   default=RemedyKind.MANAGER_OVERRIDE)
    # A slug checked against the shop's active budgets when a request is validated, not a ChoiceField: its choices
    # would be read from the database whenever the serializer is built, the schema's generation included.
    budget = serializers.SlugField(max_length=16, default=DefaultBudget.CUSTOMER_CARE,
                                   help_text="The slug of one of the shop's active budgets.")
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, default="0.00")
    currency = serializers.ChoiceField(choices=sorted(ISO_4217_CODES), required=False,
                                       help_text="The case's currency; empty for the case's own.")
    cancel_order = serializers.BooleanField(default=False)
    reason = serializers.CharField(max_length=2000)

    def validate_budget(self, value):
        if value not in dict(budget_choices()):
            raise serializers.ValidationError(f'"{value}" is not an active budget.')
        return value
