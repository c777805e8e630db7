"""Schemathesis against /api/schema/: no 500, and every answer matches the schema.

The app runs in this process over WSGI, inside the test's transaction (nothing is
published: on-commit callbacks never run), authenticated with an admin's token. Path
parameters point at real objects, so each operation reaches its serializers and
services rather than stopping at a 404. Cases are valid and invalid requests alike;
generation is seeded and bounded (25 examples per operation) so CI sees the same
cases every run, in about half a minute.
"""

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from designer import connections
from designer import services as designer_services
from designer.models import WorkflowTestCase
from runs import bulk, notification_rules, releases, schedules, webhooks
from runs.models import Notification
from runs.services.starting import run_start
from tests.support import linear_graph

pytestmark = pytest.mark.django_db

SEED = 20240601
TOKEN = "schemathesis0000000000000000000000000000"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


def _review_graph() -> dict[str, Any]:
    """start → review (a handoff) → charge → done; a run waits at the review."""
    return {
        "format": 1,
        "defaults": {"retry": {"max_attempts": 1}},
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "review",
                "type": "handoff",
                "to": {"group": "admin"},
                "outcomes": ["approve", "reject"],
                "sla_s": 3600,
            },
            {"id": "charge", "type": "task", "action": "builtin.noop"},
            {"id": "done", "type": "end"},
            {"id": "stop", "type": "end", "status": "failed"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "review"},
            {
                "id": "e2",
                "source": "review",
                "target": "charge",
                "when": "outcome == 'approve'",
            },
            {"id": "e3", "source": "review", "target": "stop", "default": True},
            {"id": "e4", "source": "charge", "target": "done"},
        ],
    }


@pytest.fixture
def objects(user: Any) -> Iterator[dict[str, Any]]:
    """Create a workflow, its versions, a run, a handoff; return path parameters."""
    # Django's test client does the same: a WSGI request must not close the test's
    # connection (and with it the transaction that holds the test data).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        workflow = designer_services.workflow_create(slug="wf", name="Wf")
        version, _ = designer_services.version_create(
            workflow=workflow, graph=_review_graph(), created_by=user
        )
        releases.version_publish(version=version)
        workflow.refresh_from_db()
        designer_services.version_create(
            workflow=workflow, graph=linear_graph(2), created_by=user
        )
        run, _ = run_start(workflow=workflow, input={"order": 1}, actor="user:test")
        case = WorkflowTestCase.objects.create(
            workflow=workflow, name="happy", created_by=user
        )
        schedule = schedules.schedule_create(
            workflow=workflow,
            fields={"name": "hourly", "kind": "cron", "cron": "0 * * * *"},
        )
        webhook, _ = webhooks.webhook_create(workflow=workflow, fields={"name": "in"})
        Token.objects.create(key=TOKEN, user=user)
        hook = connections.connection_create(
            name="hook", kind="webhook", fields={"url": "https://h.example/x"}
        )
        rule = notification_rules.notification_rule_create(
            workflow=workflow, fields={"events": ["run_failed"], "connection": "hook"}
        )
        note = Notification.objects.create(
            rule=rule,
            workflow=workflow,
            event="run_failed",
            source_kind="run_failed",
            key="k",
            subject="s",
            text="t",
            link="",
            next_attempt_at=timezone.now(),
        )
        job = bulk.bulk_create(user=user, action="cancel", ids=[run.pk])
        yield {
            "job_id": job.pk,
            "connection_id": hook.pk,
            "rule_id": rule.pk,
            "notification_id": note.pk,
            "schedule_id": schedule.pk,
            "webhook_id": webhook.pk,
            "step_id": run.steps.order_by("id").values_list("pk", flat=True).first(),
            "slug": "wf",
            "number": 2,  # the draft, so PUT and publish reach the services
            "run_id": run.pk,
            "handoff_id": run.handoffs.get().pk,
            "case_id": case.pk,
        }
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _load_schema() -> Any:
    """Return the schema /api/schema/ serves, generated here (no database needed).

    /api/schema/ answers only signed-in users, and at import there is no database to
    hold a token (tests/test_schema_access.py checks the view itself).
    """
    document = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(
        json.loads(OpenApiJsonRenderer().render(document))
    )
    loaded.app = get_wsgi_application()
    loaded.location = "/api/schema/"
    return loaded


# Loaded at import: generating the schema reads neither the database nor a session.
# (schemathesis.pytest.from_fixture would load it per test, but fails on pytest 9.)
schema = _load_schema()
schema.config.seed = SEED
schema.config.generation.update(modes=list(GenerationMode))


@schema.parametrize()
@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_within_its_schema(
    case: Any, user: Any, objects: dict[str, Any]
) -> None:
    """No operation answers 500 or outside its documented statuses and bodies."""
    if case.path_parameters:
        case.path_parameters = {
            **case.path_parameters,
            **{name: objects[name] for name in case.path_parameters if name in objects},
        }
    # POST and DELETE /tokens/ rotate or revoke the key this test authenticates with.
    Token.objects.filter(user=user).exclude(key=TOKEN).delete()
    Token.objects.get_or_create(key=TOKEN, defaults={"user": user})
    case.call_and_validate(headers={"Authorization": f"Token {TOKEN}"}, checks=CHECKS)
