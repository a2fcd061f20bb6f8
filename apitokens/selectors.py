from django.db.models import QuerySet

from .models import ApiToken


def api_tokens() -> QuerySet[ApiToken]:
    """Every token, newest first, with who holds, created and revoked it (the managers' page and admin)."""
    return ApiToken.objects.select_related("user", "created_by", "revoked_by").order_by("-created_at", "-id")
