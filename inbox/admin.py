from django.contrib import admin

from .models import InboundMessage


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    """Read-only: inbound email is written by inbox.services alone."""

    list_display = ("received_at", "status", "problem", "source", "from_address", "subject", "case")
    list_filter = ("status", "problem", "source")
    search_fields = ("message_id", "from_address", "subject")
    exclude = ("raw",)
    readonly_fields = [field.name for field in InboundMessage._meta.fields if field.name != "raw"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
