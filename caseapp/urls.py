from django.contrib import admin
from django.http import JsonResponse
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from cases.api.views import CaseListCreateApi, DeliveryCheckApi
from orders.api.views import ShipmentEventRecordApi
from search.views import SearchApi


def health(request):
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("admin/", admin.site.urls),
    path("health/", health, name="health"),
    path("health/", include("health.urls")),  # /health/live and /health/ready
    path("favicon.ico", RedirectView.as_view(url=static("dashboard/favicon.svg"), permanent=True)),
    path("api/v1/search/", SearchApi.as_view(), name="api-search"),
    path("search/", include("search.urls")),
    path("api/v1/webhooks/", include("intake.urls")),
    path("api/v1/", include("caseapp.api_urls", namespace="api-v1")),
    # The unversioned paths: aliases of the same views, kept for one release (see the README's API section).
    path("api/cases/", CaseListCreateApi.as_view(), name="api-cases"),
    path("api/shipment-events/", ShipmentEventRecordApi.as_view(), name="api-shipment-events"),
    path("api/shipments/<int:shipment_id>/delivery-check/", DeliveryCheckApi.as_view(), name="api-delivery-check"),
    # anymail's tracking webhooks of the configured ESPs only, e.g. /anymail/postmark/tracking/ (basic auth with
    # ANYMAIL_WEBHOOK_SECRET); the others answer 404 and no body gets a 5xx (caseapp/webhooks.py).
    path("anymail/", include("caseapp.webhooks")),
    path("tokens/", include("apitokens.urls")),
    # Customers' satisfaction survey pages: no login, the signed link authorises (surveys/views.py).
    path("survey/", include("surveys.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("dashboard.auth_urls")),
    path("", include("macros.urls")),
    path("", include("dashboard.urls")),
]

# Errors outside a view (DEBUG off) get the same plain 500 page as those caught by caseapp.middleware.
handler500 = "caseapp.middleware.server_error"
