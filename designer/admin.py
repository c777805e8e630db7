"""Admin for workflows and versions."""

from django.contrib import admin

from designer.models import Workflow, WorkflowVersion


@admin.register(Workflow)
class WorkflowAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "live_version", "updated_at"]
    search_fields = ["slug", "name"]
    readonly_fields = ["live_version"]


@admin.register(WorkflowVersion)
class WorkflowVersionAdmin(admin.ModelAdmin):
    list_display = ["workflow", "number", "status", "checksum", "created_at"]
    list_filter = ["status"]
    readonly_fields = ["status", "checksum", "number", "graph", "published_at"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
