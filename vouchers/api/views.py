"""Vouchers, read-only in /api/v1/, each with the validity rule it was issued under and its extensions."""

from django_filters import rest_framework as filters
from rest_framework import viewsets

from caseapp.api_v1 import IdCursorPagination, IdFilter, IsAgent
from vouchers.models import Voucher, VoucherStatus

from .serializers import VoucherSerializer


class VoucherFilter(filters.FilterSet):
    customer = IdFilter(field_name="holder_id")
    status = filters.ChoiceFilter(choices=VoucherStatus.choices)
    code = filters.CharFilter(field_name="code", max_length=40)
    valid_until_before = filters.DateFilter(field_name="valid_until", lookup_expr="lte")

    class Meta:
        model = Voucher
        fields = ["customer", "status", "code", "currency"]


class VoucherViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [IsAgent]
    queryset = Voucher.objects.select_related("validity_rule").prefetch_related("extensions__extended_by")
    serializer_class = VoucherSerializer
    pagination_class = IdCursorPagination
    filterset_class = VoucherFilter
    lookup_value_regex = r"[0-9]{1,18}"
