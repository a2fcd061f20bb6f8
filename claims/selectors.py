"""Read queries for courier claims."""

from orders.models import Courier

from .models import Claim


def claims_list(*, status: str = "", courier=None):
    """Claims for the managers' page, the nearest deadline first; filtered by status and courier."""
    claims = Claim.objects.select_related("courier", "case__customer", "case__owner", "remedy")
    if status:
        claims = claims.filter(status=status)
    if courier is not None:
        claims = claims.filter(courier=courier)
    return claims.order_by("deadline", "id")


def case_claims(*, case) -> list[Claim]:
    return list(Claim.objects.filter(case=case).select_related("courier").order_by("id"))


def couriers_with_claims():
    return Courier.objects.filter(claims__isnull=False).distinct().order_by("name")
