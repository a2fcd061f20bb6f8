"""Forms of the dashboard. They parse and check input; the services do the work."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from caseapp.bounds import BoundedDateTimeField
from caseapp.roles import AGENT, MANAGER
from cases.models import CaseCategory, CaseChannel, CaseStatus
from cases.selectors import OWNER_MINE, OWNER_UNOWNED, STATUS_ALL, STATUS_OPEN, QueueFilters
from cases.services import PROMISE_BROKEN, PROMISE_KEPT, PROMISE_STAYS_OPEN


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
    """A status change; resolving or closing asks what becomes of each open promise on the case."""

    status = forms.ChoiceField(label=_("New status"), choices=CaseStatus.choices)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000)
    OUTCOMES = [("", _("Choose, before resolving or closing")), (PROMISE_KEPT, _("Kept")),
                (PROMISE_BROKEN, _("Broken")), (PROMISE_STAYS_OPEN, _("Stays open: its owner keeps it (say why)"))]

    def __init__(self, *args, open_promises=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.open_promises = list(open_promises)
        for promise in self.open_promises:
            self.fields[f"promise_{promise.pk}"] = forms.ChoiceField(
                label=_("Open promise: %(what)s") % {"what": promise.description[:120]}, required=False,
                choices=self.OUTCOMES)
            self.fields[f"promise_{promise.pk}_note"] = forms.CharField(
                label=_("Note on this promise"), required=False, max_length=2000)

    def clean(self):
        data = super().clean()
        if data.get("status") in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
            for promise in self.open_promises:
                outcome = data.get(f"promise_{promise.pk}")
                if not outcome:
                    self.add_error(f"promise_{promise.pk}",
                                   _("Say what becomes of this promise before the case is closed."))
                elif outcome == PROMISE_STAYS_OPEN and not (data.get(f"promise_{promise.pk}_note") or "").strip():
                    self.add_error(f"promise_{promise.pk}_note", _("Say why the promise stays open."))
        return data

    def promise_outcomes(self) -> dict:
        return {promise.pk: (self.cleaned_data.get(f"promise_{promise.pk}") or "",
                             self.cleaned_data.get(f"promise_{promise.pk}_note") or "")
                for promise in self.open_promises}


class DeliveryCheckForm(forms.Form):
    """What the customer received, line by line of the order (quantity and the style, colour or size)."""

    shipment = forms.TypedChoiceField(label=_("Shipment"), coerce=int)

    def __init__(self, *args, order_lines, shipments, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_lines = list(order_lines)
        self.shipments = {shipment.pk: shipment for shipment in shipments}
        self.fields["shipment"].choices = [(s.pk, f"{s.courier.name} {s.tracking_number}")
                                           for s in self.shipments.values()]
        for line in self.order_lines:
            self.fields[f"quantity_{line.pk}"] = forms.IntegerField(
                label=_("%(name)s: how many arrived (of %(ordered)s)") % {"name": line.name, "ordered": line.quantity},
                min_value=0, max_value=100000, initial=line.quantity)
            self.fields[f"variant_{line.pk}"] = forms.CharField(
                label=_("%(name)s: style, colour or size received") % {"name": line.name}, required=False,
                max_length=120, initial=line.variant,
                help_text=_("As ordered: %(variant)s") % {"variant": line.variant} if line.variant
                else _("No style recorded on the order line."))

    def clean_shipment(self):
        return self.shipments[self.cleaned_data["shipment"]]

    def received(self) -> list[dict]:
        return [{"sku": line.sku, "quantity": self.cleaned_data[f"quantity_{line.pk}"],
                 "variant": (self.cleaned_data.get(f"variant_{line.pk}") or "").strip()}
                for line in self.order_lines]


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


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class SpecialDeliveryForm(forms.Form):
    """The special delivery that saves a date-critical order: who carries it, its tracking number, the day."""

    courier = forms.ModelChoiceField(label=_("Courier"), queryset=None)
    tracking_number = forms.CharField(label=_("Tracking number"), max_length=64)
    arrives_on = forms.DateField(label=_("Arrives on"), widget=DateInput(), input_formats=["%Y-%m-%d"])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from orders.models import Courier

        self.fields["courier"].queryset = Courier.objects.order_by("name")

    def clean_tracking_number(self):
        value = self.cleaned_data["tracking_number"].strip()
        if not value:
            raise forms.ValidationError(_("Give the special delivery's own tracking number."))
        return value

    def clean_arrives_on(self):
        day = self.cleaned_data["arrives_on"]
        if day < timezone.localdate():
            raise forms.ValidationError(_("The special delivery cannot arrive in the past."))
        return day


class RemedyPaymentForm(forms.Form):
    """Close a remedy's payment to-do with the payment system's reference (prefix: pay<remedy id>)."""

    reference = forms.CharField(label=_("Payment reference"), max_length=100,
                                help_text=_("As the payment system shows it; each reference is used once."))

    def clean_reference(self):
        reference = self.cleaned_data["reference"].strip()
        if not reference:
            raise forms.ValidationError(_("Give the payment's reference from the payment system."))
        return reference


class MessageHoldForm(forms.Form):
    """Hold back a queued email to the customer, with the reason (prefix: hold<message id>)."""

    reason = forms.CharField(label=_("Why hold it back"), max_length=2000,
                             help_text=_("For example: the customer was told by phone."))

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Say why the email is held back."))
        return reason
