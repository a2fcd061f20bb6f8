"""The queue's rows, ready to print: every label, date and clock of a page computed in one pass, once per page.

The template used to do this per row (a dozen gettext calls, the `when` and `due_badge` tags and Babel's date
formatting on each of 50 rows: three quarters of the page's time). The labels are translated once per page here,
the dates go through the cached formatters (caseapp.formatting, dashboard.timefmt), and the markup is the same
as the tags print (dashboard_tags.when, dashboard_tags.due_badge).
"""

from dataclasses import dataclass, replace
from html import escape

from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext

from caseapp import formatting
from cases.models import CaseCategory, CaseChannel, CaseStatus

from . import timefmt

_NUMBER = 2_147_483_647  # a placeholder case number, replaced in the one reversed URL


# One row of the queue's table; the table's head is in templates/dashboard/_queue_table.html.
ROW_HTML = (
    '<tr class="{overdue}">\n'
    '    <td><a href="{url}">#{number}</a><br>\n      <small class="muted">{arrived}</small></td>\n'
    '    <td>{customer}\n      {rare}\n      {date_critical}\n      <br><small class="muted">{subject}</small></td>\n'
    '    <td>{category}</td>\n    <td>{channel}</td>\n    <td>{owner}</td>\n    <td>{waited}</td>\n'
    '    <td>{first_response}</td>\n    <td>{resolution}</td>\n    <td>{promises}</td>\n  </tr>\n'
)


@dataclass(frozen=True)
class QueueRow:
    case: object
    url: str
    is_overdue: bool
    arrived: SafeString
    waited: str
    subject: str
    category: str
    channel: str
    owner: str
    is_date_critical: bool
    promised: str  # the date-critical order's promised delivery date, "Dec 5", "5 dec."
    first_response: SafeString | str
    resolution: SafeString | str
    promises: SafeString | str
    html: SafeString = SafeString("")


def queue_rows(cases, *, now=None) -> list[QueueRow]:
    """One QueueRow per case of queue_page_cases (or queue_cases), in their order."""
    now = now or timezone.now()
    language = translation.get_language()
    categories = {value: gettext(str(label)) for value, label in CaseCategory.choices}
    channels = {value: gettext(str(label)) for value, label in CaseChannel.choices}
    statuses = {value: gettext(str(label)) for value, label in CaseStatus.choices}
    url = reverse("dashboard:case", args=[_NUMBER])
    dash = mark_safe('<span class="muted">—</span>')  # nosec B308 B703: every value in it is escaped
    rows = []
    for case in cases:
        is_open = case.is_open
        if case.open_promise_count:
            due = case.next_promise_due
            promises = mark_safe('<span class="tag{}">{} · {}</span>'.format(  # nosec B308 B703: every value in it is escaped
                " tag-alert" if due and due < now else "", case.open_promise_count,
                escape(timefmt.due_phrase(due, now, language=language))))
        else:
            promises = dash
        order = case.order
        is_date_critical = order is not None and order.is_date_critical
        subject = case.subject
        rows.append(QueueRow(
            case=case,
            url=url.replace(str(_NUMBER), str(case.arrival_number)),
            is_overdue=is_open and bool(case.resolution_due_at) and case.resolution_due_at < now,
            arrived=timefmt.time_html(case.arrived_at, "d M H:i", language=language),
            waited=timefmt.span(now - case.arrived_at, language=language) if case.arrived_at else "",
            subject=subject if len(subject) <= 60 else Truncator(subject).chars(60),
            category=categories.get(case.category, case.category),
            channel=channels.get(case.channel, case.channel),
            owner=case.owner.get_username() if case.owner_id else "",
            is_date_critical=is_date_critical,
            promised=formatting.date_brief_local(order.promised_delivery_date, language) if is_date_critical
            and order.promised_delivery_date else "",
            first_response=(timefmt.due_badge_html(case.first_response_due_at, case.first_responded_at, now=now,
                                                   language=language)
                            if is_open else dash),
            resolution=(timefmt.due_badge_html(case.resolution_due_at, now=now, language=language) if is_open
                        else statuses.get(case.status, case.status)),
            promises=promises,
        ))
    labels = queue_row_labels()
    for index, row in enumerate(rows):
        case = row.case
        order = case.order
        date_critical = mark_safe('<span class="tag tag-date" title="{}">{} {}</span>'.format(  # nosec B308 B703: every value in it is escaped
            escape(order.occasion), escape(labels["date_critical"]), escape(row.promised))) if row.is_date_critical else ""
        rows[index] = replace(row, html=mark_safe(ROW_HTML.format(  # nosec B308 B703: every value in it is escaped
            overdue="row-overdue" if row.is_overdue else "", url=escape(row.url), number=case.arrival_number,
            arrived=row.arrived, customer=escape(case.customer.name), rare=labels["rare"] if case.is_rare_complainer
            else "", date_critical=date_critical, subject=escape(row.subject), category=escape(row.category),
            channel=escape(row.channel), owner=escape(row.owner) if row.owner else labels["unowned"],
            waited=escape(row.waited), first_response=_html(row.first_response), resolution=_html(row.resolution),
            promises=_html(row.promises))))
    return rows


def _html(value) -> str:
    return value if isinstance(value, SafeString) else escape(value)

def queue_row_labels() -> dict:
    """The few fixed bits of the rows, translated once per page."""
    return {
        "rare": format_html('<span class="tag tag-quiet" title="{}">{}</span>',
                            gettext("No other case in the past year"), gettext("rarely complains")),
        "date_critical": gettext("date-critical"),
        "unowned": format_html('<span class="muted">{}</span>', gettext("unowned")),
    }
