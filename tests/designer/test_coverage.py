"""Branch coverage of a version from its runs, counted in the database."""

from typing import Any

import pytest

from runs.services.starting import run_start
from tests.support import choice_graph, drive

pytestmark = pytest.mark.django_db


def test_coverage_counts_edges_taken_by_runs_of_the_version(
    api: Any, workflow_factory: Any
) -> None:
    workflow = workflow_factory(choice_graph(), slug="pick")
    empty = api.get("/api/v1/workflows/pick/versions/1/coverage/").json()
    assert (empty["runs"], empty["covered"], empty["percent"]) == (0, 0, 0.0)
    for amount in (5000, 10, 20):
        run, _ = run_start(workflow=workflow, input={"amount": amount}, actor="test")
        drive(run)
    body = api.get("/api/v1/workflows/pick/versions/1/coverage/").json()
    taken = {e["id"]: e["taken"] for e in body["edges"]}
    # Hand count: e1 by all three runs, to_big once, the small path twice.
    assert taken == {
        "e1": 3,
        "to_big": 1,
        "to_small": 2,
        "e4": 2,
        "e5": 1,
        "e6": 2,
    }
    assert (body["runs"], body["covered"], body["total"]) == (3, 6, 6)
    assert body["percent"] == 100.0
    assert body["uncovered"] == []


def test_coverage_of_an_unknown_version_is_404(api: Any, workflow_factory: Any) -> None:
    workflow_factory(choice_graph(), slug="pick")
    assert api.get("/api/v1/workflows/pick/versions/9/coverage/").status_code == 404


def test_edit_page_needs_login_and_an_existing_workflow(
    client: Any, user: Any, workflow_factory: Any
) -> None:
    workflow_factory(choice_graph(), slug="pick")
    assert client.get("/workflows/pick/edit/").status_code == 302
    client.force_login(user)
    assert client.get("/workflows/nope/edit/").status_code == 404
