"""Reads: the macros a case is offered, a macro's texts, the values its placeholders take on a case."""

from django.db.models import Exists, OuterRef, Q

from orders.models import Shipment
from policies.models import Remedy, RemedyStatus

from .models import Macro, MacroText


def macros_for_case(*, case, language: str) -> list[Macro]:
    """The active macros for this case's category (and those for every category), in one query; each carries
    ``has_text``: whether it has a text in ``language`` (the customer's)."""
    return list(
        Macro.objects.filter(Q(category="") | Q(category=case.category), is_active=True)
        .annotate(has_text=Exists(MacroText.objects.filter(macro=OuterRef("pk"), language=language)))
        .order_by("name", "id")
    )


def macro_for_case(*, case, macro_id) -> Macro | None:
    """The macro, if it is active and offered on this case's category."""
    try:
        macro_id = int(macro_id)
    except (TypeError, ValueError):
        return None
    return Macro.objects.filter(Q(category="") | Q(category=case.category), is_active=True, pk=macro_id).first()


def macro_text(*, macro: Macro, language: str) -> str | None:
    found = MacroText.objects.filter(macro=macro, language=language).values_list("text", flat=True).first()
    return found


def macro_texts(*, macro: Macro) -> dict[str, str]:
    return dict(macro.texts.values_list("language", "text"))


def macro_list() -> list[Macro]:
    return list(Macro.objects.prefetch_related("texts").order_by("-is_active", "name", "id"))


def case_shipment(case) -> Shipment | None:
    """The case's own shipment, else its order's latest."""
    if case.shipment_id:
        return case.shipment
    if not case.order_id:
        return None
    return case.order.shipments.select_related("courier").order_by("-created_at", "-id").first()


def case_remedy_applied(case) -> Remedy | None:
    """The remedy applied last on this case."""
    return (Remedy.objects.filter(case=case, status=RemedyStatus.APPLIED)
            .order_by("-applied_at", "-id").first())


def macro_render_for_case(*, case, macro: Macro, language: str | None = None) -> dict:
    """The macro's text in the customer's language with the case's values, or why there is none.

    Returns {"language", "text" (None when the macro has no text in that language), "missing": [names]}."""
    from . import placeholders

    language = language or case.customer.preferred_language
    text = macro_text(macro=macro, language=language)
    if text is None:
        return {"language": language, "text": None, "missing": []}
    values = placeholders.case_values(case=case, shipment=case_shipment(case), remedy=case_remedy_applied(case),
                                      language=language)
    rendered, missing = placeholders.render(text, values)
    return {"language": language, "text": rendered, "missing": missing}
