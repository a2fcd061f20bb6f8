"""Cases in /api/v1/: read them with their timeline, open one, and every action of the case page.

Same roles, same ownership rule and same errors as the dashboard (caseapp.permissions); the work is done by
cases.services and policies.services. Every agent and manager reads every case; acting on a case owned by
another agent is a 403.
"""

from django.core.exceptions import ValidationError
from django.db.models import F, Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from caseapp.api_v1 import (
    ArrivalCursorPagination,
    DateTimeSinceFilter,
    FilterBackend,
    IdCursorPagination,
    IdFilter,
    IsAgent,
    StaticFormFilterSet,
    as_drf_error,
)
from caseapp.permissions import can_assign_case, can_take_case, can_work_case, cases_visible_to, is_manager
from cases import services as case_services
from cases.models import (
    Case,
    CaseCategory,
    CaseChannel,
    CaseEvent,
    CaseEventKind,
    CaseStatus,
    Promise,
    PromiseStatus,
)
from policies import selectors as policy_selectors
from policies import services as policy_services
from policies.api.serializers import (
    OverrideSerializer,
    ProposalApplySerializer,
    ProposalSerializer,
    RemedySerializer,
)
from policies.models import Remedy

from .compiled import CompiledCaseList
from .serializers import (
    CASE_LIST_COLUMNS,
    CASE_LIST_JOINED,
    AssignSerializer,
    CaseDetailSerializer,
    CaseEventSerializer,
    CaseOpenSerializer,
    CaseSerializer,
    NoteAddSerializer,
    PromiseCloseSerializer,
    PromiseRecordSerializer,
    PromiseSerializer,
    StatusChangeSerializer,
    case_list_rows,
)

NOT_YOURS = gettext_lazy("This case belongs to another agent. Ask a manager to reassign it.")


class CaseFilter(StaticFormFilterSet):
    status = filters.ChoiceFilter(choices=CaseStatus.choices)
    category = filters.ChoiceFilter(choices=CaseCategory.choices)
    channel = filters.ChoiceFilter(choices=CaseChannel.choices)
    owner = filters.CharFilter(method="filter_owner", max_length=150,
                               help_text='A username, "me", or "none" for unowned cases.')
    customer = IdFilter(field_name="customer_id")
    order_number = filters.CharFilter(field_name="order__number", max_length=40)
    updated_since = DateTimeSinceFilter(field_name="updated_at", lookup_expr="gte")
    arrived_since = DateTimeSinceFilter(field_name="arrived_at", lookup_expr="gte")

    class Meta:
        model = Case
        fields = ["status", "category", "channel", "owner", "customer", "order_number", "updated_since"]

    def filter_owner(self, queryset, name, value):
        if value == "none":
            return queryset.filter(owner__isnull=True)
        if value == "me":
            return queryset.filter(owner=self.request.user)
        return queryset.filter(owner__username=value)


def _case_list_values():
    return Case.objects.values(*CASE_LIST_COLUMNS, **{name: F(path) for name, path in CASE_LIST_JOINED.items()})


_PLAIN_PAGE_PARAMS = {"cursor", "page_size", "ordering"}


class CaseViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Cases in arrival order, first come first served (spend never moves a case up)."""

    permission_classes = [IsAgent]
    pagination_class = ArrivalCursorPagination
    filter_backends = [FilterBackend, OrderingFilter]
    filterset_class = CaseFilter
    ordering_fields = ["arrived_at", "updated_at"]
    ordering = ["arrived_at", "arrival_number"]
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self):
        if self.action == "list":  # the columns a row shows, as dicts (see list)
            if set(self.request.query_params) <= _PLAIN_PAGE_PARAMS:  # a plain page: its SQL compiled once
                return cases_visible_to(self.request.user, CompiledCaseList(_case_list_values))
            return cases_visible_to(self.request.user, _case_list_values())
        cases = Case.objects.select_related("owner", "order")
        if self.action == "retrieve":
            cases = cases.select_related("survey").prefetch_related(
                Prefetch("events", queryset=CaseEvent.objects.select_related("actor").order_by("occurred_at", "id")),
                Prefetch("promises", queryset=Promise.objects.select_related("owner", "made_by")
                         .order_by("due_at", "id")),
                Prefetch("remedies", queryset=Remedy.objects.select_related(
                    "recoverable_from", "proposed_by", "decided_by", "policy_version").order_by("proposed_at", "id")),
            )
        return cases_visible_to(self.request.user, cases)

    def get_serializer_class(self):
        if self.action == "create":
            return CaseOpenSerializer
        if self.action == "retrieve":
            return CaseDetailSerializer
        return CaseSerializer

    def list(self, request, *args, **kwargs):
        # CaseSerializer's rows (the schema says so), built from .values() by case_list_rows: the same output
        # without a model instance and a DRF field per column. (A docstring here would replace the schema's text.)
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(case_list_rows(page))

    def _detail(self, case: Case, code=status.HTTP_200_OK) -> Response:
        self.action = "retrieve"  # the detail's prefetches
        case = get_object_or_404(self.get_queryset(), pk=case.pk)
        return Response(CaseDetailSerializer(case, context=self.get_serializer_context()).data, status=code)

    def _workable(self) -> Case:
        case = self.get_object()
        if not can_work_case(self.request.user, case):
            raise exceptions.PermissionDenied(NOT_YOURS)
        return case

    @extend_schema(request=CaseOpenSerializer, responses={201: CaseDetailSerializer})
    def create(self, request, *args, **kwargs):
        """Open a case; it arrives now (the arrival time is not writable)."""
        data = CaseOpenSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        case = data.save()
        return self._detail(case, status.HTTP_201_CREATED)

    @extend_schema(request=NoteAddSerializer, responses={201: CaseEventSerializer})
    @action(detail=True, methods=["post"])
    def notes(self, request, pk=None):
        """Add a note, or log a call (which counts as the first response)."""
        case = self._workable()
        data = NoteAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        kind = CaseEventKind.CALL if data.validated_data["kind"] == "call" else CaseEventKind.NOTE
        try:
            event = case_services.case_note_add(case=case, text=data.validated_data["text"], by=request.user,
                                                kind=kind)
        except ValidationError as exc:
            raise as_drf_error(exc) from exc
        return Response(CaseEventSerializer(event).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PromiseRecordSerializer, responses={201: PromiseSerializer})
    @action(detail=True, methods=["post"])
    def promises(self, request, pk=None):
        """Record a promise made to the customer: what, by whom, by when, and who keeps it."""
        case = self._workable()
        data = PromiseRecordSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        made_by_name = values["made_by_name"].strip()
        try:
            promise = case_services.promise_record(
                case=case, description=values["description"], due_at=values["due_at"],
                owner=values.get("owner") or request.user, made_by=None if made_by_name else request.user,
                made_by_name=made_by_name,
            )
        except ValidationError as exc:
            raise as_drf_error(exc) from exc
        return Response(PromiseSerializer(promise).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PromiseCloseSerializer, responses={200: PromiseSerializer},
                   parameters=[OpenApiParameter("promise_id", int, OpenApiParameter.PATH)])
    @action(detail=True, methods=["post"], url_path=r"promises/(?P<promise_id>[0-9]{1,18})/close")
    def promise_close(self, request, pk=None, promise_id=None):
        """Mark a promise of this case kept or broken."""
        case = self._workable()
        promise = get_object_or_404(Promise, pk=promise_id, case=case)  # another case's promise: 404
        data = PromiseCloseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            promise = case_services.promise_close(promise=promise, kept=data.validated_data["kept"],
                                                  by=request.user, note=data.validated_data["note"])
        except ValidationError as exc:
            raise as_drf_error(exc) from exc
        return Response(PromiseSerializer(promise).data)

    @extend_schema(request=None, responses={200: CaseDetailSerializer})
    @action(detail=True, methods=["post"])
    def take(self, request, pk=None):
        """Take the case for oneself (an unowned case, or any case for a manager)."""
        case = self.get_object()
        if not can_take_case(request.user, case):
            raise exceptions.PermissionDenied(_("This case belongs to another agent."))
        case = case_services.case_assign(case=case, owner=request.user, by=request.user)
        return self._detail(case)

    @extend_schema(request=None, responses={200: CaseDetailSerializer, 204: None})
    @action(detail=False, methods=["post"], url_path="take-next")
    def take_next(self, request):
        """The oldest unowned open case becomes the caller's; 204 when the queue has none."""
        case = case_services.case_take_next(agent=request.user)
        if case is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return self._detail(case)

    @extend_schema(request=AssignSerializer, responses={200: CaseDetailSerializer})
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """Managers give a case to anyone (or nobody); an agent only hands their own case back."""
        case = self.get_object()
        data = AssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        owner = data.validated_data["owner"]
        if not can_assign_case(request.user, case, owner):
            raise exceptions.PermissionDenied(_("Only a manager assigns cases to others."))
        case = case_services.case_assign(case=case, owner=owner, by=request.user)
        return self._detail(case)

    @extend_schema(request=StatusChangeSerializer, responses={200: CaseDetailSerializer})
    @action(detail=True, methods=["post"])
    def status(self, request, pk=None):
        """Change the status (reopening a resolved or closed case included)."""
        case = self._workable()
        data = StatusChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            case = case_services.case_change_status(case=case, status=data.validated_data["status"],
                                                    by=request.user, reason=data.validated_data["reason"])
        except ValidationError as exc:
            raise as_drf_error(exc) from exc
        return self._detail(case)

    @extend_schema(request=None, responses={200: ProposalSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def proposals(self, request, pk=None):
        """What the active policy proposes for this case now (none once it is resolved or closed)."""
        case = self.get_object()
        proposals = policy_services.case_proposals(case=case) if case.is_open else []
        decided = {remedy.proposal_key: remedy.pk for remedy in policy_selectors.case_remedies(case=case)}
        rows = [{**proposal.as_dict(), "remedy": decided.get(proposal.key)} for proposal in proposals]
        return Response(ProposalSerializer(rows, many=True).data)

    @extend_schema(request=ProposalApplySerializer, responses={200: RemedySerializer, 201: RemedySerializer})
    @action(detail=True, methods=["post"], url_path="proposals/apply")
    def proposal_apply(self, request, pk=None):
        """Apply one of the current proposals by its key: once ever (201 when new, 200 when already recorded).
        Above the approval threshold it waits for a manager."""
        case = self._workable()
        data = ProposalApplySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key = data.validated_data["key"]
        proposal = next((p for p in policy_services.case_proposals(case=case) if p.key == key), None)
        if proposal is None:
            raise exceptions.ValidationError(
                {"key": [_("The policy no longer proposes this remedy; the case's proposals say what it proposes now.")]})
        existed = Remedy.objects.filter(proposal_key=key).exists()
        try:
            remedy = policy_services.remedy_apply(case=case, proposal=proposal, by=request.user)
        except ValidationError as exc:
            raise as_drf_error(exc) from exc
        return Response(RemedySerializer(remedy).data,
                        status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED)

    @extend_schema(request=OverrideSerializer, responses={201: RemedySerializer})
    @action(detail=True, methods=["post"])
    def override(self, request, pk=None):
        """A manager decides beyond the policy (a free item, cancelling a non-refundable order), with a reason."""
        if not is_manager(request.user):
            raise exceptions.PermissionDenied(_("Only a manager overrides the policy."))
        case = self.get_object()
        data = OverrideSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            remedy = policy_services.remedy_override(
                case=case, by=request.user, kind=values["kind"], reason=values["reason"], amount=values["amount"],
                currency=values.get("currency") or None, budget=values["budget"],
                parameters={"action": "cancel_order"} if values["cancel_order"] else None,
            )
        except ValidationError as exc:
            raise as_drf_error(exc) from exc
        return Response(RemedySerializer(remedy).data, status=status.HTTP_201_CREATED)


class PromiseFilter(filters.FilterSet):
    case = IdFilter(field_name="case_id")
    status = filters.ChoiceFilter(choices=PromiseStatus.choices)
    owner = filters.CharFilter(field_name="owner__username", max_length=150)
    due_before = DateTimeSinceFilter(field_name="due_at", lookup_expr="lte")

    class Meta:
        model = Promise
        fields = ["case", "status", "owner", "due_before"]


class PromiseViewSet(viewsets.ReadOnlyModelViewSet):
    """Promises of the cases the caller may see (record and close them through their case)."""

    permission_classes = [IsAgent]
    serializer_class = PromiseSerializer
    pagination_class = IdCursorPagination
    filterset_class = PromiseFilter
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self):
        visible = cases_visible_to(self.request.user, Case.objects.all())
        return Promise.objects.filter(case__in=visible.values("pk")).select_related("owner", "made_by")
