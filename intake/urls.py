"""Mounted at /api/v1/webhooks/ by caseapp.urls."""

from django.urls import path

from . import webhooks

app_name = "intake"

urlpatterns = [
    path("<slug:source_name>/", webhooks.webhook_receive, name="webhook"),
]
