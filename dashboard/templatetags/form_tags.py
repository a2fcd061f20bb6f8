"""{% form_fields form %}: a form's fields as templates/dashboard/_form_fields.html renders them, kept per process
for unbound forms.

An unbound form's fields render the same HTML whenever the same fields, labels, initial values, choices and widgets
meet the same language and time zone: the case page shows up to a dozen such forms per view, each rendered field by
field through the widget templates. The key holds everything the HTML is made from, so a form whose staff list, budget
names or order lines changed gets a new key, never stale HTML. A bound form (with the user's input and errors) and a
field whose choices are a query (a ModelChoiceField not given its choices) are rendered each time.
"""

from collections import OrderedDict
from threading import Lock

from django import forms, template
from django.template.loader import get_template
from django.utils import timezone, translation
from django.utils.safestring import mark_safe

register = template.Library()

FORM_FIELDS_TEMPLATE = "dashboard/_form_fields.html"
CACHED_FORMS_MAX = 512

_rendered: OrderedDict = OrderedDict()
_lock = Lock()


def _field_key(form, name, field):
    if isinstance(field, forms.ModelChoiceField) and not hasattr(field, "_choices"):
        raise LookupError(name)  # its choices would be a query per render: not cacheable
    widget = field.widget
    return (name, type(field), str(field.label), str(field.help_text), field.required, field.disabled,
            field.show_hidden_initial, field.label_suffix, repr(form.get_initial_for_field(field, name)),
            repr(getattr(field, "choices", None)), type(widget), repr(sorted(vars(widget).items(), key=str)))


def form_html_key(form):
    """The cache key of an unbound form's fields' HTML, or None when it must be rendered each time."""
    if form.is_bound:
        return None
    try:
        fields = tuple(_field_key(form, name, field) for name, field in form.fields.items())
    except LookupError:
        return None
    return (type(form), form.prefix, form.auto_id, form.label_suffix, translation.get_language(),
            timezone.get_current_timezone_name(), fields)


@register.simple_tag
def form_fields(form):
    if form is None:
        return ""
    key = form_html_key(form)
    if key is not None:
        with _lock:
            html = _rendered.get(key)
            if html is not None:
                _rendered.move_to_end(key)
                return html
    html = mark_safe(get_template(FORM_FIELDS_TEMPLATE).render({"form": form}))  # nosec B308 B703: rendered by Django with autoescape
    if key is not None:
        with _lock:
            _rendered[key] = html
            while len(_rendered) > CACHED_FORMS_MAX:
                _rendered.popitem(last=False)
    return html


def form_fields_forget() -> None:
    """For tests: render every form afresh."""
    with _lock:
        _rendered.clear()
