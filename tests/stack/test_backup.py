"""Backups: scripts/backup.sh (and manage.py backup) with pg_dump, scripts/restore.sh into a fresh database."""

import os
import secrets
import shutil
import subprocess
from pathlib import Path

import psycopg2
import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection

from customers.models import Customer
from orders.models import Order
from tests.factories import CustomerFactory, OrderFactory

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.postgres]


def url(name: str) -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def admin(sql: str) -> None:
    db = connection.settings_dict
    conn = psycopg2.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
                            password=db.get("PASSWORD") or None, dbname="postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
    finally:
        conn.close()


def table_counts(database_url: str) -> dict[str, int]:
    conn = psycopg2.connect(database_url)
    try:
        with conn.cursor() as cursor:
            cursor.execute("select tablename from pg_tables where schemaname = 'public' order by 1")
            tables = [row[0] for row in cursor.fetchall()]
            counts = {}
            for table in tables:
                cursor.execute(f'select count(*) from "{table}"')
                counts[table] = cursor.fetchone()[0]
            return counts
    finally:
        conn.close()


def schema_objects(database_url: str) -> set[tuple[str, str]]:
    """The indexes and the triggers (the append-only guards, the search vectors): a restore must bring them too."""
    conn = psycopg2.connect(database_url)
    try:
        with conn.cursor() as cursor:
            cursor.execute("select 'index', indexname from pg_indexes where schemaname = 'public' union all "
                           "select 'trigger', tgname from pg_trigger where not tgisinternal")
            return set(cursor.fetchall())
    finally:
        conn.close()


def run(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True,
                          text=True, timeout=180)


@pytest.fixture
def committed(transactional_db):
    """Committed rows (pg_dump sees only those); the role groups are put back after the flush."""
    yield
    for name in ("agent", "manager"):
        Group.objects.get_or_create(name=name)


@pytest.fixture
def fresh_database():
    name = f"caseapp_restore_{secrets.token_hex(4)}"
    admin(f'CREATE DATABASE "{name}"')
    try:
        yield url(name)
    finally:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(autouse=True)
def _pg_tools():
    if not (shutil.which("pg_dump") and shutil.which("pg_restore") and shutil.which("psql")):
        pytest.skip("needs pg_dump, pg_restore and psql (postgresql-client)")


def test_a_backup_restored_into_a_fresh_database_has_every_row(committed, fresh_database, tmp_path):
    # given customers and their orders, committed
    ana = CustomerFactory(name="Ana Ionescu", email="ana.ionescu@mail.example", preferred_language="ro")
    for n in range(5):
        OrderFactory(customer=ana if n % 2 else CustomerFactory(), number=f"BK-{n}")
    source = url(connection.settings_dict["NAME"])
    # when it is backed up and restored into an empty database
    dump = tmp_path / "nightly" / "caseapp.dump"
    backed_up = run(ROOT / "scripts/backup.sh", dump, env={"DATABASE_URL": source})
    assert backed_up.returncode == 0, backed_up.stderr
    assert backed_up.stdout.strip() == str(dump) and dump.stat().st_size > 0
    assert not dump.with_name("caseapp.dump.part").exists()
    restored = run(ROOT / "scripts/restore.sh", dump, fresh_database)
    assert restored.returncode == 0, restored.stderr
    # then every table has the same rows, and the customers and orders are there with their values
    counts = table_counts(fresh_database)
    assert counts == table_counts(source)
    objects = schema_objects(fresh_database)
    assert objects == schema_objects(source) and ("index", "search_customer_name_trgm") in objects
    assert counts["customers_customer"] == Customer.objects.count() == 4
    assert counts["orders_order"] == Order.objects.count() == 5
    conn = psycopg2.connect(fresh_database)
    try:
        with conn.cursor() as cursor:
            cursor.execute("select c.name, c.preferred_language, count(o.id) from customers_customer c "
                           "join orders_order o on o.customer_id = c.id where c.email = %s group by 1, 2",
                           ["ana.ionescu@mail.example"])
            assert cursor.fetchall() == [("Ana Ionescu", "ro", 2)]
            cursor.execute("select app, name from django_migrations order by id desc limit 1")
            assert cursor.fetchone() is not None  # the schema's history came too: migrate is a no-op after it
    finally:
        conn.close()


def test_restore_refuses_a_database_that_is_not_empty(committed, fresh_database, tmp_path):
    CustomerFactory(email="kept@mail.example")
    source = url(connection.settings_dict["NAME"])
    dump = tmp_path / "caseapp.dump"
    assert run(ROOT / "scripts/backup.sh", dump, env={"DATABASE_URL": source}).returncode == 0
    assert run(ROOT / "scripts/restore.sh", dump, fresh_database).returncode == 0
    # a second restore over the first would mix two databases: refused, nothing changed
    again = run(ROOT / "scripts/restore.sh", dump, fresh_database)
    assert again.returncode == 1 and "empty database" in again.stderr
    assert table_counts(fresh_database)["customers_customer"] == 1


def test_backup_refuses_a_database_that_is_not_postgresql(tmp_path):
    refused = run(ROOT / "scripts/backup.sh", tmp_path / "x.dump", env={"DATABASE_URL": "sqlite:///var/db.sqlite3"})
    assert refused.returncode == 2 and "PostgreSQL" in refused.stderr
    assert not (tmp_path / "x.dump").exists()


def test_manage_py_backup_writes_a_dump_pg_restore_can_read(committed, tmp_path, capsys):
    CustomerFactory(email="listed@mail.example")
    dump = tmp_path / "by-command.dump"
    call_command("backup", output=str(dump))
    assert capsys.readouterr().out.strip() == str(dump)
    listing = run("pg_restore", "--list", dump)
    assert listing.returncode == 0, listing.stderr
    assert "TABLE DATA public customers_customer" in listing.stdout
