"""Admin for runs and events (read-mostly: state changes go through services)."""

from django.contrib import admin

from runs.models import Attempt, Event, LedgerEntry, Run, StepRun


class ReadOnlyAdmin(admin.ModelAdmin):
    """Show rows without letting the admin write state behind the machine's back."""

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Run)
class RunAdmin(ReadOnlyAdmin):
    list_display = ["id", "workflow", "version", "state", "created_at", "finished_at"]
    list_filter = ["state", "workflow"]
    list_select_related = ["workflow", "version"]


@admin.register(StepRun)
class StepRunAdmin(ReadOnlyAdmin):
    list_display = ["id", "run", "node_id", "seq", "state", "finished_at"]
    list_filter = ["state", "node_type"]


@admin.register(Attempt)
class AttemptAdmin(ReadOnlyAdmin):
    list_display = ["id", "run", "step", "number", "state", "queue", "started_at"]
    list_filter = ["state", "queue"]


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "run", "node_id", "from_state", "to_state", "actor"]
    list_filter = ["kind"]
    search_fields = ["kind", "node_id", "actor"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["key", "run", "node_id", "created_at"]
