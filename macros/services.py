"""Writes: a manager saves a macro with its texts; an agent's reply sent from a macro applies its actions."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from caseapp import permissions
from cases.models import Case, CaseCategory
from cases.services import case_change_status, promise_record
from customers.models import Language

from . import placeholders
from .models import MACRO_STATUSES, MAX_PROMISE_DUE_HOURS, Macro, MacroText


def _check_can_manage(by) -> None:
    if by is not None:
        permissions.require(permissions.is_manager(by), "Only managers manage macros.")


@transaction.atomic
def macro_save(*, macro: Macro | None = None, name: str, category: str = "", is_active: bool = True,
               set_status: str = "", promise_description: str = "", promise_due_hours: int | None = None,
               texts: dict[str, str], by=None) -> Macro:
    """Create or update a macro with its texts (one per language; an empty text removes that language).

    Every error is a field error ({"name": ..., "text_ro": ...}); nothing is written unless all is well."""
    _check_can_manage(by)
    name = (name or "").strip()
    promise_description = (promise_description or "").strip()
    texts = {language: (text or "").strip() for language, text in (texts or {}).items()}
    errors = {}
    if not name:
        errors["name"] = "Give the macro a name."
    elif Macro.objects.filter(name__iexact=name).exclude(pk=macro.pk if macro else None).exists():
        errors["name"] = gettext("Another macro already has this name.")
    if category and category not in CaseCategory.values:
        errors["category"] = f"{category!r} is not a case category."
    if set_status and set_status not in MACRO_STATUSES:
        errors["set_status"] = f"A macro cannot set the status {set_status!r}."
    if promise_description and not promise_due_hours:
        errors["promise_due_hours"] = "Say in how many hours the promise is due."
    if promise_due_hours and not promise_description:
        errors["promise_description"] = "Say what is promised."
    if promise_due_hours is not None and not 1 <= promise_due_hours <= MAX_PROMISE_DUE_HOURS:
        errors["promise_due_hours"] = f"Between 1 and {MAX_PROMISE_DUE_HOURS} hours."
    for language, text in texts.items():
        if language not in Language.values:
            errors["texts"] = f"{language!r} is not a language caseapp writes in."
            continue
        try:
            placeholders.check(text)
        except placeholders.PlaceholderError as error:
            errors[f"text_{language}"] = str(error)
    if not any(texts.values()):
        errors["text_en"] = "Write the macro's text in at least one language."
    if errors:
        raise ValidationError(errors)
    macro = macro or Macro(created_by=by)
    macro.name, macro.category, macro.is_active, macro.set_status = name, category or "", bool(is_active), set_status
    macro.promise_description = promise_description
    macro.promise_due_hours = promise_due_hours if promise_description else None
    try:
        with transaction.atomic():
            macro.save()
    except IntegrityError as error:  # a concurrent save of the same name
        raise ValidationError({"name": gettext("Another macro already has this name.")}) from error
    for language, text in texts.items():
        if text:
            MacroText.objects.update_or_create(macro=macro, language=language, defaults={"text": text})
        else:
            MacroText.objects.filter(macro=macro, language=language).delete()
    return macro


@transaction.atomic
def macro_reply_send(*, case: Case, macro: Macro | None, text: str, by, nonce: str):
    """Send the agent's reply and, when it came from a macro, apply the macro's actions (its status, its promise),
    all in one transaction: a refused status change sends nothing. A double submit (same nonce) does nothing twice.

    Returns (message, created)."""
    from dashboard.services import case_reply_send

    if macro is not None and placeholders.has_missing_marker(text):
        raise ValidationError({"text": gettext("Replace the [missing: …] markers with the values before sending.")})
    message, created = case_reply_send(case=case, text=text, by=by, nonce=nonce)
    if not created or macro is None:
        return message, created
    if macro.set_status:
        current = Case.objects.only("status").get(pk=case.pk).status
        if current != macro.set_status:
            case_change_status(case=case, status=macro.set_status, by=by, reason=f"Macro: {macro.name}")
    if macro.records_promise:
        promise_record(case=case, description=macro.promise_description,
                       due_at=timezone.now() + timedelta(hours=macro.promise_due_hours),
                       owner=case.owner or by, made_by=by, key=f"macro:{macro.pk}:{(nonce or '').strip()[:64]}")
    return message, created
