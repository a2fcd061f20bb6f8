"""The search box: a dashboard page (results as you type, with htmx) and GET /api/v1/search/?q= (JSON by kind)."""

from django.shortcuts import redirect, render
from django.urls import reverse
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from caseapp.api import IsAgent
from dashboard.permissions import agent_required

from .selectors import search_everything


def hit_url(hit) -> str | None:
    """Where a hit opens: a case opens itself; anything else its newest open (else newest) case."""
    if hit.__class__.__name__ == "Case":
        return reverse("dashboard:case", args=[hit.pk])
    link = getattr(hit, "case_link", None)
    return reverse("dashboard:case", args=[link]) if link else None


@agent_required
def search_page(request):
    results = search_everything(user=request.user, query=request.GET.get("q", ""))
    single = results.single()
    if single is not None and request.GET.get("go") and hit_url(single) and not request.htmx:
        return redirect(hit_url(single))  # Enter on a single hit opens it
    template = "search/_results.html" if request.htmx else "search/results.html"
    return render(request, template, {"results": results, "q": results.query})


class _CustomerHit(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    email = serializers.EmailField()
    phone = serializers.CharField()
    customer_since = serializers.DateField()
    open_cases = serializers.IntegerField()
    url = serializers.SerializerMethodField()

    def get_url(self, obj) -> str | None:
        return hit_url(obj)


class _OrderHit(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    number = serializers.CharField()
    customer = serializers.CharField(source="customer.name")
    placed_at = serializers.DateTimeField()
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    status = serializers.CharField()
    url = serializers.SerializerMethodField()

    def get_url(self, obj) -> str | None:
        return hit_url(obj)


class _ShipmentHit(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    tracking_number = serializers.CharField()
    courier = serializers.CharField(source="courier.name")
    order = serializers.CharField(source="order.number")
    status = serializers.CharField()
    estimated_delivery = serializers.DateField(allow_null=True)
    url = serializers.SerializerMethodField()

    def get_url(self, obj) -> str | None:
        return hit_url(obj)


class _VoucherHit(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    code = serializers.CharField()
    holder = serializers.CharField(source="holder.name", allow_null=True, default=None)
    balance = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    status = serializers.CharField()
    valid_until = serializers.DateField()
    url = serializers.SerializerMethodField()

    def get_url(self, obj) -> str | None:
        return hit_url(obj)


class _CaseHit(serializers.Serializer):
    number = serializers.IntegerField(source="pk")
    subject = serializers.CharField()
    customer = serializers.CharField(source="customer.name")
    status = serializers.CharField()
    owner = serializers.CharField(source="owner.username", allow_null=True, default=None)
    arrived_at = serializers.DateTimeField()
    url = serializers.SerializerMethodField()

    def get_url(self, obj) -> str | None:
        return hit_url(obj)


class SearchResultsOut(serializers.Serializer):
    query = serializers.CharField()
    cases = _CaseHit(many=True)
    customers = _CustomerHit(many=True)
    orders = _OrderHit(many=True)
    shipments = _ShipmentHit(many=True)
    vouchers = _VoucherHit(many=True)


class SearchApi(APIView):
    """GET ?q=: what the header box finds, grouped by kind, best first. Agents and managers only."""

    permission_classes = [IsAgent]
    serializer_class = SearchResultsOut

    def get(self, request):
        results = search_everything(user=request.user, query=request.query_params.get("q", ""))
        return Response(SearchResultsOut(results).data)
