from rest_framework import serializers

from orders.models import Order, OrderLine, Shipment, ShipmentEvent


class OrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = ["sku", "name", "quantity", "unit_price", "variant"]
        read_only_fields = fields


class OrderSerializer(serializers.ModelSerializer):
    lines = OrderLineSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = ["id", "number", "customer", "placed_at", "currency", "shipping_amount", "total",
                  "payment_method", "cod_quoted_amount", "promised_delivery_date", "is_date_critical", "occasion",
                  "is_non_refundable", "is_special_order", "sold_by", "status", "lines"]
        read_only_fields = fields


class ShipmentEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = ShipmentEvent
        fields = ["id", "external_id", "occurred_at", "code", "text", "location", "received_at"]
        read_only_fields = fields


class ShipmentSerializer(serializers.ModelSerializer):
    courier = serializers.SlugRelatedField(slug_field="name", read_only=True)
    order_number = serializers.CharField(source="order.number", read_only=True)
    events = ShipmentEventSerializer(many=True, read_only=True)

    class Meta:
        model = Shipment
        fields = ["id", "order", "order_number", "courier", "tracking_number", "status", "handed_over_at",
                  "estimated_delivery", "delivered_at", "cod_amount", "is_replacement", "created_at", "events"]
        read_only_fields = fields


class ShipmentEventRecordedSerializer(serializers.Serializer):
    """What POST /api/v1/shipment-events/ answers."""

    id = serializers.IntegerField()
    shipment = serializers.IntegerField()
    status = serializers.CharField()
    created = serializers.BooleanField()


class DeliveryCheckResultSerializer(serializers.Serializer):
    """What POST /api/v1/shipments/{id}/delivery-check/ answers."""

    matches = serializers.BooleanField()
    case = serializers.IntegerField(allow_null=True)
    status = serializers.CharField(required=False)
