"""Partial indexes for the audit trail (runs/audit.py): its few rows among a
table of run events, per workflow and in all, newest first.

Raw SQL: the model cannot declare them without naming the kinds in its Meta. On
PostgreSQL built CONCURRENTLY (events keep being written during the upgrade).
"""

from django.db import migrations

KINDS = (
    "settings_changed",
    "schedule_created",
    "schedule_changed",
    "schedule_paused",
    "schedule_resumed",
    "schedule_deleted",
    "webhook_created",
    "webhook_changed",
    "webhook_secret_rotated",
    "webhook_enabled",
    "webhook_disabled",
    "webhook_deleted",
    "notification_rule_created",
    "notification_rule_changed",
    "notification_rule_deleted",
    "connection_created",
    "connection_updated",
    "connection_deleted",
    "membership_changed",
)
WHERE = "kind IN (" + ", ".join(f"'{kind}'" for kind in KINDS) + ")"
INDEXES = {
    "event_audit_workflow": "(workflow_id, id)",
    "event_audit": "(id)",
}


def create(apps, schema_editor):
    concurrently = (
        "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    )
    for name, columns in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX {concurrently}IF NOT EXISTS {name} "
            f"ON runs_event {columns} WHERE {WHERE}"
        )


def drop(apps, schema_editor):
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):

    atomic = False

    dependencies = [
        ("runs", "0024_run_trace_context"),
    ]

    operations = [migrations.RunPython(create, drop)]
