from django.contrib import admin

from .models import Customer


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "email", "preferred_language", "country", "customer_since")
    list_filter = ("preferred_language", "country")
    search_fields = ("name", "email", "phone")
