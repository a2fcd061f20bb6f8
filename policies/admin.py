from django.contrib import admin

from .models import PolicyVersion, Remedy


@admin.register(PolicyVersion)
class PolicyVersionAdmin(admin.ModelAdmin):
    list_display = ("number", "is_active", "author", "created_at", "note")
    readonly_fields = ("document",)


@admin.register(Remedy)
class RemedyAdmin(admin.ModelAdmin):
    list_display = ("case", "kind", "amount", "currency", "budget", "status", "rule_id", "proposed_at", "applied_at")
    list_filter = ("kind", "status", "budget", "currency")
    raw_id_fields = ("case", "customer", "recoverable_from", "policy_version", "proposed_by", "decided_by")
