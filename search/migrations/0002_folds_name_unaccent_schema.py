"""The folds name unaccent's schema: caseapp_fold() and caseapp_ident() called unaccent() and its dictionary by
the search_path, and pg_restore empties the search_path while it rebuilds the indexes on them (CVE-2018-1058), so
a restore could not build them. Now they call `<schema>.unaccent('<schema>.unaccent', ...)`, the schema being the
one the extension lives in (search 0001 created it in the first schema of the search_path, usually public).

Still IMMUTABLE, with the same results, so the indexes on them stay valid. PostgreSQL only.
"""

from django.db import migrations

QUALIFIED = r"""
CREATE OR REPLACE FUNCTION caseapp_fold(text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ SELECT lower({schema}.unaccent({dictionary}::regdictionary, $1)) $$;

CREATE OR REPLACE FUNCTION caseapp_ident(text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ SELECT upper(regexp_replace(lower({schema}.unaccent({dictionary}::regdictionary, $1)), '[^[:alnum:]]', '',
                                    'g')) $$;
"""


def qualified_sql(connection) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
                       " WHERE e.extname = 'unaccent'")
        (schema,) = cursor.fetchone()
    quoted = connection.ops.quote_name(schema)
    dictionary = "'" + f"{quoted}.unaccent".replace("'", "''") + "'"
    return QUALIFIED.format(schema=quoted, dictionary=dictionary)


BY_SEARCH_PATH = r"""
CREATE OR REPLACE FUNCTION caseapp_fold(text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ SELECT lower(unaccent('unaccent'::regdictionary, $1)) $$;

CREATE OR REPLACE FUNCTION caseapp_ident(text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ SELECT upper(regexp_replace(lower(unaccent('unaccent'::regdictionary, $1)), '[^[:alnum:]]', '', 'g')) $$;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(qualified_sql(schema_editor.connection))


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BY_SEARCH_PATH)


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
