"""The fair queue: arrival order, filters with their counts, and "take next"."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases import services as case_services
from cases.models import CaseCategory, CaseChannel, CaseStatus
from cases.selectors import queue_cases, queue_counts

from ..forms import QueueFilterForm
from ..permissions import agent_required


@agent_required
def queue(request):
    now = timezone.now()
    form = QueueFilterForm(request.GET or None)
    filters = form.filters()
    paginator = Paginator(queue_cases(user=request.user, filters=filters, now=now), settings.DASHBOARD_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    counts = queue_counts(user=request.user, now=now)
    context = {
        "form": form,
        "filters": filters,
        "page": page,
        "cases": page.object_list,
        "counts": counts,
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
