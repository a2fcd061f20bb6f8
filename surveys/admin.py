from django.contrib import admin

from .models import Survey


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ("case", "customer", "category", "agent", "due_at", "sent_at", "rating", "rated_at")
    list_filter = ("rating", "category")
    search_fields = ("case__arrival_number", "customer__email")
    readonly_fields = [field.name for field in Survey._meta.fields]

    def has_add_permission(self, request):
        return False
