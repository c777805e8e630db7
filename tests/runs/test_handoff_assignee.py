"""A handoff's user or agent is matched by username only: never by id.

`{"user": "7"}` is the user whose username is "7", not the user whose id is 7; an
integer is no assignee at all (refused by the graph schema, by a task's handoff
request and by reassign).
"""

from typing import Any

import pytest
from rest_framework.test import APIClient

from engine.graph.validate import validate_graph
from runs import handoffs
from runs.errors import RunError
from runs.models import Handoff
from runs.services.starting import run_start
from tests.support import grant

pytestmark = pytest.mark.django_db


def user_graph(to: Any) -> dict[str, Any]:
    return {
        "format": 1,
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "review",
                "type": "handoff",
                "to": to,
                "outcomes": ["ok"],
                "sla_s": 600,
            },
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "review"},
            {"id": "e2", "source": "review", "target": "done", "default": True},
        ],
    }


@pytest.fixture
def people(django_user_model: Any) -> dict[str, Any]:
    """`digits`: username "<id of other>"; `other`: the user with that id."""
    other = grant(
        django_user_model.objects.create_user("other", password="pw-other-1234"),
        "operator",
    )
    digits = grant(
        django_user_model.objects.create_user(str(other.pk), password="pw-digit-1234"),
        "operator",
    )
    return {"digits": digits, "other": other}


def _client(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_digit_string_matches_the_username_not_the_id(
    workflow_factory: Any, people: dict[str, Any]
) -> None:
    digits, other = people["digits"], people["other"]
    workflow = workflow_factory(user_graph({"user": str(other.pk)}))
    run, _ = run_start(workflow=workflow, input={}, actor="test")
    handoff = Handoff.objects.get(run=run)
    assert handoff.assignee == digits.get_username()
    assert handoffs.is_assignee(digits, handoff)
    assert not handoffs.is_assignee(other, handoff)
    # The API agrees: the id's owner may not claim; the username's owner may.
    claim = f"/api/v1/handoffs/{handoff.pk}/claim/"
    refused = _client(other).post(claim)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "not_assignee"
    assert _client(digits).post(claim).status_code == 200


def test_mine_lists_by_username_only(
    workflow_factory: Any, people: dict[str, Any]
) -> None:
    digits, other = people["digits"], people["other"]
    workflow = workflow_factory(user_graph({"user": str(other.pk)}))
    run_start(workflow=workflow, input={}, actor="test")
    mine = "/api/v1/handoffs/?mine=1"
    assert _client(digits).get(mine).json()["count"] == 1
    assert _client(other).get(mine).json()["count"] == 0


@pytest.mark.parametrize("to", [{"user": 7}, {"agent": 7}, {"group": 7}])
def test_the_graph_schema_refuses_integer_assignees(to: dict[str, Any]) -> None:
    result = validate_graph(user_graph(to), actions={})
    assert [e.code for e in result.errors] == ["schema"]
    assert result.errors[0].node_id == "review"


def test_a_string_user_is_valid() -> None:
    assert validate_graph(user_graph({"user": "7"}), actions={}).ok


@pytest.mark.parametrize("to", [{"user": 7}, {"agent": 7}, {"user": True}])
def test_parse_assignee_takes_names_only(to: dict[str, Any]) -> None:
    with pytest.raises(RunError) as refused:
        handoffs.parse_assignee(to)
    assert refused.value.code == "bad_assignee"


def test_reassign_to_a_user_id_is_refused(
    workflow_factory: Any, people: dict[str, Any], user: Any
) -> None:
    """Staff reassigning by id get 400, by username the user."""
    digits, other = people["digits"], people["other"]
    workflow = workflow_factory(user_graph({"group": "nobody"}))
    run, _ = run_start(workflow=workflow, input={}, actor="test")
    handoff = Handoff.objects.get(run=run)
    reassign = f"/api/v1/handoffs/{handoff.pk}/reassign/"
    api = _client(user)
    by_id = api.post(reassign, {"to": {"user": other.pk}}, format="json")
    assert by_id.status_code == 400
    assert by_id.json()["errors"][0]["code"] == "bad_assignee"
    # "other" exists by name, the number of an id as a string only as a username.
    unknown = api.post(reassign, {"to": {"user": "999999"}}, format="json")
    assert unknown.status_code == 400
    ok = api.post(reassign, {"to": {"user": str(other.pk)}}, format="json")
    assert ok.status_code == 200
    handoff.refresh_from_db()
    assert handoff.assignee == digits.get_username()
    assert handoffs.is_assignee(digits, handoff)
    assert not handoffs.is_assignee(other, handoff)
