from rest_framework import serializers

from vouchers.models import ValidityRule, Voucher, VoucherExtension


class ValidityRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = ValidityRule
        fields = ["code", "name", "validity_months", "effective_from"]
        read_only_fields = fields


class VoucherExtensionSerializer(serializers.ModelSerializer):
    extended_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = VoucherExtension
        fields = ["previous_valid_until", "new_valid_until", "reason", "extended_by", "created_at"]
        read_only_fields = fields


class VoucherSerializer(serializers.ModelSerializer):
    validity_rule = ValidityRuleSerializer(read_only=True)
    extensions = VoucherExtensionSerializer(many=True, read_only=True)

    class Meta:
        model = Voucher
        fields = ["id", "code", "holder", "purchaser", "value", "balance", "currency", "issued_at", "valid_until",
                  "status", "validity_rule", "extensions"]
        read_only_fields = fields
