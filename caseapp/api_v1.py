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


class FilterBackend(filters.DjangoFilterBackend):
    """django-filter's backend, minus its cost where it changes nothing: building a FilterSet deep-copies every filter
    and builds a form (about 2.7 ms of CPU for the case list's eight filters, more than the page's query). When the
    query string names none of the filters (a plain page, the cursor's next pages), no filter would apply, so the
    queryset goes through as it is. A parameter that starts with a filter's name (a range widget's ``_after``)
    still goes through the FilterSet."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return queryset
        names = tuple(filterset_class.base_filters)
        if not any(key.startswith(names) for key in request.query_params):
            return queryset
        return super().filter_queryset(request, queryset, view)


class StaticFormFilterSet(filters.FilterSet):
    """A FilterSet whose form class is built once per class instead of once per request. Only for filters whose
    form fields do not depend on the request (no ModelChoiceFilter with a queryset taken from the request)."""

    def get_form_class(self):
        form_class = type(self).__dict__.get("_static_form_class")
        if form_class is None:
            form_class = super().get_form_class()
            type(self)._static_form_class = form_class
        return form_class


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
