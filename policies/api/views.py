"""The remedy ledger in /api/v1/: read it, and (managers) approve or reject what waits for approval."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from caseapp.api_v1 import IdCursorPagination, IdFilter, IsAgent, as_drf_error
from caseapp.permissions import cases_visible_to, is_manager
from cases.models import Case
from policies import services as policy_services
from policies.models import Remedy, RemedyKind, RemedyStatus

from .serializers import RemedyRejectSerializer, RemedySerializer


class RemedyFilter(filters.FilterSet):
    case = IdFilter(field_name="case_id")
    customer = IdFilter(field_name="customer_id")
    status = filters.ChoiceFilter(choices=RemedyStatus.choices)
    kind = filters.ChoiceFilter(choices=RemedyKind.choices)
    budget = filters.CharFilter(field_name="budget", max_length=16)

    class Meta:
        model = Remedy
        fields = ["case", "customer", "status", "kind", "budget"]


class RemedyViewSet(viewsets.ReadOnlyModelViewSet):
    """Remedies of the cases the caller may see, newest first."""

    permission_classes = [IsAgent]
    serializer_class = RemedySerializer
    pagination_class = IdCursorPagination
    filterset_class = RemedyFilter
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self):
        visible = cases_visible_to(self.request.user, Case.objects.all())
        return Remedy.objects.filter(case__in=visible.values("pk")).select_related(
            "recoverable_from", "proposed_by", "decided_by", "policy_version")

    def _decidable(self) -> Remedy:
        if not is_manager(self.request.user):
            raise exceptions.PermissionDenied(_("Only a manager approves or rejects remedies."))
        remedy = self.get_object()
        if remedy.proposed_by_id == self.request.user.pk:
            raise exceptions.PermissionDenied(_("Nobody approves or rejects their own remedy."))
        return remedy

    @extend_schema(request=None, responses={200: RemedySerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """A manager approves a waiting remedy; it takes effect at once. Never one's own."""
        remedy = self._decidable()
        try:
            remedy = policy_services.remedy_approve(remedy=remedy, by=request.user)
        except ValidationError as exc:
            raise as_drf_error(exc) from exc
        return Response(RemedySerializer(remedy).data)

    @extend_schema(request=RemedyRejectSerializer, responses={200: RemedySerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """A manager rejects a waiting remedy, with a reason. Never one's own."""
        remedy = self._decidable()
        data = RemedyRejectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            remedy = policy_services.remedy_reject(remedy=remedy, by=request.user, reason=data.validated_data["reason"])
        except ValidationError as exc:
            raise as_drf_error(exc) from exc
        return Response(RemedySerializer(remedy).data)
