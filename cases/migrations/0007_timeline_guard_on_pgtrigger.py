"""The append-only timeline's trigger moves onto django-pgtrigger (CaseEvent.Meta.triggers): this drops the
hand-written trigger and function of cases 0002. With PGTRIGGER_MIGRATIONS = False the new trigger is not a
migration operation: `migrate` installs it once the migrations ran (PGTRIGGER_INSTALL_ON_MIGRATE), the test
database's included. Reversed, the hand-written trigger comes back. PostgreSQL only (SQLite has the model and
queryset guards).
"""

from django.db import migrations

HAND_WRITTEN = """
CREATE OR REPLACE FUNCTION cases_caseevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'The case timeline is append-only: % on cases_caseevent is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS cases_caseevent_no_update_delete ON cases_caseevent;
CREATE TRIGGER cases_caseevent_no_update_delete
    BEFORE UPDATE OR DELETE ON cases_caseevent
    FOR EACH ROW EXECUTE FUNCTION cases_caseevent_append_only();
"""

DROP_HAND_WRITTEN = """
DROP TRIGGER IF EXISTS cases_caseevent_no_update_delete ON cases_caseevent;
DROP FUNCTION IF EXISTS cases_caseevent_append_only();
"""


def drop_hand_written(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_HAND_WRITTEN, params=None)


def restore_hand_written(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(HAND_WRITTEN, params=None)


class Migration(migrations.Migration):
    dependencies = [("cases", "0006_attachment")]

    operations = [migrations.RunPython(drop_hand_written, restore_hand_written)]
