"""Files on a case: the upload form on the case page and the one view that serves a stored file, to staff only."""

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from caseapp import formatting, permissions
from cases import attachments as rules
from cases.models import Attachment, AttachmentSource
from cases.services import attachment_store

from ..permissions import agent_required, check_can_work_case


class AttachmentUploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File"), allow_empty_file=False,
                           help_text=gettext_lazy("A photo of what arrived, a receipt, a document."))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > rules.max_bytes():
            raise forms.ValidationError(
                _("This file is %(size)s; the limit is %(limit)s.")
                % {"size": formatting.file_size(upload.size), "limit": formatting.file_size(rules.max_bytes())})
        upload.seek(0)
        data = upload.read()
        kind = rules.content_type_decide(filename=upload.name, declared=upload.content_type or "", data=data)
        if not rules.type_allowed(kind):
            raise forms.ValidationError(_("Files of this type are not accepted."))
        self.data_bytes = data
        return upload


def case_attachments_context(request, case, *, can_work: bool, form=None) -> dict:
    """The case page's files part (templates/dashboard/_case_attachments.html)."""
    return {
        "attachments": list(case.attachments.select_related("uploaded_by").order_by("created_at", "id")),
        "form": (form or AttachmentUploadForm()) if can_work else None,
        "max_size": formatting.file_size(rules.max_bytes()),
    }


@require_POST
@agent_required
def attachment_upload(request, pk):
    from .cases import _back, _case, _invalid

    case = _case(pk)
    check_can_work_case(request, case)
    form = AttachmentUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _invalid(request, case, attachment_form=form)
    upload = form.cleaned_data["file"]
    stored = attachment_store(case=case, filename=upload.name, content_type=upload.content_type or "",
                              data=form.data_bytes, source=AttachmentSource.AGENT_UPLOAD, by=request.user)
    if stored is None:  # the limits changed between the form and the service: the timeline says why
        messages.error(request, _("The file was not kept: see the timeline."))
    else:
        messages.success(request, _("File attached."))
    return _back(case)


@require_GET
@agent_required
def attachment_download(request, pk):
    """A stored file, to signed-in staff who may see its case: with the type caseapp decided, inline only for
    PNG, JPEG, GIF and WebP images, as a download for everything else, never sniffed by the browser."""
    attachment = get_object_or_404(Attachment.objects.select_related("case"), pk=pk)
    permissions.require(permissions.can_view_case(request.user, attachment.case))
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404(_("This file is no longer in the storage.")) from exc
    inline = rules.is_served_inline(attachment.safe_content_type)
    response = FileResponse(handle, content_type=rules.serving_content_type(attachment.safe_content_type))
    response["Content-Disposition"] = content_disposition_header(not inline, attachment.filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
