from django.db import migrations

TRIGGER_SQL = """
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

DROP_SQL = """
DROP TRIGGER IF EXISTS cases_caseevent_no_update_delete ON cases_caseevent;
DROP FUNCTION IF EXISTS cases_caseevent_append_only();
"""

ROLES = ("agent", "manager")


def install_trigger(apps, schema_editor):
    # PostgreSQL guards the timeline even against raw SQL. The embedded SQLite default relies on the
    # model and queryset guards (a SQLite trigger would also block the test runner's table flush).
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER_SQL, params=None)


def remove_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL, params=None)


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(install_trigger, remove_trigger),
        migrations.RunPython(create_roles, remove_roles),
    ]
