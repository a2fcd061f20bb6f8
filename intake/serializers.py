"""The generic JSON formats of orders and tracking events; every other source is mapped onto these first,
so one set of field errors and bounds applies to all of them (and the API schema can be generated from here)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from caseapp.money import DECIMAL_PLACES, MAX_DIGITS, validate_currency
from orders.models import OrderStatus, PaymentMethod


def _money(**kwargs):
    return serializers.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, min_value=0, **kwargs)


class CustomerIn(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    language = serializers.ChoiceField(choices=["en", "ro", "ru", "it"], required=False, allow_blank=True, default="")


class AddressIn(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    street = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    postcode = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    country = serializers.RegexField(r"^[A-Za-z]{2}$", required=False, allow_blank=True, default="",
                                     error_messages={"invalid": _("Use a two-letter ISO 3166 country code, e.g. RO.")})


class LineIn(serializers.Serializer):
    sku = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    name = serializers.CharField(max_length=200)
    quantity = serializers.IntegerField(min_value=1, max_value=100_000)
    unit_price = _money()
    variant = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")


class OrderIn(serializers.Serializer):
    """An order as the shop's system knows it; `number` is the shop's own order number (the upsert key)."""

    number = serializers.CharField(max_length=40)
    placed_at = serializers.DateTimeField()
    currency = serializers.CharField(max_length=3, validators=[validate_currency])
    status = serializers.ChoiceField(choices=OrderStatus.choices, default=OrderStatus.PLACED)
    customer = CustomerIn()
    lines = LineIn(many=True, allow_empty=False, max_length=1000)
    payment_method = serializers.ChoiceField(choices=PaymentMethod.choices)
    cod_quoted_amount = _money(required=False, allow_null=True, default=None)
    shipping_amount = _money(required=False, default="0")
    tax_amount = _money(required=False, default="0")
    discount_amount = _money(required=False, default="0")
    total = _money(required=False, allow_null=True, default=None)
    promised_delivery_date = serializers.DateField(required=False, allow_null=True, default=None)
    shipping_address = AddressIn(required=False, default=dict)


class TrackingEventIn(serializers.Serializer):
    """One courier tracking event; `event_id` is the courier's own id of it (stored once per shipment)."""

    tracking_number = serializers.CharField(max_length=64)
    event_id = serializers.CharField(max_length=100)
    occurred_at = serializers.DateTimeField()
    code = serializers.CharField(max_length=40, help_text="e.g. handed_over, in_transit, delayed, delivered, lost")
    text = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    location = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    estimated_delivery = serializers.DateField(required=False, allow_null=True, default=None)


def flat_errors(errors, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested errors as {"lines[2].unit_price": ["…"]}: one line per field, for a report or a 400."""
    flat: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            if isinstance(key, int):  # a list serializer's errors by index (from 0)
                name = f"{prefix}[{key + 1}]"
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            for field, messages in flat_errors(value, name).items():
                flat.setdefault(field, []).extend(messages)
    elif isinstance(errors, list) and errors and all(isinstance(e, dict | list) for e in errors):
        for index, value in enumerate(errors):
            if value:
                flat.update(flat_errors(value, f"{prefix}[{index + 1}]"))
    else:
        flat.setdefault(prefix or "non_field_errors", []).extend(
            str(e) for e in (errors if isinstance(errors, list) else [errors])
        )
    return flat


def validated(serializer_class, data) -> dict:
    """The validated data, or a Django ValidationError with flat field errors (what services raise)."""
    from django.core.exceptions import ValidationError

    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise ValidationError(flat_errors(serializer.errors))
    return serializer.validated_data
