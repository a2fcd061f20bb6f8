"""Money is a Decimal amount with an ISO 4217 currency code; never a float."""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

# Active ISO 4217 codes (list one, 2024), without funds codes and precious metals.
ISO_4217_CODES = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN
    BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS
    GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW
    KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD
    NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD
    SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES
    VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
    """.split()
)

MAX_DIGITS = 12
DECIMAL_PLACES = 2
ZERO = Decimal("0.00")
# The largest amount a MoneyField column holds: 12 digits, 2 of them decimals (9,999,999,999.99).
MAX_AMOUNT = Decimal(10 ** (MAX_DIGITS - DECIMAL_PLACES)) - Decimal("0.01")


def validate_currency(value: str) -> None:
    if value not in ISO_4217_CODES:
        raise ValidationError(
            "%(value)s is not an ISO 4217 currency code (for example EUR, RON, RUB, USD).",
            code="unknown_currency",
            params={"value": value},
        )


def to_money(value) -> Decimal:
    """Parse an amount; refuses floats, non-numbers and more than two decimals."""
    if isinstance(value, float):
        raise ValidationError("Amounts must be given as decimals or strings, not floats.", code="float_amount")
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError("%(value)s is not an amount.", code="malformed_amount", params={"value": value}) from exc
    if not amount.is_finite():
        raise ValidationError("%(value)s is not an amount.", code="malformed_amount", params={"value": value})
    if amount.copy_abs() > MAX_AMOUNT:  # before quantize, which overflows the decimal context on 1e30
        raise ValidationError(
            _("An amount is at most %(max)s."), code="amount_too_large", params={"max": f"{MAX_AMOUNT:,}"}
        )
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError("Amounts have at most two decimals.", code="too_many_decimals")
    return amount.quantize(Decimal("0.01"))


def validate_non_negative(value) -> None:
    if value is not None and value < 0:
        raise ValidationError("An amount cannot be negative.", code="negative_amount")


def validate_positive(value) -> None:
    if value is not None and value <= 0:
        raise ValidationError("An amount must be greater than zero.", code="non_positive_amount")


class CurrencyField(models.CharField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 3)
        kwargs.setdefault("validators", [validate_currency])
        kwargs.setdefault("help_text", "ISO 4217 code, e.g. EUR")
        super().__init__(*args, **kwargs)


class MoneyField(models.DecimalField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", MAX_DIGITS)
        kwargs.setdefault("decimal_places", DECIMAL_PLACES)
        super().__init__(*args, **kwargs)


def currency_check(field: str, name: str) -> models.CheckConstraint:
    """Database guard: a currency column holds three capital letters."""
    return models.CheckConstraint(condition=models.Q(**{f"{field}__regex": r"^[A-Z]{3}$"}), name=name)
