"""Shared pieces of the versioned API (/api/v1/): pagination, filters, permissions, error mapping."""

from datetime import UTC

from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from rest_framework import pagination

from caseapp.api import IsAgent, as_drf_error  # noqa: F401 (re-exported for the apps' api packages)

MAX_ID = 2**63 - 1


class ArrivalCursorPagination(pagination.CursorPagination):
    """Cursor pagination: no COUNT(*) over the table, stable while rows arrive."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("arrived_at", "arrival_number")


class IdCursorPagination(ArrivalCursorPagination):
    ordering = ("-id",)


class IdFilter(filters.NumberFilter):
    """An id in a query string: a whole number in the database's range (anything else is a 400)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 time in a query string, turned to UTC here: an offset the database refuses (+23:44) or a time
    that leaves the calendar once converted is a 400, not a database error."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except (OverflowError, ValueError) as exc:
            raise forms.ValidationError(_("Enter a date and time within the calendar."), code="overflow") from exc


class DateTimeSinceFilter(filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


def only_v1_endpoints(endpoints):
    """drf-spectacular hook: the schema describes /api/v1/ only (not the old aliases, not itself)."""
    return [endpoint for endpoint in endpoints
            if endpoint[0].startswith("/api/v1/") and not endpoint[0].startswith(("/api/v1/schema", "/api/v1/docs",
                                                                                  "/api/v1/redoc"))]
