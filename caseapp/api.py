"""Shared pieces of the JSON API."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import permissions, serializers

from caseapp.permissions import is_agent


class IsAgent(permissions.BasePermission):
    """Agents and managers work cases; any other signed-in user sees nothing."""

    message = "Only support agents and managers may do this."

    def has_permission(self, request, view):
        return is_agent(request.user)


def as_drf_error(exc: DjangoValidationError) -> serializers.ValidationError:
    """A service's ValidationError becomes a 400 with field errors."""
    if hasattr(exc, "message_dict"):
        return serializers.ValidationError(exc.message_dict)
    return serializers.ValidationError({"non_field_errors": exc.messages})
