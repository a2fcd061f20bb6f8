from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from caseapp.permissions import is_manager

from .forms import token_holders
from .models import ApiToken
from .services import api_token_create, api_token_revoke


class ApiTokenAddForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["user", "name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = token_holders()


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Managers create a token (the secret is shown once, in the message) and revoke it; nothing else changes."""

    list_display = ["name", "user", "prefix", "created_at", "created_by", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "user__username", "prefix"]
    readonly_fields = ["user", "name", "prefix", "created_at", "created_by", "last_used_at", "revoked_at",
                       "revoked_by"]
    actions = ["revoke"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiTokenAddForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        return ["user", "name"] if obj is None else self.readonly_fields

    def has_add_permission(self, request):
        return is_manager(request.user)

    def has_change_permission(self, request, obj=None):
        return is_manager(request.user)

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the row says who used the API, and when

    def has_view_permission(self, request, obj=None):
        return is_manager(request.user)

    def has_module_permission(self, request):
        return is_manager(request.user)

    def save_model(self, request, obj, form, change):
        if change:
            return
        try:
            token, secret = api_token_create(user=obj.user, name=obj.name, by=request.user)
        except (ValidationError, PermissionDenied) as error:
            raise PermissionDenied(" ".join(getattr(error, "messages", [str(error)]))) from error
        obj.pk = token.pk
        obj.refresh_from_db()
        messages.warning(request, _("The token's secret, shown only now: %(secret)s") % {"secret": secret})

    @admin.action(description=gettext_lazy("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        for token in queryset:
            api_token_revoke(token=token, by=request.user)
        messages.success(request, _("Revoked."))
