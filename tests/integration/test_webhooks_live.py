"""A synchronous webhook answers with the output of a run a real worker ran."""

import json
from typing import Any

import pytest
from django.test import Client

from runs import webhooks
from tests.support import linear_graph

pytestmark = pytest.mark.integration


def test_wait_returns_the_output_of_the_finished_run(
    live_db: Any, api: Any, workflow_factory: Any
) -> None:
    workflow_factory(linear_graph(2), slug="sync-hook")
    created = api.post(
        "/api/v1/workflows/sync-hook/webhooks/", {"name": "sync"}, format="json"
    ).json()
    raw = json.dumps({"order": 1}).encode()
    response = Client().post(
        created["webhook"]["url"] + "?wait=30",
        raw,
        content_type="application/json",
        headers={webhooks.SIGNATURE_HEADER: webhooks.sign(created["secret"], raw)},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["state"] == "succeeded"
    assert body["output"], "the output of the run's tasks"
