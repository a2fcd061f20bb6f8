"""The stack test's data step that no API endpoint does, run in its own process against the stack's database.

    python -m tests.stack.stack_seed staff -> {"token": "<secret>", "courier": "StackCourier"}

`staff`: a manager (the apology's promise needs an owner), an API token for the scripts (a token is made by a
manager, through apitokens.services) and the courier the shipments go with. Everything else (orders, shipments,
tracking events) goes through /api/v1/.
"""

import json
import os
import sys

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


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseapp.settings")
    import django

    django.setup()
    if argv[:1] != ["staff"]:
        raise SystemExit(f"unknown step {argv[:1]}; the only step is: staff")
    print(json.dumps(staff()))


if __name__ == "__main__":
    main(sys.argv[1:])
