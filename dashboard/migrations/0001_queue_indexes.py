"""Indexes for the dashboard's queue on the cases table (the dashboard owns no model; these serve its selectors).

- the open queue in arrival order: a partial index, so the first page of the queue reads 50 index entries
  instead of sorting every open case;
- "a customer who rarely complains": another case of the same customer in the past year, probed per row.
"""

from django.db import migrations

OPEN = "('new', 'open', 'waiting_on_shop', 'waiting_on_customer')"


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_timeline_append_only_and_roles")]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS dashboard_case_open_queue_idx ON cases_case (arrived_at, arrival_number) "
            f"WHERE status IN {OPEN}",
            "DROP INDEX IF EXISTS dashboard_case_open_queue_idx",
        ),
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS dashboard_case_customer_arrival_idx ON cases_case (customer_id, arrived_at)",
            "DROP INDEX IF EXISTS dashboard_case_customer_arrival_idx",
        ),
    ]
