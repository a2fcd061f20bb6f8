"""Admin: versions are created and activated through the services; the remedy ledger is read-only."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError

from .models import PolicyVersion, Remedy, RemedyStatus
from .services import (
    PolicyDocumentInvalid,
    policy_document_parse,
    policy_version_activate,
    policy_version_create,
    remedy_approve,
)


class PolicyVersionForm(forms.ModelForm):
    document_text = forms.CharField(
        label="Document (YAML or JSON)", widget=forms.Textarea(attrs={"rows": 30, "cols": 110}),
        help_text="Validated before it is stored; errors name the rule, the field and the reason.",
    )

    class Meta:
        model = PolicyVersion
        fields = ["note"]

    def clean_document_text(self):
        try:
            return policy_document_parse(self.cleaned_data["document_text"])
        except PolicyDocumentInvalid as exc:
            raise forms.ValidationError(exc.messages) from exc


@admin.register(PolicyVersion)
class PolicyVersionAdmin(admin.ModelAdmin):
    list_display = ("number", "is_active", "author", "created_at", "activated_at", "note")
    actions = ["activate"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = PolicyVersionForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("number", "document", "author", "note", "created_at", "is_active", "activated_at")

    def has_delete_permission(self, request, obj=None):
        return False  # versions are immutable

    def save_model(self, request, obj, form, change):
        if change:
            return  # nothing about a stored version changes
        version = policy_version_create(document=form.cleaned_data["document_text"], author=request.user,
                                        note=form.cleaned_data.get("note", ""))
        obj.pk, obj.number, obj.document = version.pk, version.number, version.document
        obj._state.adding = False

    @admin.action(description="Activate the selected version")
    def activate(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one version to activate.", messages.ERROR)
            return
        try:
            version = policy_version_activate(version=queryset.get(), by=request.user)
        except (PermissionDenied, ValidationError) as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(request, f"Policy version {version.number} is now active.")


@admin.register(Remedy)
class RemedyAdmin(admin.ModelAdmin):
    list_display = ("case", "kind", "amount", "currency", "budget", "status", "rule_id", "proposed_at", "applied_at")
    list_filter = ("kind", "status", "budget", "currency")
    search_fields = ("rule_id", "rationale", "proposal_key")
    raw_id_fields = ("case", "customer", "recoverable_from", "policy_version", "proposed_by", "decided_by")
    actions = ["approve"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Remedy._meta.fields]

    def has_add_permission(self, request):
        return False  # remedies come from remedy_apply and remedy_override

    def has_delete_permission(self, request, obj=None):
        return False  # the ledger keeps everything

    @admin.action(description="Approve the selected remedies (managers; not your own)")
    def approve(self, request, queryset):
        done = 0
        for remedy in queryset.filter(status=RemedyStatus.PENDING_APPROVAL):
            try:
                remedy_approve(remedy=remedy, by=request.user)
                done += 1
            except (PermissionDenied, ValidationError) as exc:
                self.message_user(request, f"Remedy {remedy.pk}: {exc}", messages.ERROR)
        self.message_user(request, f"{done} remedies approved and applied.")
