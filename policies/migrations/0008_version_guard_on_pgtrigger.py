"""The immutable policy versions' trigger moves onto django-pgtrigger (PolicyVersion.Meta.triggers, the same
rule: never deleted, only `is_active` and `activated_at` change): this drops the hand-written trigger and
function of policies 0002. With PGTRIGGER_MIGRATIONS = False the new trigger is not a migration operation:
`migrate` installs it once the migrations ran (PGTRIGGER_INSTALL_ON_MIGRATE), the test database's included.
Reversed, the hand-written trigger comes back. PostgreSQL only.
"""

from django.db import migrations

HAND_WRITTEN = """
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

DROP_HAND_WRITTEN = """
DROP TRIGGER IF EXISTS policies_policyversion_immutable ON policies_policyversion;
DROP FUNCTION IF EXISTS policies_policyversion_immutable();
"""


def drop_hand_written(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_HAND_WRITTEN, params=None)


def restore_hand_written(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(HAND_WRITTEN, params=None)


class Migration(migrations.Migration):
    dependencies = [("policies", "0007_remedy_payment_and_notice")]

    operations = [migrations.RunPython(drop_hand_written, restore_hand_written)]
