from django.contrib import admin

from .models import WebhookDelivery, WebhookSource


@admin.register(WebhookSource)
class WebhookSourceAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "courier", "is_active", "created_at"]
    list_filter = ["kind", "is_active"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["received_at", "source", "event_id", "topic", "outcome"]
    list_filter = ["source", "outcome"]
    search_fields = ["event_id"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]

    def has_add_permission(self, request):
        return False
