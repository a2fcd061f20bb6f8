"""The fair queue: arrival order, filters with their counts, and "take next"."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from caseapp import formatting
from cases import services as case_services
from cases.models import CaseCategory, CaseChannel, CaseStatus
from cases.selectors import (
    queue_counts_from_groups,
    queue_counts_snapshot,
    queue_filter_total,
    queue_listed_cases,
    queue_page_cases,
)

from ..forms import QueueFilterForm
from ..permissions import agent_required
from ..queue_rows import queue_rows


class _CountedPaginator(Paginator):
    """A paginator told its count (from the grouped counts) instead of asking the database."""

    def __init__(self, object_list, per_page, *, count: int):
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self):
        return self._known_count


@agent_required
def queue(request):
    now = timezone.now()
    form = QueueFilterForm(request.GET or None)
    filters = form.filters()
    snapshot = queue_counts_snapshot(now=now)
    counts = queue_counts_from_groups(snapshot.groups, user=request.user)
    total = queue_filter_total(snapshot.groups, user=request.user, filters=filters)
    # the paginator numbers the pages on the listed cases (never loaded: queue_page_cases loads the page's rows);
    # open cases are counted by the snapshot; a filter that lists resolved or closed ones counts them itself.
    cases = queue_listed_cases(user=request.user, filters=filters, now=now)
    paginator = (_CountedPaginator(cases, settings.DASHBOARD_PAGE_SIZE, count=total) if total is not None
                 else Paginator(cases, settings.DASHBOARD_PAGE_SIZE))
    page = paginator.get_page(request.GET.get("page"))
    offset = (page.number - 1) * paginator.per_page
    page.object_list = queue_page_cases(user=request.user, filters=filters, now=now, offset=offset,
                                        limit=paginator.per_page)
    context = {
        "form": form,
        "filters": filters,
        "page": page,
        "cases": page.object_list,
        "rows": queue_rows(page.object_list, now=now),
        "counts": counts,
        # the counts are a snapshot (recounted every DASHBOARD_QUEUE_COUNTS_SECONDS, at once after a change): say
        # when it was taken whenever it is not this very request's count
        "counted_at": formatting.time_medium(snapshot.counted_at) if snapshot.counted_at != now else "",
        "status_counts": [(value, _(label), counts.get(f"status:{value}")) for value, label in CaseStatus.choices],
        "category_counts": [(value, _(label), counts[f"category:{value}"]) for value, label in CaseCategory.choices],
        "channel_counts": [(value, _(label), counts[f"channel:{value}"]) for value, label in CaseChannel.choices],
    }
    template = "dashboard/_queue_table.html" if request.htmx else "dashboard/queue.html"
    return render(request, template, context)


@require_POST
@agent_required
def take_next(request):
    case = case_services.case_take_next(agent=request.user)
    if case is None:
        messages.info(request, _("Nobody is waiting: the queue has no unowned open case."))
        return redirect("dashboard:queue")
    messages.success(request, _("Case #%(number)s is yours now.") % {"number": case.arrival_number})
    return redirect("dashboard:case", pk=case.pk)
