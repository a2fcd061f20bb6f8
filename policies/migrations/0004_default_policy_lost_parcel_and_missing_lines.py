"""The shipped default policy changed (issue 10): a lost-parcel refund needs the parcel to be lost, and a wrong or
incomplete order is replaced at the cost of what the delivery check found missing, not the whole order.

Versions are immutable, so a shop still running the shipped default (no author, unchanged since) gets the new
default as a new active version; a shop that wrote its own version keeps it. A fresh database already has the new
default as version 1 (0002 reads the file), so this finds nothing to do there.
"""

import json
from pathlib import Path

import yaml
from django.db import migrations
from django.db.models import Max

DEFAULT_POLICY = Path(__file__).resolve().parent.parent / "default_policy.yaml"


def update_shipped_default(apps, schema_editor):
    PolicyVersion = apps.get_model("policies", "PolicyVersion")
    active = PolicyVersion.objects.filter(is_active=True).first()
    if active is None or active.author_id is not None or not active.note.startswith("Default policy"):
        return
    document = json.loads(json.dumps(yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8")), default=str))
    if active.document == document:
        return
    from django.utils import timezone

    number = (PolicyVersion.objects.aggregate(n=Max("number"))["n"] or 0) + 1
    PolicyVersion.objects.filter(pk=active.pk).update(is_active=False)
    PolicyVersion.objects.create(
        number=number, document=document, is_active=True, activated_at=timezone.now(),
        note="Default policy shipped with caseapp, updated: a lost-parcel refund needs the parcel lost; "
             "replacements cost what is missing",
    )


class Migration(migrations.Migration):
    dependencies = [("policies", "0003_remedy_rationale_data")]

    operations = [migrations.RunPython(update_shipped_default, migrations.RunPython.noop)]
