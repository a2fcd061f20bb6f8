"""Inbound email as /api/v1/ shows it (read-only): the reply text first, the full text, the sanitized HTML (never
the customer's raw HTML), the files kept from it and how it was threaded onto its case."""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inbox.models import InboundMessage, InboundProblem
from inbox.parsing import html_sanitize


class InboundAttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    filename = serializers.CharField(read_only=True)
    content_type = serializers.CharField(source="safe_content_type", read_only=True,
                                         help_text="The type caseapp serves it with (decided from the bytes).")
    size = serializers.IntegerField(read_only=True, help_text="In bytes.")
    download_url = serializers.SerializerMethodField(help_text="Served to signed-in staff who may see the case.")

    @extend_schema_field(OpenApiTypes.URI)
    def get_download_url(self, attachment) -> str:
        url = reverse("dashboard:attachment", args=[attachment.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class InboundMessageSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-v1:inbound-message-detail")
    problem = serializers.ChoiceField(choices=InboundProblem.choices, allow_blank=True, read_only=True,
                                      help_text="Why an unprocessed message could not be processed (\"\" otherwise).")

    class Meta:
        model = InboundMessage
        fields = ["id", "url", "message_id", "source", "status", "problem", "reason", "case", "from_address",
                  "from_name", "subject", "sent_at", "received_at", "language", "text_reply"]
        read_only_fields = fields


class InboundMessageDetailSerializer(InboundMessageSerializer):
    """One message: what the customer wrote (``text_reply``), the whole text, the sanitized HTML, the files and
    how it found its case."""

    html = serializers.SerializerMethodField(help_text="Sanitized (nh3): safe to show; \"\" when there was none.")
    attachments = serializers.SerializerMethodField()
    threading = serializers.SerializerMethodField(
        help_text="How the case was found: threaded_by is one of in_reply_to, references, token, subject, order, "
                  "or \"\" for a case the message opened (or none).")

    class Meta(InboundMessageSerializer.Meta):
        fields = [*InboundMessageSerializer.Meta.fields, "to_addresses", "text", "html", "attachments",
                  "threading"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_html(self, message) -> str:
        # stored sanitized; cleaned again here, so a change of the rules reaches messages stored before it
        return html_sanitize(message.html) if message.html else ""

    @extend_schema_field(InboundAttachmentSerializer(many=True))
    def get_attachments(self, message):
        files = self.context.get("attachments", {}).get(message.pk, [])
        return InboundAttachmentSerializer(files, many=True, context=self.context).data

    @extend_schema_field({"type": "object", "properties": {
        "threaded_by": {"type": "string"}, "in_reply_to": {"type": "string"},
        "references": {"type": "array", "items": {"type": "string"}}},
        "required": ["threaded_by", "in_reply_to", "references"]})
    def get_threading(self, message) -> dict:
        return {"threaded_by": message.threaded_by, "in_reply_to": message.in_reply_to,
                "references": [str(value) for value in (message.references or [])]}
