from django import forms
from django.utils.translation import gettext_lazy as _

from cases.models import CaseCategory
from customers.models import Language

from . import placeholders
from .models import MACRO_STATUSES, MAX_PROMISE_DUE_HOURS

LANGUAGE_LABELS = {
    Language.ENGLISH: _("Text in English"),
    Language.ROMANIAN: _("Text in Romanian"),
    Language.RUSSIAN: _("Text in Russian"),
    Language.ITALIAN: _("Text in Italian"),
}


class MacroForm(forms.Form):
    """A macro and its four texts in one form; macros.services.macro_save checks it all again."""

    name = forms.CharField(label=_("Name"), max_length=120)
    category = forms.ChoiceField(label=_("Category"), required=False,
                                 choices=[("", _("Every category"))] + list(CaseCategory.choices))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    set_status = forms.ChoiceField(label=_("When the reply is sent, set the status to"), required=False,
                                   choices=[("", _("Leave the status as it is"))]
                                   + [(s.value, s.label) for s in MACRO_STATUSES])
    promise_description = forms.CharField(label=_("and record the promise"), max_length=300, required=False)
    promise_due_hours = forms.IntegerField(label=_("due in hours"), required=False, min_value=1,
                                           max_value=MAX_PROMISE_DUE_HOURS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for language in Language.values:
            self.fields[f"text_{language}"] = forms.CharField(
                label=LANGUAGE_LABELS[language], required=False, max_length=10000,
                widget=forms.Textarea(attrs={"rows": 5, "lang": language}))
        self.fields["text_en"].help_text = _("Placeholders: %(names)s") % {
            "names": ", ".join("{" + name + "}" for name in placeholders.PLACEHOLDERS)}

    def clean(self):
        data = super().clean()
        for language in Language.values:
            text = (data.get(f"text_{language}") or "").strip()
            try:
                placeholders.check(text)
            except placeholders.PlaceholderError as error:
                self.add_error(f"text_{language}", str(error))
        if not any((data.get(f"text_{language}") or "").strip() for language in Language.values):
            self.add_error("text_en", _("Write the macro's text in at least one language."))
        if (data.get("promise_description") or "").strip() and not data.get("promise_due_hours"):
            self.add_error("promise_due_hours", _("Say in how many hours the promise is due."))
        if data.get("promise_due_hours") and not (data.get("promise_description") or "").strip():
            self.add_error("promise_description", _("Say what is promised."))
        return data

    def texts(self) -> dict[str, str]:
        return {language: self.cleaned_data.get(f"text_{language}") or "" for language in Language.values}

    @classmethod
    def initial_for(cls, macro, texts: dict[str, str]) -> dict:
        initial = {"name": macro.name, "category": macro.category, "is_active": macro.is_active,
                   "set_status": macro.set_status, "promise_description": macro.promise_description,
                   "promise_due_hours": macro.promise_due_hours}
        initial.update({f"text_{language}": text for language, text in texts.items()})
        return initial
