"""Orders (with their lines) and shipments (with their tracking events) in /api/v1/. An order is created or
updated by POSTing the generic order JSON (intake.serializers.OrderIn), idempotent on the shop's own number; a
shipment is recorded by POSTing its order number, courier and tracking number (orders.services.shipment_receive),
idempotent on (courier, tracking number).

Recording tracking events and the delivery check are the existing views in orders/api/views.py and
cases/api/views.py, mounted under /api/v1/ too.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.response import Response

from caseapp.api import as_drf_error
from caseapp.api_v1 import DateTimeSinceFilter, IdCursorPagination, IdFilter, IsAgent
from caseapp.bounds import BoundedSerializerDateField, BoundedSerializerDateTimeField
from caseapp.upsert import Outcome
from intake.serializers import OrderIn, validated
from intake.services import order_ingest
from orders.models import Courier, Order, OrderStatus, PaymentMethod, Shipment, ShipmentEvent, ShipmentStatus
from orders.services import shipment_receive

from .serializers import OrderSerializer, ShipmentSerializer


class OrderFilter(filters.FilterSet):
    customer = IdFilter(field_name="customer_id")
    number = filters.CharFilter(field_name="number", max_length=40)
    status = filters.ChoiceFilter(choices=OrderStatus.choices)
    payment_method = filters.ChoiceFilter(choices=PaymentMethod.choices)
    placed_since = DateTimeSinceFilter(field_name="placed_at", lookup_expr="gte")
    is_date_critical = filters.BooleanFilter()

    class Meta:
        model = Order
        fields = ["customer", "number", "status", "payment_method", "is_date_critical"]


class OrderViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [IsAgent]
    queryset = Order.objects.prefetch_related("lines")
    serializer_class = OrderSerializer
    pagination_class = IdCursorPagination
    filterset_class = OrderFilter
    lookup_value_regex = r"[0-9]{1,18}"

    @extend_schema(request=OrderIn, responses={200: OrderSerializer, 201: OrderSerializer},
                   description="Create or update an order by the shop's own `number` (its customer found by email "
                               "or created): 201 when new, 200 when it changed or was already so.")
    def create(self, request):
        try:
            with transaction.atomic():
                order, outcome = order_ingest(data=validated(OrderIn, request.data))
        except ValidationError as exc:
            raise as_drf_error(exc) from exc
        order = self.get_queryset().get(pk=order.pk)
        return Response({**OrderSerializer(order).data, "outcome": str(outcome)},
                        status=status.HTTP_201_CREATED if outcome == Outcome.CREATED else status.HTTP_200_OK)


class ShipmentFilter(filters.FilterSet):
    order = IdFilter(field_name="order_id")
    order_number = filters.CharFilter(field_name="order__number", max_length=40)
    tracking_number = filters.CharFilter(field_name="tracking_number", max_length=64)
    status = filters.ChoiceFilter(choices=ShipmentStatus.choices)

    class Meta:
        model = Shipment
        fields = ["order", "order_number", "tracking_number", "status"]


class ShipmentIn(serializers.Serializer):
    """A shipment as the shop's system reports it: (courier, tracking number) is the key."""

    order_number = serializers.CharField(max_length=40, help_text="The shop's own order number.")
    courier = serializers.SlugRelatedField(slug_field="name", queryset=Courier.objects.all(),
                                           help_text="The courier's name, as caseapp knows it.")
    tracking_number = serializers.CharField(max_length=64)
    estimated_delivery = BoundedSerializerDateField()
    handed_over_at = BoundedSerializerDateTimeField(required=False, allow_null=True, default=None,
                                                    help_text="When the parcel was handed to the courier: "
                                                              "the shipment is then in transit.")


class ShipmentViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [IsAgent]
    queryset = Shipment.objects.select_related("courier", "order").prefetch_related(
        Prefetch("events", queryset=ShipmentEvent.objects.order_by("occurred_at", "id"))
    )
    serializer_class = ShipmentSerializer
    pagination_class = IdCursorPagination
    filterset_class = ShipmentFilter
    lookup_value_regex = r"[0-9]{1,18}"

    @extend_schema(request=ShipmentIn, responses={200: ShipmentSerializer, 201: ShipmentSerializer},
                   description="Record a shipment of an order (by the shop's own order number), once per courier and "
                               "tracking number: 201 when new, 200 (unchanged) when it was already recorded for "
                               "this order; the same tracking number on another order is a 400.")
    def create(self, request):
        data = ShipmentIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            shipment, created = shipment_receive(**data.validated_data)
        except ValidationError as exc:
            raise as_drf_error(exc) from exc
        shipment = self.get_queryset().get(pk=shipment.pk)
        outcome = Outcome.CREATED if created else Outcome.UNCHANGED
        return Response({**ShipmentSerializer(shipment).data, "outcome": str(outcome)},
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
