"""Search on PostgreSQL: the extensions, the folds as SQL functions, a text search configuration per language
(with unaccent), trigram and identifier indexes on the searched columns, and the case search document kept
current by triggers (so imports, bulk loads and every service are covered, and no query rebuilds it).

On other databases (the embedded SQLite) this migration only creates the (unused) document table: search there
runs plain identifier and contains matches with the folds registered by search.apps.
"""

import django.contrib.postgres.search
import django.db.models.deletion
from django.db import migrations, models

LANGUAGE_CONFIGS = {"en": "english", "ro": "romanian", "ru": "russian", "it": "italian"}

FUNCTIONS = r"""
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;

CREATE OR REPLACE FUNCTION caseapp_fold(text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ SELECT lower(unaccent('unaccent'::regdictionary, $1)) $$;

CREATE OR REPLACE FUNCTION caseapp_ident(text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ SELECT upper(regexp_replace(lower(unaccent('unaccent'::regdictionary, $1)), '[^[:alnum:]]', '', 'g')) $$;

CREATE OR REPLACE FUNCTION caseapp_phone_key(text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ SELECT right(regexp_replace($1, '\D', '', 'g'), 9) $$;
"""

CONFIG_TEMPLATE = """
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'caseapp_{code}') THEN
    CREATE TEXT SEARCH CONFIGURATION caseapp_{code} (COPY = {base});
    ALTER TEXT SEARCH CONFIGURATION caseapp_{code}
      ALTER MAPPING FOR hword, hword_part, word WITH unaccent, {stem};
  END IF;
END $$;
"""

CASE_DOCUMENT = r"""
CREATE OR REPLACE FUNCTION search_case_config(lang text) RETURNS regconfig
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT CASE lang WHEN 'ro' THEN 'caseapp_ro'::regconfig WHEN 'ru' THEN 'caseapp_ru'::regconfig
                         WHEN 'it' THEN 'caseapp_it'::regconfig ELSE 'caseapp_en'::regconfig END $$;

-- The whole document of one case: subject (A), description (B), timeline texts and promises (C).
CREATE OR REPLACE FUNCTION search_casedocument_refresh(p_case bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_lang text;
  v_cfg regconfig;
BEGIN
  SELECT cu.preferred_language INTO v_lang
    FROM cases_case c JOIN customers_customer cu ON cu.id = c.customer_id WHERE c.arrival_number = p_case;
  IF NOT FOUND THEN RETURN; END IF;
  v_cfg := search_case_config(v_lang);
  INSERT INTO search_casedocument (case_id, language, document)
  SELECT c.arrival_number, v_lang,
         setweight(to_tsvector(v_cfg, coalesce(c.subject, '')), 'A')
      || setweight(to_tsvector(v_cfg, coalesce(c.description, '')), 'B')
      || setweight(to_tsvector(v_cfg, coalesce(
           (SELECT string_agg(e.text, ' ') FROM cases_caseevent e WHERE e.case_id = c.arrival_number), '')), 'C')
      || setweight(to_tsvector(v_cfg, coalesce(
           (SELECT string_agg(p.description, ' ') FROM cases_promise p WHERE p.case_id = c.arrival_number), '')), 'C')
    FROM cases_case c WHERE c.arrival_number = p_case
  ON CONFLICT (case_id) DO UPDATE SET language = EXCLUDED.language, document = EXCLUDED.document;
END $$;

CREATE OR REPLACE FUNCTION search_case_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM search_casedocument_refresh(NEW.arrival_number);
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION search_case_part_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM search_casedocument_refresh(NEW.case_id);
  RETURN NULL;
END $$;

-- The timeline is append-only: a new event adds its words, without re-reading the case's history.
CREATE OR REPLACE FUNCTION search_case_event_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF coalesce(NEW.text, '') <> '' THEN
    UPDATE search_casedocument d
       SET document = d.document || setweight(to_tsvector(search_case_config(d.language), NEW.text), 'C')
     WHERE d.case_id = NEW.case_id;
  END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION search_customer_language_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  FOR r IN SELECT arrival_number FROM cases_case WHERE customer_id = NEW.id LOOP
    PERFORM search_casedocument_refresh(r.arrival_number);
  END LOOP;
  RETURN NULL;
END $$;

CREATE TRIGGER search_case_changed AFTER INSERT OR UPDATE OF subject, description, customer_id ON cases_case
  FOR EACH ROW EXECUTE FUNCTION search_case_changed();
CREATE TRIGGER search_promise_changed AFTER INSERT OR UPDATE OF description ON cases_promise
  FOR EACH ROW EXECUTE FUNCTION search_case_part_changed();
CREATE TRIGGER search_case_event_added AFTER INSERT ON cases_caseevent
  FOR EACH ROW EXECUTE FUNCTION search_case_event_added();
CREATE TRIGGER search_customer_language_changed AFTER UPDATE OF preferred_language ON customers_customer
  FOR EACH ROW WHEN (OLD.preferred_language IS DISTINCT FROM NEW.preferred_language)
  EXECUTE FUNCTION search_customer_language_changed();

-- Cases that exist already.
SELECT search_casedocument_refresh(arrival_number) FROM cases_case;
"""

INDEXES = r"""
CREATE INDEX search_customer_name_trgm ON customers_customer USING gin (caseapp_fold(name) gin_trgm_ops);
CREATE INDEX search_customer_email_lower ON customers_customer (lower(email));
CREATE INDEX search_customer_phone_key ON customers_customer (caseapp_phone_key(phone));
CREATE INDEX search_order_number_ident ON orders_order (caseapp_ident(number));
CREATE INDEX search_order_number_trgm ON orders_order USING gin (caseapp_ident(number) gin_trgm_ops);
CREATE INDEX search_orderline_words ON orders_orderline USING gin (to_tsvector('caseapp_simple', name));
CREATE INDEX search_shipment_tracking_ident ON orders_shipment (caseapp_ident(tracking_number));
CREATE INDEX search_shipment_tracking_trgm ON orders_shipment USING gin (caseapp_ident(tracking_number) gin_trgm_ops);
CREATE INDEX search_voucher_code_ident ON vouchers_voucher (caseapp_ident(code));
CREATE INDEX search_voucher_code_trgm ON vouchers_voucher USING gin (caseapp_ident(code) gin_trgm_ops);
CREATE INDEX search_casedocument_gin ON search_casedocument USING gin (document);
"""

DROP = r"""
DROP TRIGGER IF EXISTS search_case_changed ON cases_case;
DROP TRIGGER IF EXISTS search_promise_changed ON cases_promise;
DROP TRIGGER IF EXISTS search_case_event_added ON cases_caseevent;
DROP TRIGGER IF EXISTS search_customer_language_changed ON customers_customer;
DROP INDEX IF EXISTS search_customer_name_trgm, search_customer_email_lower, search_customer_phone_key,
  search_order_number_ident, search_order_number_trgm, search_orderline_words, search_shipment_tracking_ident,
  search_shipment_tracking_trgm, search_voucher_code_ident, search_voucher_code_trgm;
DROP FUNCTION IF EXISTS search_customer_language_changed(), search_case_event_added(), search_case_part_changed(),
  search_case_changed(), search_casedocument_refresh(bigint), search_case_config(text);
"""


def _configs_sql():
    parts = [CONFIG_TEMPLATE.format(code=code, base=base, stem=f"{base}_stem")
             for code, base in LANGUAGE_CONFIGS.items()]
    parts.append(CONFIG_TEMPLATE.format(code="simple", base="simple", stem="simple"))
    return "\n".join(parts)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTIONS)
    schema_editor.execute(_configs_sql())
    schema_editor.execute(CASE_DOCUMENT)
    schema_editor.execute(INDEXES)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(DROP)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("cases", "0002_timeline_append_only_and_roles"),
        ("customers", "0001_initial"),
        ("orders", "0001_initial"),
        ("vouchers", "0002_voucherreminder"),
    ]

    operations = [
        migrations.CreateModel(
            name="CaseDocument",
            fields=[
                ("case", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True,
                                              related_name="search_document", serialize=False, to="cases.case")),
                ("language", models.CharField(max_length=2)),
                ("document", django.contrib.postgres.search.SearchVectorField()),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
