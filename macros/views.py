"""Managers keep the macros; agents insert one into the reply box of a case (an htmx swap, or the whole page)."""

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_htmx.http import reswap, retarget

from caseapp import permissions
from customers.models import Language
from dashboard.forms import ReplyForm
from dashboard.permissions import agent_required, check_can_work_case, manager_required

from . import selectors, services
from .forms import MacroForm
from .models import Macro
from .placeholders import PLACEHOLDERS

NO_TEXT_IN = {
    Language.ENGLISH: gettext_lazy("No English text for this macro."),
    Language.ROMANIAN: gettext_lazy("No Romanian text for this macro."),
    Language.RUSSIAN: gettext_lazy("No Russian text for this macro."),
    Language.ITALIAN: gettext_lazy("No Italian text for this macro."),
}


@manager_required
def macro_list(request):
    return render(request, "macros/list.html", {"macros": selectors.macro_list(), "languages": Language.choices})


def _save(request, form, macro=None):
    data = form.cleaned_data
    try:
        return services.macro_save(
            macro=macro, name=data["name"], category=data["category"], is_active=data["is_active"],
            set_status=data["set_status"], promise_description=data["promise_description"],
            promise_due_hours=data["promise_due_hours"], texts=form.texts(), by=request.user)
    except ValidationError as error:
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return None


def _edit_page(request, form, macro=None, status=200):
    if status != 200:
        messages.error(request, _("Please correct the errors below."))
    return render(request, "macros/edit.html", {"form": form, "macro": macro}, status=status)


@manager_required
def macro_create(request):
    form = MacroForm(request.POST or None)
    if request.method == "POST":
        macro = _save(request, form) if form.is_valid() else None
        if macro is None:
            return _edit_page(request, form, status=400)
        messages.success(request, _("Macro saved."))
        return redirect("macros:list")
    return _edit_page(request, form)


@manager_required
def macro_edit(request, pk):
    macro = get_object_or_404(Macro, pk=pk)
    if request.method == "POST":
        form = MacroForm(request.POST)
        saved = _save(request, form, macro) if form.is_valid() else None
        if saved is None:
            return _edit_page(request, form, macro, status=400)
        messages.success(request, _("Macro saved."))
        return redirect("macros:list")
    form = MacroForm(initial=MacroForm.initial_for(macro, selectors.macro_texts(macro=macro)))
    return _edit_page(request, form, macro)


@agent_required
def case_macro_insert(request, pk):
    """The reply box filled with the chosen macro in the customer's language, its placeholders filled from the case.

    With htmx: the reply form's fields only; without: the whole case page. A macro without a text in the customer's
    language leaves the box as it was and says so."""
    from cases.models import Case
    from dashboard.views.cases import case_context

    case = get_object_or_404(Case.objects.select_related("customer", "order", "shipment__courier", "voucher",
                                                         "owner"), pk=pk)
    check_can_work_case(request, case)
    macro = selectors.macro_for_case(case=case, macro_id=request.GET.get("pick"))
    typed = {"text": request.GET.get("text", ""), "nonce": request.GET.get("nonce") or uuid.uuid4().hex,
             "macro": request.GET.get("macro", "")}
    notice = warning = None
    if macro is None:
        notice = _("Choose one of the macros offered for this case.")
    else:
        rendered = selectors.macro_render_for_case(case=case, macro=macro)
        if rendered["text"] is None:
            notice = str(NO_TEXT_IN.get(rendered["language"], NO_TEXT_IN[Language.ENGLISH]))
        else:
            typed.update(text=rendered["text"], macro=macro.pk)
            if rendered["missing"]:
                warning = _("This case has no %(names)s: replace the markers before sending.") % {
                    "names": ", ".join(str(PLACEHOLDERS[name]) for name in rendered["missing"])}
    form = ReplyForm(initial=typed)
    if request.htmx and notice:  # the reply box stays as the agent left it; the picker says why
        response = render(request, "macros/_notice.html", {"macro_notice": notice})
        return reswap(retarget(response, "#macro-notice"), "innerHTML")
    if request.htmx:
        return render(request, "macros/_reply_fields.html",
                      {"form": form, "macro_notice": notice, "macro_warning": warning, "macro": macro},
                      status=200)
    for text, level in ((notice, messages.error), (warning, messages.warning)):
        if text:
            level(request, text)
    permissions.require(permissions.can_view_case(request.user, case))
    return render(request, "dashboard/case.html", case_context(request, case, reply_form=form))
