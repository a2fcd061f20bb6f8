"""The stack test's data steps that no API endpoint does, run in their own process against the stack's database.

    python -m tests.stack.stack_seed staff          -> {"token": "<secret>", "courier": "StackCourier"}
    python -m tests.stack.stack_seed shipments N... -> {"<tracking number>": <shipment id>, ...}

`staff`: a manager (the apology's promise needs an owner) and an API token for the scripts (a token is made by a
manager, through apitokens.services). `shipments`: one shipment in transit per order number given (the API has
no endpoint that creates a shipment: the dashboard's form and the shop's integrations do), through
orders.services.shipment_create.
"""

import json
import os
import sys
from datetime import timedelta

COURIER = "StackCourier"


def tracking_number(order_number: str) -> str:
    return f"TRK-{order_number}"


def staff() -> dict:
    from django.contrib.auth.models import Group, User

    from apitokens.services import api_token_create
    from orders.models import Courier

    manager = User.objects.create_user("stack-manager", email="stack-manager@shop.example", first_name="Maria")
    manager.groups.add(Group.objects.get_or_create(name="manager")[0])
    _token, secret = api_token_create(user=manager, name="stack test script", by=manager)
    Courier.objects.get_or_create(name=COURIER)
    return {"token": secret, "courier": COURIER}


def shipments(order_numbers: list[str]) -> dict:
    from django.db import transaction
    from django.utils import timezone

    from orders.models import Courier, Order, ShipmentStatus
    from orders.services import shipment_create

    courier = Courier.objects.get(name=COURIER)
    handed_over = timezone.now() - timedelta(hours=20)
    made = {}
    with transaction.atomic():
        for order in Order.objects.filter(number__in=order_numbers).order_by("number"):
            shipment = shipment_create(order=order, courier=courier, tracking_number=tracking_number(order.number),
                                       handed_over_at=handed_over, status=ShipmentStatus.IN_TRANSIT)
            made[shipment.tracking_number] = shipment.pk
    return made


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseapp.settings")
    import django

    django.setup()
    step, args = argv[0], argv[1:]
    result = staff() if step == "staff" else shipments(args)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
