"""Courier claims in /api/v1/: read only (they move on the dashboard's claims page, through claims.services)."""

from django_filters import rest_framework as filters
from rest_framework import viewsets

from caseapp.api_v1 import IdCursorPagination, IdFilter, IsAgent
from caseapp.permissions import cases_visible_to
from cases.models import Case
from claims.models import Claim, ClaimStatus

from .serializers import ClaimSerializer


class ClaimFilter(filters.FilterSet):
    case = IdFilter(field_name="case_id")
    courier = IdFilter(field_name="courier_id")
    status = filters.ChoiceFilter(choices=ClaimStatus.choices)

    class Meta:
        model = Claim
        fields = ["case", "courier", "status"]


class ClaimViewSet(viewsets.ReadOnlyModelViewSet):
    """Claims of the cases the caller may see, newest first."""

    permission_classes = [IsAgent]
    serializer_class = ClaimSerializer
    pagination_class = IdCursorPagination
    filterset_class = ClaimFilter
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self):
        visible = cases_visible_to(self.request.user, Case.objects.all())
        return Claim.objects.filter(case__in=visible.values("pk")).select_related("courier", "filed_by")
