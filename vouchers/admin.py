from django.contrib import admin

from .models import ValidityRule, Voucher, VoucherExtension, VoucherRedemption


@admin.register(ValidityRule)
class ValidityRuleAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "validity_months", "effective_from")


class RedemptionInline(admin.TabularInline):
    model = VoucherRedemption
    extra = 0


class ExtensionInline(admin.TabularInline):
    model = VoucherExtension
    extra = 0
    readonly_fields = ("previous_valid_until", "new_valid_until", "reason", "extended_by", "created_at")

    def has_add_permission(self, request, obj=None):
        return False  # extensions go through vouchers.services.voucher_extend


@admin.register(Voucher)
class VoucherAdmin(admin.ModelAdmin):
    list_display = ("code", "holder", "value", "balance", "currency", "issued_at", "valid_until", "validity_rule",
                    "status")
    list_filter = ("status", "currency", "validity_rule")
    search_fields = ("code", "holder__name", "holder__email")
    raw_id_fields = ("holder", "purchaser")
    inlines = [RedemptionInline, ExtensionInline]
