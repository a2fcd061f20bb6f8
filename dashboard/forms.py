"""Forms of the dashboard. They parse and check input; the services do the work."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from caseapp.bounds import BoundedDateTimeField
from caseapp.roles import AGENT, MANAGER
from cases.models import CaseCategory, CaseChannel, CaseStatus
from cases.selectors import OWNER_MINE, OWNER_UNOWNED, STATUS_ALL, STATUS_OPEN, QueueFilters


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False,
        choices=[(STATUS_OPEN, _("All open")), *CaseStatus.choices, (STATUS_ALL, _("Any status"))],
    )
    category = forms.ChoiceField(label=_("Category"), required=False,
                                 choices=[("", _("Any category")), *CaseCategory.choices])
    channel = forms.ChoiceField(label=_("Channel"), required=False,
                                choices=[("", _("Any channel")), *CaseChannel.choices])
    owner = forms.ChoiceField(
        label=_("Owner"), required=False,
        choices=[("", _("Anyone")), (OWNER_MINE, _("Mine")), (OWNER_UNOWNED, _("Unowned"))],
    )
    date_critical = forms.BooleanField(label=_("Date-critical"), required=False)
    overdue = forms.BooleanField(label=_("Overdue"), required=False)
    quiet = forms.BooleanField(label=_("Quiet cases"), required=False,
                               help_text=_("Waiting long without a reply, or a customer who rarely complains."))

    def filters(self) -> QueueFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return QueueFilters(
            status=data.get("status") or STATUS_OPEN,
            category=data.get("category") or "",
            channel=data.get("channel") or "",
            owner=data.get("owner") or "",
            date_critical=bool(data.get("date_critical")),
            overdue=bool(data.get("overdue")),
            quiet=bool(data.get("quiet")),
        )


def staff_users():
    return get_user_model().objects.filter(is_active=True, groups__name__in=(AGENT, MANAGER)).distinct().order_by(
        "username"
    )


class NoteForm(forms.Form):
    KIND_NOTE = "note"
    KIND_CALL = "call"
    kind = forms.ChoiceField(label=_("What"), choices=[(KIND_NOTE, _("Note")), (KIND_CALL, _("Call logged"))],
                             initial=KIND_NOTE)
    text = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)

    def clean_text(self):
        text = self.cleaned_data["text"].strip()
        if not text:
            raise forms.ValidationError(_("Write something first."))
        return text


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class PromiseForm(forms.Form):
    description = forms.CharField(label=_("What was promised"), max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    due_at = BoundedDateTimeField(label=_("Due"), widget=DateTimeLocalInput(),
                                 input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
                                 help_text=_("In your time zone."))
    owner = forms.ModelChoiceField(label=_("Who keeps it"), queryset=None)
    made_by_name = forms.CharField(
        label=_("Promised by someone else"), required=False, max_length=120,
        help_text=_("Leave empty if you made the promise; otherwise who, e.g. 'Regional VP'."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = staff_users()

    def clean_due_at(self):
        due_at = self.cleaned_data["due_at"]
        if due_at < timezone.now():
            raise forms.ValidationError(_("A promise is due in the future."))
        return due_at


class PromiseCloseForm(forms.Form):
    kept = forms.TypedChoiceField(label=_("Outcome"), choices=[("1", _("Kept")), ("0", _("Broken"))],
                                  coerce=lambda value: value == "1")
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=CaseStatus.choices)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000)


class ReopenForm(forms.Form):
    reason = forms.CharField(label=_("Why reopen"), max_length=2000)


class AssignForm(forms.Form):
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=None, required=False, empty_label=_("Nobody"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = staff_users()


class ReplyForm(forms.Form):
    text = forms.CharField(label=_("Your reply"), widget=forms.Textarea(attrs={"rows": 4}), max_length=10000)
    nonce = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def clean_text(self):
        text = self.cleaned_data["text"].strip()
        if not text:
            raise forms.ValidationError(_("Write something first."))
        return text
