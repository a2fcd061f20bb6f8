from django.contrib import admin

from .models import Case, CaseEvent, Promise


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    extra = 0
    can_delete = False
    readonly_fields = ("kind", "actor", "occurred_at", "text", "data")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class PromiseInline(admin.TabularInline):
    model = Promise
    extra = 0
    raw_id_fields = ("made_by", "owner")


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ("arrival_number", "arrived_at", "customer", "category", "channel", "status", "owner")
    list_filter = ("status", "category", "channel")
    search_fields = ("arrival_number", "subject", "customer__name", "customer__email")
    raw_id_fields = ("customer", "order", "shipment", "voucher", "owner")
    inlines = [PromiseInline, CaseEventInline]


@admin.register(CaseEvent)
class CaseEventAdmin(admin.ModelAdmin):
    list_display = ("case", "kind", "actor", "occurred_at")
    list_filter = ("kind",)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
