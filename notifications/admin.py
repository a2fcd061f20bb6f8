from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import Detection, Message
from .services import message_confirm_sent, message_resend


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("id", "created_at", "template", "recipient", "language", "status", "attempts", "case")
    list_filter = ("status", "template", "language")
    search_fields = ("recipient", "idempotency_key", "esp_message_id")
    raw_id_fields = ("case",)
    readonly_fields = ("idempotency_key", "context", "attempts", "last_error", "esp_message_id", "sent_at",
                       "last_attempt_at")
    actions = ["resend", "confirm_sent"]

    def _each(self, request, queryset, service) -> None:
        done, refused = 0, []
        for message in queryset:
            try:
                service(message_id=message.pk, by=request.user)
                done += 1
            except ValidationError as error:
                refused.append(f"#{message.pk}: {' '.join(error.messages)}")
        if done:
            self.message_user(request, ngettext("%(count)d message changed.", "%(count)d messages changed.", done)
                              % {"count": done}, messages.SUCCESS)
        for text in refused:
            self.message_user(request, text, messages.WARNING)

    @admin.action(description=_("Send again (same Message-ID)"))
    def resend(self, request, queryset):
        self._each(request, queryset, message_resend)

    @admin.action(description=_("Confirm it arrived (mark sent)"))
    def confirm_sent(self, request, queryset):
        self._each(request, queryset, message_confirm_sent)


@admin.register(Detection)
class DetectionAdmin(admin.ModelAdmin):
    list_display = ("key", "kind", "case", "detected_at")
    list_filter = ("kind",)
    raw_id_fields = ("case", "shipment")
