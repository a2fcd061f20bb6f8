from django.core.exceptions import ValidationError
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from caseapp.api import IsAgent, as_drf_error
from caseapp.permissions import cases_visible_to
from cases.models import Case, CaseCategory, CaseChannel
from cases.services import case_open, delivery_check
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

    reported_at = serializers.DateTimeField(required=False, allow_null=True, default=None)

    class Meta:
        model = Case
        fields = ["arrival_number", "customer", "order", "shipment", "voucher", "category", "channel", "status",
                  "subject", "description", "owner", "arrived_at", "reported_at", "first_response_due_at",
                  "resolution_due_at"]
        # Service-owned: the arrival (queue order), the status, the owner and the clocks are never the client's.
        read_only_fields = ["arrival_number", "status", "owner", "arrived_at", "first_response_due_at",
                            "resolution_due_at"]

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
        queryset = cases_visible_to(
            self.request.user, Case.objects.select_related("owner").order_by("arrived_at", "arrival_number")
        )
        status = self.request.query_params.get("status")
        return queryset.filter(status=status) if status else queryset


class ReceivedItemIn(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=0, default=1)
    variant = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")


class DeliveryCheckIn(serializers.Serializer):
    received = ReceivedItemIn(many=True, allow_empty=False)


class DeliveryCheckApi(APIView):
    """POST what the customer received; a mismatch with the order reopens (or opens) the order's case."""

    permission_classes = [IsAgent]

    def post(self, request, shipment_id: int):
        shipment = Shipment.objects.select_related("order").filter(pk=shipment_id).first()
        if shipment is None:
            return Response({"detail": "No such shipment."}, status=status.HTTP_404_NOT_FOUND)
        data = DeliveryCheckIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            case = delivery_check(shipment=shipment, received=data.validated_data["received"], by=request.user)
        except ValidationError as exc:
            raise as_drf_error(exc) from exc
        if case is None:
            return Response({"matches": True, "case": None})
        return Response({"matches": False, "case": case.pk, "status": case.status})
