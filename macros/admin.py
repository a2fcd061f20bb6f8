from django.contrib import admin

from .models import Macro, MacroText


class MacroTextInline(admin.TabularInline):
    model = MacroText
    extra = 0


@admin.register(Macro)
class MacroAdmin(admin.ModelAdmin):
    """For the site's staff; managers keep macros on the dashboard's own pages (/macros/)."""

    list_display = ("name", "category", "is_active", "set_status", "promise_description")
    list_filter = ("is_active", "category")
    search_fields = ("name",)
    raw_id_fields = ("created_by",)
    inlines = [MacroTextInline]
