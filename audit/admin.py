"""The audit trail in Django's admin: one read-only list per tracked model, newest first, with who and why."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import TRACKED


class AuditAdmin(admin.ModelAdmin):
    list_display = ("pgh_created_at", "pgh_label", "pgh_obj_id", "who", "why")
    list_filter = ("pgh_label",)
    list_select_related = ("pgh_context",)
    search_fields = ("pgh_obj_id",)
    ordering = ("-pgh_id",)
    date_hierarchy = "pgh_created_at"

    @admin.display(description=_("Who"))
    def who(self, event):
        metadata = event.pgh_context.metadata if event.pgh_context_id else {}
        return metadata.get("username") or metadata.get("task") or "—"

    @admin.display(description=_("Why"))
    def why(self, event):
        metadata = event.pgh_context.metadata if event.pgh_context_id else {}
        return metadata.get("reason") or metadata.get("url") or "—"

    # The trail is written by the database (or, on SQLite, by audit.services), never by hand.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


for event_model in TRACKED.values():
    admin.site.register(event_model, AuditAdmin)
