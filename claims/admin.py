"""Admin: claims are read-only here; they move through claims.services (the dashboard's claims page)."""

from django.contrib import admin

from .models import Claim


@admin.register(Claim)
class ClaimAdmin(admin.ModelAdmin):
    list_display = ("id", "courier", "case", "amount", "currency", "status", "deadline", "recovered_amount")
    list_filter = ("status", "courier")
    search_fields = ("courier_reference", "courier__name")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
