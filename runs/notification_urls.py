"""Routes of notification rules and deliveries (under /api/v1/)."""

from django.urls import URLPattern, path

from runs import notification_apis as apis

urlpatterns: list[URLPattern] = [
    path(
        "workflows/<slug:slug>/notifications/",
        apis.WorkflowNotificationRulesApi.as_view(),
    ),
    path("notification-rules/", apis.NotificationRuleListApi.as_view()),
    path(
        "notification-rules/<int:rule_id>/",
        apis.NotificationRuleDetailApi.as_view(),
    ),
    path("notifications/", apis.NotificationListApi.as_view()),
    path(
        "notifications/<int:notification_id>/",
        apis.NotificationDetailApi.as_view(),
    ),
    path(
        "notifications/<int:notification_id>/resend/",
        apis.NotificationResendApi.as_view(),
    ),
]
