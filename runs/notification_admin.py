"""Admin pages of notification rules and deliveries, read-only: rules change through
the API (checked there), deliveries only through their state machine."""

from django.contrib import admin

from runs.admin import ReadOnlyAdmin
from runs.models import Notification, NotificationRule


@admin.register(NotificationRule)
class NotificationRuleAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "name",
        "workflow",
        "owner_group",
        "events",
        "connection",
        "enabled",
        "max_per_hour",
    ]
    list_filter = ["enabled", "owner_group"]
    list_select_related = ["workflow", "owner_group", "connection"]
    search_fields = ["name", "workflow__slug", "connection__name"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "event",
        "workflow",
        "run",
        "rule",
        "state",
        "attempts",
        "last_error",
        "next_attempt_at",
        "created_at",
    ]
    list_filter = ["state", "event"]
    list_select_related = ["workflow", "rule"]
    search_fields = ["key", "subject", "workflow__slug"]
    raw_id_fields = ["rule", "workflow", "run"]
