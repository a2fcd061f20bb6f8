"""Bounds on what a form or serializer accepts, so nothing reaches Python or PostgreSQL that they cannot hold.

Dates near year 1 or 9999 overflow as soon as a day is added or a time zone applied (OverflowError), integers
beyond 32 bits overflow an integer column (DataError): the fields here refuse them with a field error instead.
A shop's dates are in these years; a report or replay over a wider period is a typo, not a question.
"""

import datetime as dt

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

DATE_MIN = dt.date(1900, 1, 1)
DATE_MAX = dt.date(2199, 12, 31)
DATETIME_MIN = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
DATETIME_MAX = dt.datetime(2199, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
INTEGER_MAX = 2**31 - 1  # PostgreSQL's integer, Django's IntegerField and PositiveIntegerField

OUT_OF_RANGE = _("Give a date between %(min)s and %(max)s.")
RANGE = {"min": DATE_MIN.isoformat(), "max": DATE_MAX.isoformat()}


# --- Django forms ------------------------------------------------------------------------------------------

class BoundedDateField(forms.DateField):
    """A DateField that refuses dates before DATE_MIN and after DATE_MAX."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators += [MinValueValidator(DATE_MIN, _("Give a date on or after %(limit_value)s.")),
                            MaxValueValidator(DATE_MAX, _("Give a date on or before %(limit_value)s."))]


class BoundedDateTimeField(forms.DateTimeField):
    """A DateTimeField that refuses times before DATETIME_MIN and after DATETIME_MAX (and their overflow)."""

    def to_python(self, value):
        try:
            result = super().to_python(value)
        except OverflowError as exc:  # making 9999-12-31 23:59 aware in a time zone east of UTC
            raise forms.ValidationError(OUT_OF_RANGE, code="out_of_range", params=RANGE) from exc
        if result is not None and not DATETIME_MIN <= result <= DATETIME_MAX:
            raise forms.ValidationError(OUT_OF_RANGE, code="out_of_range", params=RANGE)
        return result


# --- Django REST framework ------------------------------------------------------------------------------------

class BoundedSerializerDateField(serializers.DateField):
    def to_internal_value(self, value):
        result = super().to_internal_value(value)
        if not DATE_MIN <= result <= DATE_MAX:
            raise serializers.ValidationError(str(OUT_OF_RANGE % RANGE), code="out_of_range")
        return result


class BoundedSerializerDateTimeField(serializers.DateTimeField):
    def to_internal_value(self, value):
        try:
            result = super().to_internal_value(value)
        except OverflowError as exc:
            raise serializers.ValidationError(str(OUT_OF_RANGE % RANGE), code="out_of_range") from exc
        aware = result if timezone.is_aware(result) else timezone.make_aware(result, dt.UTC)
        if not DATETIME_MIN <= aware <= DATETIME_MAX:
            raise serializers.ValidationError(str(OUT_OF_RANGE % RANGE), code="out_of_range")
        return result


class BoundedModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose date and datetime fields are bounded (integers are bounded by Django already)."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateField: BoundedSerializerDateField,
        models.DateTimeField: BoundedSerializerDateTimeField,
    }
