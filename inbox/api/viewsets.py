"""Inbound email in /api/v1/: read-only. Agents read the messages on the cases they may see; a message on no
case (kept raw because it could not be read) is for managers, as in the dashboard."""

from django_filters import rest_framework as filters
from rest_framework import viewsets
from rest_framework.response import Response

from caseapp.api_v1 import IdCursorPagination, IdFilter, IsAgent
from inbox import selectors
from inbox.models import InboundMessage, InboundStatus

from .serializers import InboundMessageDetailSerializer, InboundMessageSerializer


class InboundMessageFilter(filters.FilterSet):
    case = IdFilter(field_name="case_id")
    status = filters.ChoiceFilter(choices=InboundStatus.choices)

    class Meta:
        model = InboundMessage
        fields = ["case", "status"]


class InboundMessageViewSet(viewsets.ReadOnlyModelViewSet):
    """Inbound emails, newest first."""

    permission_classes = [IsAgent]
    pagination_class = IdCursorPagination
    filterset_class = InboundMessageFilter
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self):
        return selectors.inbound_visible_to(user=self.request.user)

    def get_serializer_class(self):
        return InboundMessageDetailSerializer if self.action == "retrieve" else InboundMessageSerializer

    def retrieve(self, request, *args, **kwargs):
        message = self.get_object()
        context = {**self.get_serializer_context(),
                   "attachments": {message.pk: selectors.inbound_attachments(message=message)}}
        return Response(InboundMessageDetailSerializer(message, context=context).data)
