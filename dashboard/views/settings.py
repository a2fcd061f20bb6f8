"""A staff member's own settings: the language of the emails caseapp sends them."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from staff.selectors import staff_language
from staff.services import staff_language_set

from ..permissions import agent_required


class StaffSettingsForm(forms.Form):
    language = forms.ChoiceField(label=gettext_lazy("Language of your emails"), required=False,
                                 help_text=gettext_lazy("Escalations and task emails are written in this language."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", _("The site's language"))] + list(settings.LANGUAGES)


@agent_required
def staff_settings(request):
    if request.method == "POST":
        form = StaffSettingsForm(request.POST)
        if form.is_valid():
            try:
                staff_language_set(user=request.user, language=form.cleaned_data["language"])
            except ValidationError as exc:
                form.add_error("language", exc.message_dict.get("language", exc.messages))
            else:
                messages.success(request, _("Saved."))
                return redirect("dashboard:staff_settings")
    else:
        form = StaffSettingsForm(initial={"language": staff_language(request.user)})
    return render(request, "dashboard/staff_settings.html", {"form": form}, status=400 if form.errors else 200)
