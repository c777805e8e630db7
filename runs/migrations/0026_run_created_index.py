"""A btree on (created_at, id) for time ranges, newest first, and retention's walk.

It replaces 0022's BRIN index on created_at (PostgreSQL only): a BRIN finds a range's
blocks but cannot give its newest 50 runs without reading the whole range, so a
ten-day search at 1M runs walked the primary key back from today (docs/search.md).
"""

from django.db import migrations, models

BRIN = (
    "CREATE INDEX IF NOT EXISTS run_created_brin ON runs_run "
    "USING brin (created_at) WITH (pages_per_range = 16)"
)


def drop_brin(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS run_created_brin")


def create_brin(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BRIN)


class Migration(migrations.Migration):
    dependencies = [
        ("runs", "0025_audit_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="run",
            index=models.Index(fields=["created_at", "id"], name="run_created"),
        ),
        migrations.RunPython(drop_brin, create_brin),
    ]
