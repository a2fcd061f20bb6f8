"""drf-spectacular extensions: the token scheme, and the request/response shapes of the two existing APIViews
(their classes stay as they are; the extension describes them from outside)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiViewExtension
from drf_spectacular.utils import extend_schema


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "apitokens.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "A token a manager created at /tokens/: `Authorization: Bearer <secret>`."}


class ShipmentEventRecordSchema(OpenApiViewExtension):
    target_class = "orders.api.views.ShipmentEventRecordApi"

    def view_replacement(self):
        from orders.api.serializers import ShipmentEventRecordedSerializer
        from orders.api.views import ShipmentEventIn

        class Described(self.target_class):
            @extend_schema(request=ShipmentEventIn, operation_id="shipment_events_create",
                           responses={201: ShipmentEventRecordedSerializer, 200: ShipmentEventRecordedSerializer})
            def post(self, request, *args, **kwargs):
                return super().post(request, *args, **kwargs)

        return Described


class DeliveryCheckSchema(OpenApiViewExtension):
    target_class = "cases.api.views.DeliveryCheckApi"

    def view_replacement(self):
        from cases.api.views import DeliveryCheckIn
        from orders.api.serializers import DeliveryCheckResultSerializer

        class Described(self.target_class):
            @extend_schema(request=DeliveryCheckIn, operation_id="shipments_delivery_check",
                           responses={200: DeliveryCheckResultSerializer})
            def post(self, request, *args, **kwargs):
                return super().post(request, *args, **kwargs)

        return Described
