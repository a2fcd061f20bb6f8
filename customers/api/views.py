"""Customers in /api/v1/: read, and create or update by email (customers.services.customer_upsert)."""

from django.core.exceptions import ValidationError
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.response import Response

from caseapp.api import as_drf_error
from caseapp.api_v1 import DateTimeSinceFilter, IdCursorPagination, IsAgent
from caseapp.upsert import Outcome
from customers.models import Customer
from customers.selectors import customer_loyalty_facts
from customers.services import customer_upsert
from intake.serializers import CustomerIn

from .serializers import CustomerDetailSerializer, CustomerSerializer


class CustomerFilter(filters.FilterSet):
    email = filters.CharFilter(field_name="email", lookup_expr="iexact", max_length=254)
    created_since = DateTimeSinceFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = Customer
        fields = ["email", "country", "preferred_language"]


class CustomerViewSet(viewsets.ReadOnlyModelViewSet):
    """Customers (agents and managers). One customer comes with their loyalty facts."""

    permission_classes = [IsAgent]
    queryset = Customer.objects.all()
    pagination_class = IdCursorPagination
    filterset_class = CustomerFilter
    lookup_value_regex = r"[0-9]{1,18}"

    def get_serializer_class(self):
        return CustomerDetailSerializer if self.action == "retrieve" else CustomerSerializer

    @extend_schema(request=CustomerIn, responses={200: CustomerSerializer, 201: CustomerSerializer},
                   description="Find the customer by email (case-insensitively) or create them; what is sent fills in "
                               "what is blank. 201 when new, 200 otherwise.")
    def create(self, request):
        data = CustomerIn(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        try:
            customer, outcome = customer_upsert(email=fields["email"], name=fields["name"], phone=fields["phone"],
                                                preferred_language=fields["language"])
        except ValidationError as exc:
            raise as_drf_error(exc) from exc
        return Response({**CustomerSerializer(customer).data, "outcome": str(outcome)},
                        status=status.HTTP_201_CREATED if outcome == Outcome.CREATED else status.HTTP_200_OK)

    def get_object(self):
        customer = super().get_object()
        customer.loyalty_facts = customer_loyalty_facts(customer=customer)
        return customer
