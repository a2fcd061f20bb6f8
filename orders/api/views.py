from django.core.exceptions import ValidationError
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from caseapp.api import IsAgent, as_drf_error
from orders.models import Courier
from orders.services import shipment_event_record


class ShipmentEventIn(serializers.Serializer):
    courier = serializers.SlugRelatedField(slug_field="name", queryset=Courier.objects.all(), required=False)
    tracking_number = serializers.CharField(max_length=64)
    external_id = serializers.CharField(max_length=100)
    occurred_at = serializers.DateTimeField()
    code = serializers.CharField(max_length=40)
    text = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    location = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    estimated_delivery = serializers.DateField(required=False, allow_null=True, default=None)
    raw = serializers.JSONField(required=False, default=dict)


class ShipmentEventRecordApi(APIView):
    """POST a courier tracking event. Stored once per (shipment, external_id): a repeat answers 200."""

    permission_classes = [IsAgent]

    def post(self, request):
        data = ShipmentEventIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            event, created = shipment_event_record(**data.validated_data, by=request.user)
        except ValidationError as exc:
            raise as_drf_error(exc) from exc
        return Response(
            {"id": event.pk, "shipment": event.shipment_id, "status": event.shipment.status, "created": created},
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

