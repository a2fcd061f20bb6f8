from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path


def health(request):
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("admin/", admin.site.urls),
    path("health/", health, name="health"),
    # anymail's tracking webhooks, e.g. /anymail/postmark/tracking/ (basic auth with ANYMAIL WEBHOOK_SECRET).
    path("anymail/", include("anymail.urls")),
]
