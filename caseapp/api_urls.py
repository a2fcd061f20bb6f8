"""The versioned REST API, mounted at /api/v1/ (URL names in the "api-v1" namespace)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from cases.api.views import DeliveryCheckApi
from cases.api.viewsets import CaseViewSet, PromiseViewSet
from claims.api.views import ClaimViewSet
from customers.api.views import CustomerViewSet
from inbox.api.viewsets import InboundMessageViewSet
from orders.api.views import ShipmentEventRecordApi
from orders.api.viewsets import OrderViewSet, ShipmentViewSet
from policies.api.views import RemedyViewSet
from vouchers.api.views import VoucherViewSet

app_name = "api-v1"

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("customers", CustomerViewSet, basename="customer")
router.register("vouchers", VoucherViewSet, basename="voucher")
router.register("orders", OrderViewSet, basename="order")
router.register("shipments", ShipmentViewSet, basename="shipment")
router.register("cases", CaseViewSet, basename="case")
router.register("promises", PromiseViewSet, basename="promise")
router.register("remedies", RemedyViewSet, basename="remedy")
router.register("claims", ClaimViewSet, basename="claim")
router.register("inbound-messages", InboundMessageViewSet, basename="inbound-message")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-v1:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-v1:schema"), name="redoc"),
    # The existing endpoints, the same view classes as under /api/ (those paths stay as aliases for one release).
    path("shipment-events/", ShipmentEventRecordApi.as_view(), name="shipment-events"),
    path("shipments/<int:shipment_id>/delivery-check/", DeliveryCheckApi.as_view(), name="delivery-check"),
    path("", include(router.urls)),
]
