"""BRIN indexes on the times the scorecard windows by (PostgreSQL only).

Attempts are started, and runs finished, roughly in insertion order, so a BRIN index
(a few pages for a million rows, next to nothing to maintain on the hot path) lets a
7-day window read the last pages instead of scanning the whole table.
"""

from django.db import migrations

INDEXES = [
    ("attempt_started_brin", "runs_attempt", "started_at"),
    ("run_finished_brin", "runs_run", "finished_at"),
    ("handoff_completed_brin", "runs_handoff", "completed_at"),
]


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table, column in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING brin ({column}) "
            "WITH (pages_per_range = 16)"
        )


def drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("runs", "0004_handoffs")]

    operations = [migrations.RunPython(create, drop)]
