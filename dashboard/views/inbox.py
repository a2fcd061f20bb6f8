"""Inbound email in the dashboard: the managers' list of messages caseapp could not read (kept raw, never lost),
one message's full text and sanitized HTML, and its raw source."""

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.http import content_disposition_header
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from inbox import selectors
from inbox.models import InboundMessage
from inbox.parsing import html_sanitize

from ..permissions import agent_required, manager_required, request_is_manager


@require_GET
@manager_required
def inbound_unprocessed(request):
    page = Paginator(selectors.inbound_unprocessed(), 50).get_page(request.GET.get("page"))
    return render(request, "dashboard/inbound_unprocessed.html", {"page": page})


def _inbound_for(request, pk) -> InboundMessage:
    """Agents read the messages on cases (they read every case); a message on no case is for managers."""
    message = get_object_or_404(InboundMessage.objects.defer("raw"), pk=pk)
    if message.case_id is None and not request_is_manager(request):
        raise PermissionDenied
    return message


@require_GET
@agent_required
def inbound_detail(request, pk):
    message = _inbound_for(request, pk)
    # stored sanitized; cleaned again here, so a change of the rules reaches messages stored before it (nh3's
    # output is safe to mark so: bandit's B308/B703 accepted)
    html = mark_safe(html_sanitize(message.html)) if message.html else ""  # nosec B308 B703
    return render(request, "dashboard/inbound_detail.html", {"message": message, "html": html})


@require_GET
@agent_required
def inbound_raw(request, pk):
    message = _inbound_for(request, pk)
    raw = InboundMessage.objects.values_list("raw", flat=True).get(pk=message.pk)
    response = HttpResponse(bytes(raw), content_type="application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(True, f"inbound-{message.pk}.eml")
    response["X-Content-Type-Options"] = "nosniff"
    return response
