from rest_framework import serializers

from customers.models import Customer


class MoneyByCurrencyField(serializers.DictField):
    """{"RON": "4370.00", "EUR": "12.50"}: amounts as decimal strings, per ISO 4217 code."""

    child = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=True)


class LoyaltyFactsSerializer(serializers.Serializer):
    customer_since = serializers.DateField()
    tenure_days = serializers.IntegerField()
    tenure_years = serializers.FloatField()
    order_count = serializers.IntegerField()
    first_order_at = serializers.DateTimeField(allow_null=True)
    last_order_at = serializers.DateTimeField(allow_null=True)
    lifetime_spend = MoneyByCurrencyField()
    voucher_count = serializers.IntegerField()
    case_count = serializers.IntegerField()
    open_case_count = serializers.IntegerField()
    remedy_count = serializers.IntegerField()
    remedies_this_year = serializers.IntegerField()
    remedy_cost = MoneyByCurrencyField()


class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "name", "email", "phone", "preferred_language", "country", "time_zone", "customer_since",
                  "created_at"]
        read_only_fields = fields


class CustomerDetailSerializer(CustomerSerializer):
    """One customer with the loyalty facts the case page shows (computed, never stored)."""

    loyalty = LoyaltyFactsSerializer(source="loyalty_facts", read_only=True)

    class Meta(CustomerSerializer.Meta):
        fields = [*CustomerSerializer.Meta.fields, "loyalty"]
        read_only_fields = fields
