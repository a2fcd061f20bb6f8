"""Policy version 1 is the default policy shipped with caseapp; versions are immutable (PostgreSQL trigger)."""

import json
from pathlib import Path

import yaml
from django.db import migrations

DEFAULT_POLICY = Path(__file__).resolve().parent.parent / "default_policy.yaml"

TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION policies_policyversion_immutable() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'Policy versions are immutable: they are never deleted'
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.number IS DISTINCT FROM OLD.number OR NEW.document IS DISTINCT FROM OLD.document
       OR NEW.author_id IS DISTINCT FROM OLD.author_id OR NEW.note IS DISTINCT FROM OLD.note
       OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
        RAISE EXCEPTION 'Policy versions are immutable: create a new version instead'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS policies_policyversion_immutable ON policies_policyversion;
CREATE TRIGGER policies_policyversion_immutable
    BEFORE UPDATE OR DELETE ON policies_policyversion
    FOR EACH ROW EXECUTE FUNCTION policies_policyversion_immutable();
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS policies_policyversion_immutable ON policies_policyversion;
DROP FUNCTION IF EXISTS policies_policyversion_immutable();
"""


def install_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER_SQL, params=None)


def remove_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL, params=None)


def create_default_policy(apps, schema_editor):
    PolicyVersion = apps.get_model("policies", "PolicyVersion")
    if PolicyVersion.objects.exists():
        return
    document = json.loads(json.dumps(yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8")), default=str))
    from django.utils import timezone

    PolicyVersion.objects.create(
        number=1, document=document, note="Default policy shipped with caseapp", is_active=True,
        activated_at=timezone.now(),
    )


class Migration(migrations.Migration):
    dependencies = [("policies", "0001_initial")]

    operations = [
        migrations.RunPython(create_default_policy, migrations.RunPython.noop),
        migrations.RunPython(install_trigger, remove_trigger),
    ]
