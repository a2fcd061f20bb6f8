from django.core.exceptions import ValidationError
from rest_framework import generics, serializers

from caseapp.api import IsAgent, as_drf_error
from cases.models import Case, CaseCategory, CaseChannel
from cases.services import case_open
from customers.models import Customer
from orders.models import Order, Shipment
from vouchers.models import Voucher


class CaseSerializer(serializers.ModelSerializer):
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all())
    order = serializers.PrimaryKeyRelatedField(queryset=Order.objects.all(), required=False, allow_null=True)
    shipment = serializers.PrimaryKeyRelatedField(queryset=Shipment.objects.all(), required=False, allow_null=True)
    voucher = serializers.PrimaryKeyRelatedField(queryset=Voucher.objects.all(), required=False, allow_null=True)
    category = serializers.ChoiceField(choices=CaseCategory.choices)
    channel = serializers.ChoiceField(choices=CaseChannel.choices)
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Case
        fields = ["arrival_number", "customer", "order", "shipment", "voucher", "category", "channel", "status",
                  "subject", "description", "owner", "arrived_at", "first_response_due_at", "resolution_due_at"]
        read_only_fields = ["arrival_number", "status", "owner", "first_response_due_at", "resolution_due_at"]

    def create(self, validated_data):
        try:
            return case_open(opened_by=self.context["request"].user, **validated_data)
        except ValidationError as exc:
            raise as_drf_error(exc) from exc


class CaseListCreateApi(generics.ListCreateAPIView):
    """Cases in arrival order (first come, first served). Only agents and managers see any."""

    serializer_class = CaseSerializer
    permission_classes = [IsAgent]

    def get_queryset(self):
        queryset = Case.objects.select_related("owner").order_by("arrived_at", "arrival_number")
        status = self.request.query_params.get("status")
        return queryset.filter(status=status) if status else queryset
