from django.contrib import admin

from .models import Courier, Order, OrderLine, Shipment, ShipmentEvent


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("number", "customer", "placed_at", "total", "currency", "payment_method", "cod_quoted_amount",
                    "promised_delivery_date", "is_date_critical", "status")
    list_filter = ("status", "payment_method", "is_date_critical", "currency")
    search_fields = ("number", "customer__name", "customer__email")
    raw_id_fields = ("customer",)
    inlines = [OrderLineInline]


@admin.register(Courier)
class CourierAdmin(admin.ModelAdmin):
    list_display = ("name", "claims_email", "claims_phone", "claim_window_days")


class ShipmentEventInline(admin.TabularInline):
    model = ShipmentEvent
    extra = 0


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    list_display = ("tracking_number", "courier", "order", "status", "estimated_delivery", "delivered_at",
                    "cod_amount", "is_replacement")
    list_filter = ("status", "courier", "is_replacement")
    search_fields = ("tracking_number", "order__number")
    raw_id_fields = ("order",)
    inlines = [ShipmentEventInline]
