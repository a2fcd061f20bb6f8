"""The four budgets every shop starts with, without an amount: no limit until a manager sets one."""

from django.conf import settings
from django.db import migrations

DEFAULTS = (
    ("marketing", "Marketing"),
    ("customer_care", "Customer care"),
    ("logistics", "Logistics"),
    ("quality", "Quality (shop's own mistakes)"),
)


def create_defaults(apps, schema_editor):
    Budget = apps.get_model("policies", "Budget")
    BudgetChange = apps.get_model("policies", "BudgetChange")
    currency = getattr(settings, "CASEAPP_DEFAULT_CURRENCY", "EUR")
    for slug, name in DEFAULTS:
        budget, created = Budget.objects.get_or_create(
            slug=slug, defaults={"name": name, "currency": currency, "period": "month", "amount": None})
        if created:
            BudgetChange.objects.create(
                budget=budget, changed_by=None, before={},
                after={"name": name, "currency": currency, "period": "month", "amount": None, "owner": None,
                       "owner_name": "", "is_active": True},
                note="Created with caseapp: no limit until a manager sets an amount")


class Migration(migrations.Migration):
    dependencies = [("policies", "0005_budgets")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
