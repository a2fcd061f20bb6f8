from django.contrib import admin

from .models import Detection, Message


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("id", "created_at", "template", "recipient", "language", "status", "attempts", "case")
    list_filter = ("status", "template", "language")
    search_fields = ("recipient", "idempotency_key", "esp_message_id")
    raw_id_fields = ("case",)
    readonly_fields = ("idempotency_key", "context", "attempts", "last_error", "esp_message_id", "sent_at")


@admin.register(Detection)
class DetectionAdmin(admin.ModelAdmin):
    list_display = ("key", "kind", "case", "detected_at")
    list_filter = ("kind",)
    raw_id_fields = ("case", "shipment")
