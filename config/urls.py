"""URL routes: pages, the v1 API, OpenAPI schema and the admin."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.permissions import IsAuthenticated

from config import login_throttle
from config.api_docs import api_docs
from designer import account_apis, change_apis, connection_apis, expression_apis
from designer import apis as designer_apis
from designer import views as designer_views
from runs import apis as runs_apis
from runs import (
    audit_apis,
    batch_apis,
    bulk_apis,
    event_apis,
    execution_apis,
    handoff_apis,
    log_apis,
    map_apis,
    message_apis,
    release_apis,
    retention_apis,
    schedule_apis,
    test_run_apis,
    webhook_apis,
)
from runs import views as runs_views
from runs.webhook_views import webhook_receive

api_v1 = [
    path("workflows/", designer_apis.WorkflowListCreateApi.as_view()),
    path("workflows/<slug:slug>/", designer_apis.WorkflowDetailApi.as_view()),
    path(
        "workflows/<slug:slug>/versions/", designer_apis.VersionListCreateApi.as_view()
    ),
    path(
        "workflows/<slug:slug>/versions/<int:number>/",
        designer_apis.VersionDetailApi.as_view(),
    ),
    path(
        "workflows/<slug:slug>/versions/<int:number>/publish/",
        release_apis.VersionPublishApi.as_view(),
    ),
    path(
        "workflows/<slug:slug>/versions/<int:number>/diff/",
        designer_apis.VersionDiffApi.as_view(),
    ),
    path(
        "workflows/<slug:slug>/versions/<int:number>/coverage/",
        release_apis.VersionCoverageApi.as_view(),
    ),
    path("workflows/<slug:slug>/rollback/", release_apis.WorkflowRollbackApi.as_view()),
    path("workflows/<slug:slug>/tests/", change_apis.TestCaseListApi.as_view()),
    path(
        "workflows/<slug:slug>/tests/<int:case_id>/",
        change_apis.TestCaseDetailApi.as_view(),
    ),
    path(
        "workflows/<slug:slug>/versions/<int:number>/test/",
        change_apis.VersionTestApi.as_view(),
    ),
    path(
        "workflows/<slug:slug>/versions/<int:number>/test-runs/",
        test_run_apis.TestRunsApi.as_view(),
    ),
    path("workflows/<slug:slug>/settings/", change_apis.WorkflowSettingsApi.as_view()),
    path("workflows/<slug:slug>/audit/", audit_apis.WorkflowAuditApi.as_view()),
    path("audit/", audit_apis.AuditApi.as_view()),
    path(
        "workflows/<slug:slug>/canary/promote/",
        release_apis.CanaryPromoteApi.as_view(),
    ),
    path("workflows/<slug:slug>/canary/abort/", release_apis.CanaryAbortApi.as_view()),
    path(
        "workflows/<slug:slug>/validate/", designer_apis.WorkflowValidateApi.as_view()
    ),
    path("workflows/<slug:slug>/runs/", runs_apis.WorkflowRunsApi.as_view()),
    path(
        "workflows/<slug:slug>/runs/batch/",
        batch_apis.WorkflowRunsBatchApi.as_view(),
    ),
    path(
        "workflows/<slug:slug>/schedules/",
        schedule_apis.WorkflowSchedulesApi.as_view(),
    ),
    path("schedules/preview/", schedule_apis.SchedulePreviewApi.as_view()),
    path("schedules/<int:schedule_id>/", schedule_apis.ScheduleDetailApi.as_view()),
    path(
        "schedules/<int:schedule_id>/pause/", schedule_apis.SchedulePauseApi.as_view()
    ),
    path(
        "schedules/<int:schedule_id>/resume/",
        schedule_apis.ScheduleResumeApi.as_view(),
    ),
    path(
        "schedules/<int:schedule_id>/backfill/",
        schedule_apis.ScheduleBackfillApi.as_view(),
    ),
    path(
        "schedules/<int:schedule_id>/fires/", schedule_apis.ScheduleFiresApi.as_view()
    ),
    path("workflows/<slug:slug>/webhooks/", webhook_apis.WorkflowWebhooksApi.as_view()),
    path("webhooks/<int:webhook_id>/", webhook_apis.WebhookDetailApi.as_view()),
    path("webhooks/<int:webhook_id>/rotate/", webhook_apis.WebhookRotateApi.as_view()),
    path("webhooks/<int:webhook_id>/enable/", webhook_apis.WebhookEnableApi.as_view()),
    path(
        "webhooks/<int:webhook_id>/disable/",
        webhook_apis.WebhookDisableApi.as_view(),
    ),
    path("messages/", message_apis.MessageSendApi.as_view()),
    path("connections/", connection_apis.ConnectionListApi.as_view()),
    path("connections/kinds/", connection_apis.ConnectionKindsApi.as_view()),
    path(
        "connections/<int:connection_id>/",
        connection_apis.ConnectionDetailApi.as_view(),
    ),
    path("runs/", runs_apis.RunListApi.as_view()),
    path("runs/counts/", runs_apis.RunCountsApi.as_view()),
    path("events/", event_apis.RecentEventsApi.as_view()),
    path("retention/", retention_apis.RetentionApi.as_view()),
    path("runs/<int:run_id>/", runs_apis.RunDetailApi.as_view()),
    path("runs/<int:run_id>/events/", runs_apis.RunEventsApi.as_view()),
    path("runs/<int:run_id>/graph/", runs_apis.RunGraphApi.as_view()),
    path("runs/<int:run_id>/logs/", log_apis.RunLogsApi.as_view()),
    path("runs/<int:run_id>/logs/export/", log_apis.RunLogsExportApi.as_view()),
    path(
        "runs/<int:run_id>/steps/<int:step_id>/items/",
        map_apis.MapItemsApi.as_view(),
    ),
    path(
        "runs/<int:run_id>/steps/<int:step_id>/params/",
        execution_apis.StepParamsApi.as_view(),
    ),
    path("expressions/check/", expression_apis.ExpressionCheckApi.as_view()),
    path("expressions/preview/", execution_apis.ExpressionPreviewApi.as_view()),
    path("runs/<int:run_id>/cancel/", runs_apis.RunCancelApi.as_view()),
    path("runs/<int:run_id>/pause/", runs_apis.RunPauseApi.as_view()),
    path("runs/<int:run_id>/resume/", runs_apis.RunResumeApi.as_view()),
    path("runs/<int:run_id>/retry/", runs_apis.RunRetryApi.as_view()),
    path("bulk/", bulk_apis.BulkListCreateApi.as_view()),
    path("bulk/<int:job_id>/", bulk_apis.BulkDetailApi.as_view()),
    path("bulk/<int:job_id>/cancel/", bulk_apis.BulkCancelApi.as_view()),
    path("handoffs/", handoff_apis.HandoffListApi.as_view()),
    path("handoffs/<int:handoff_id>/", handoff_apis.HandoffDetailApi.as_view()),
    path("handoffs/<int:handoff_id>/claim/", handoff_apis.HandoffClaimApi.as_view()),
    path(
        "handoffs/<int:handoff_id>/release/", handoff_apis.HandoffReleaseApi.as_view()
    ),
    path(
        "handoffs/<int:handoff_id>/complete/",
        handoff_apis.HandoffCompleteApi.as_view(),
    ),
    path(
        "handoffs/<int:handoff_id>/reassign/",
        handoff_apis.HandoffReassignApi.as_view(),
    ),
    path("actions/", designer_apis.ActionListApi.as_view()),
    path("tokens/", account_apis.TokenApi.as_view()),
    path("me/", account_apis.MeApi.as_view()),
    path("metrics/", runs_apis.MetricsApi.as_view()),
    path("", include("runs.notification_urls")),
]

urlpatterns = [
    path("", designer_views.workflow_list_page, name="workflows"),
    path(
        "workflows/<slug:slug>/edit/",
        designer_views.workflow_edit_page,
        name="workflow-edit",
    ),
    path("board/", runs_views.board_page, name="board"),
    path("runs/", runs_views.runs_page, name="runs"),
    path("runs/<int:run_id>/", runs_views.run_page, name="run"),
    path("handoffs/", runs_views.handoffs_page, name="handoffs"),
    path("", include("designer.connection_pages")),
    path("login/", login_throttle.ThrottledLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Before the admin's own URLs: its login takes passwords too.
    path("admin/login/", login_throttle.throttled_admin_login),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    # The schema describes every operation: for signed-in users and tokens only.
    path(
        "api/schema/",
        SpectacularAPIView.as_view(permission_classes=[IsAuthenticated]),
        name="schema",
    ),
    path("api/docs/", api_docs, name="api-docs"),
    path("metrics", runs_apis.PrometheusApi.as_view(), name="prometheus"),
    # Webhook deliveries: authenticated by their HMAC signature, not a session.
    path("hooks/<str:token>/", webhook_receive, name="webhook"),
]
