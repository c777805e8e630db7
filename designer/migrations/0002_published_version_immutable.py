"""Refuse, in the database itself, any change to a published version's content."""

from django.db import migrations

PG_CREATE = """
CREATE OR REPLACE FUNCTION designer_version_immutable() RETURNS trigger AS $$
BEGIN
  IF OLD.status <> 'draft' AND (
       NEW.graph IS DISTINCT FROM OLD.graph
    OR NEW.checksum IS DISTINCT FROM OLD.checksum
    OR NEW.number IS DISTINCT FROM OLD.number
    OR NEW.workflow_id IS DISTINCT FROM OLD.workflow_id
    OR NEW.status = 'draft') THEN
    RAISE EXCEPTION 'workflow version % is % and immutable', OLD.id, OLD.status
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS designer_version_immutable ON designer_workflowversion;
CREATE TRIGGER designer_version_immutable BEFORE UPDATE ON designer_workflowversion
  FOR EACH ROW EXECUTE FUNCTION designer_version_immutable();
"""
PG_DROP = """
DROP TRIGGER IF EXISTS designer_version_immutable ON designer_workflowversion;
DROP FUNCTION IF EXISTS designer_version_immutable();
"""
SQLITE_CREATE = """
CREATE TRIGGER IF NOT EXISTS designer_version_immutable
BEFORE UPDATE ON designer_workflowversion
FOR EACH ROW WHEN OLD.status <> 'draft' AND (
     NEW.graph IS NOT OLD.graph OR NEW.checksum IS NOT OLD.checksum
  OR NEW.number IS NOT OLD.number OR NEW.workflow_id IS NOT OLD.workflow_id
  OR NEW.status = 'draft')
BEGIN
  SELECT RAISE(ABORT, 'published workflow version is immutable');
END;
"""
SQLITE_DROP = "DROP TRIGGER IF EXISTS designer_version_immutable;"


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_CREATE, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_CREATE)


def drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DROP, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_DROP)


class Migration(migrations.Migration):
    dependencies = [("designer", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
