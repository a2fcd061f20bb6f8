"""Customers, read-only in /api/v1/ (creating and updating them is customers.services' business)."""

from django_filters import rest_framework as filters
from rest_framework import viewsets

from caseapp.api_v1 import DateTimeSinceFilter, IdCursorPagination, IsAgent
from customers.models import Customer
from customers.selectors import customer_loyalty_facts

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

    def get_object(self):
        customer = super().get_object()
        customer.loyalty_facts = customer_loyalty_facts(customer=customer)
        return customer
