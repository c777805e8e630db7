"""Every role × every API action and WebSocket stream, with the answer each must get.

The world: workflow `team-flow` is owned by group `payments`; a run of it waits on a
handoff to `payments`; `public-flow` has no owner. Users:
- viewer, editor, operator: members of `payments` with that role;
- admin: role admin (sees and manages every team), not a member of `payments`;
- outsider: role operator, not a member of `payments` (team-flow does not exist for
  them: 404);
- norole: member of `payments` without any role (403 everywhere).
"""

import json
from typing import Any

import pytest
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from designer import services as designer
from designer.models import Workflow
from runs import releases
from runs.models import Handoff
from runs.services.starting import run_start
from tests.support import grant, linear_graph

pytestmark = pytest.mark.django_db

ROLES = ("viewer", "editor", "operator", "admin", "outsider", "norole")


def team_graph() -> dict[str, Any]:
    return {
        "format": 1,
        "defaults": {"retry": {"max_attempts": 1}},
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "review",
                "type": "handoff",
                "to": {"group": "payments"},
                "outcomes": ["approve", "reject"],
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
def world(django_user_model: Any) -> dict[str, Any]:
    payments = Group.objects.create(name="payments")
    users = {}
    for name in ROLES:
        user = django_user_model.objects.create_user(name, password=f"pw-{name}-1234")
        role = {"outsider": "operator", "norole": None}.get(name, name)
        if role:
            grant(user, role)
        if name in ("viewer", "editor", "operator", "norole"):
            user.groups.add(payments)
        users[name] = user
    team = designer.workflow_create(
        slug="team-flow", name="Team flow", owner_group=payments
    )
    v1, _ = designer.version_create(workflow=team, graph=team_graph())
    releases.version_publish(version=v1)
    designer.version_create(workflow=team, graph=team_graph(), note="draft")
    public = designer.workflow_create(slug="public-flow", name="Public flow")
    p1, _ = designer.version_create(workflow=public, graph=linear_graph(1))
    releases.version_publish(version=p1)
    team.refresh_from_db()
    run, _ = run_start(workflow=team, input={}, actor="test")
    handoff = Handoff.objects.get(run=run)
    return {"users": users, "run": run.pk, "handoff": handoff.pk}


R = "read"  # 200 for members and admin, 404 for the outsider, 403 without a role


def _read(ok: int = 200) -> dict[str, int]:
    return {
        "viewer": ok,
        "editor": ok,
        "operator": ok,
        "admin": ok,
        "outsider": 404,
        "norole": 403,
    }


def _everyone(ok: int = 200) -> dict[str, int]:
    return {**{role: ok for role in ROLES}, "norole": 403}


def _editors(ok: int, outsider: int = 403) -> dict[str, int]:
    return {
        "viewer": 403,
        "editor": ok,
        "operator": 403,
        "admin": ok,
        "outsider": outsider,
        "norole": 403,
    }


def _operators(ok: int, admin: int | None = None) -> dict[str, int]:
    return {
        "viewer": 403,
        "editor": 403,
        "operator": ok,
        "admin": ok if admin is None else admin,
        "outsider": 404,
        "norole": 403,
    }


GRAPH = team_graph()
# (name, method, path, body, {role: status})
ACTIONS: list[tuple[str, str, str, Any, dict[str, int]]] = [
    ("list workflows", "get", "/api/v1/workflows/", None, _everyone()),
    ("workflow detail", "get", "/api/v1/workflows/team-flow/", None, _read()),
    (
        "create workflow",
        "post",
        "/api/v1/workflows/",
        {"slug": "new-flow", "name": "New"},
        _editors(201),
    ),
    (
        "rename workflow",
        "patch",
        "/api/v1/workflows/team-flow/",
        {"name": "Renamed"},
        _editors(200),
    ),
    ("list versions", "get", "/api/v1/workflows/team-flow/versions/", None, _read()),
    ("version detail", "get", "/api/v1/workflows/team-flow/versions/1/", None, _read()),
    (
        "create draft",
        "post",
        "/api/v1/workflows/team-flow/versions/",
        {"graph": GRAPH},
        _editors(201),
    ),
    (
        "update draft",
        "put",
        "/api/v1/workflows/team-flow/versions/2/",
        {"graph": GRAPH, "note": "edited"},
        _editors(200),
    ),
    (
        "publish",
        "post",
        "/api/v1/workflows/team-flow/versions/2/publish/",
        {},
        _editors(200),
    ),
    (
        "rollback",
        "post",
        "/api/v1/workflows/team-flow/rollback/",
        {"version": 1},
        _editors(200),
    ),
    (
        "diff",
        "get",
        "/api/v1/workflows/team-flow/versions/2/diff/?against=1",
        None,
        _read(),
    ),
    (
        "coverage",
        "get",
        "/api/v1/workflows/team-flow/versions/1/coverage/",
        None,
        _read(),
    ),
    (
        "validate",
        "post",
        "/api/v1/workflows/team-flow/validate/",
        {"graph": GRAPH},
        _read(),
    ),
    ("workflow runs", "get", "/api/v1/workflows/team-flow/runs/", None, _read()),
    (
        "start run",
        "post",
        "/api/v1/workflows/team-flow/runs/",
        {"input": {}},
        _operators(201),
    ),
    (
        "start runs in a batch",
        "post",
        "/api/v1/workflows/team-flow/runs/batch/",
        {"runs": [{"input": {}}]},
        _operators(201),
    ),
    ("list runs", "get", "/api/v1/runs/", None, _everyone()),
    ("run counts", "get", "/api/v1/runs/counts/", None, _everyone()),
    ("run detail", "get", "/api/v1/runs/{run}/", None, _read()),
    ("run events", "get", "/api/v1/runs/{run}/events/", None, _read()),
    ("cancel run", "post", "/api/v1/runs/{run}/cancel/", {}, _operators(200)),
    ("pause run", "post", "/api/v1/runs/{run}/pause/", {}, _operators(200)),
    # Allowed roles reach the state machine, which refuses: the run is running.
    ("resume run", "post", "/api/v1/runs/{run}/resume/", {}, _operators(409)),
    ("retry run", "post", "/api/v1/runs/{run}/retry/", {}, _operators(409)),
    (
        "bulk cancel",
        "post",
        "/api/v1/bulk/",
        {"action": "cancel", "filter": {"workflow": "team-flow"}},
        # The outsider's filter matches no run they may see.
        {**_operators(201), "outsider": 422},
    ),
    ("list bulk jobs", "get", "/api/v1/bulk/", None, _everyone()),
    (
        "metrics of a workflow",
        "get",
        "/api/v1/metrics/?workflow=team-flow",
        None,
        _read(),
    ),
    ("metrics of all", "get", "/api/v1/metrics/", None, _everyone()),
    ("actions", "get", "/api/v1/actions/", None, _everyone()),
    ("list handoffs", "get", "/api/v1/handoffs/", None, _everyone()),
    ("handoff detail", "get", "/api/v1/handoffs/{handoff}/", None, _read()),
    # Claiming and completing also need membership of the assignee group.
    (
        "claim handoff",
        "post",
        "/api/v1/handoffs/{handoff}/claim/",
        {},
        _operators(200, admin=403),
    ),
    (
        "complete handoff",
        "post",
        "/api/v1/handoffs/{handoff}/complete/",
        {"outcome": "approve"},
        _operators(200, admin=403),
    ),
    # Not claimed: the state machine refuses a release.
    (
        "release handoff",
        "post",
        "/api/v1/handoffs/{handoff}/release/",
        {},
        _operators(409),
    ),
    (
        "reassign handoff",
        "post",
        "/api/v1/handoffs/{handoff}/reassign/",
        {"to": {"group": "payments"}},
        _operators(200),
    ),
    (
        "prometheus",
        "get",
        "/metrics",
        None,
        {role: 200 if role == "admin" else 403 for role in ROLES},
    ),
    ("me", "get", "/api/v1/me/", None, {role: 200 for role in ROLES}),
    ("my token", "get", "/api/v1/tokens/", None, {role: 200 for role in ROLES}),
    ("rotate my token", "post", "/api/v1/tokens/", {}, {role: 201 for role in ROLES}),
    (
        "revoke my token",
        "delete",
        "/api/v1/tokens/",
        None,
        {role: 204 for role in ROLES},
    ),
]

CASES = [
    pytest.param(action, role, id=f"{action[0]}-{role}")
    for action in ACTIONS
    for role in ROLES
]


@pytest.mark.parametrize(("action", "role"), CASES)
def test_permission_matrix(world: dict[str, Any], action: tuple, role: str) -> None:
    name, method, path, body, expected = action
    client = APIClient()
    client.force_authenticate(world["users"][role])
    url = path.format(run=world["run"], handoff=world["handoff"])
    kwargs = {"format": "json"} if body is not None else {}
    response = (
        getattr(client, method)(url, body, **kwargs)
        if body is not None
        else (getattr(client, method)(url))
    )
    assert response.status_code == expected[role], (name, role, response.content[:300])
    if response.status_code >= 400:
        assert "errors" in response.json()


def test_lists_hold_only_what_the_user_sees(world: dict[str, Any]) -> None:
    def slugs(role: str, path: str, key: str) -> set[str]:
        client = APIClient()
        client.force_authenticate(world["users"][role])
        return {row[key] for row in client.get(path).json()["results"]}

    assert slugs("viewer", "/api/v1/workflows/", "slug") == {"team-flow", "public-flow"}
    assert slugs("outsider", "/api/v1/workflows/", "slug") == {"public-flow"}
    assert slugs("admin", "/api/v1/workflows/", "slug") == {"team-flow", "public-flow"}
    assert slugs("viewer", "/api/v1/runs/", "workflow") == {"team-flow"}
    assert slugs("outsider", "/api/v1/runs/", "workflow") == set()
    assert slugs("outsider", "/api/v1/runs/counts/", "workflow__slug") == set()
    assert slugs("outsider", "/api/v1/handoffs/", "workflow") == set()
    assert slugs("operator", "/api/v1/handoffs/", "workflow") == {"team-flow"}
    client = APIClient()
    client.force_authenticate(world["users"]["outsider"])
    body = client.get("/api/v1/metrics/").json()
    assert body["scorecard"]["attempts"] == 0


def test_a_team_member_cannot_give_a_workflow_to_another_team(
    world: dict[str, Any],
) -> None:
    Group.objects.create(name="other-team")
    client = APIClient()
    client.force_authenticate(world["users"]["editor"])
    response = client.post(
        "/api/v1/workflows/",
        {"slug": "x", "name": "X", "owner_group": "other-team"},
        format="json",
    )
    assert response.status_code == 403
    response = client.post(
        "/api/v1/workflows/",
        {"slug": "x", "name": "X", "owner_group": "payments"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["owner_group"] == "payments"


def test_revoked_token_stops_working(world: dict[str, Any]) -> None:
    client = APIClient()
    client.force_authenticate(world["users"]["operator"])
    key = client.post("/api/v1/tokens/").json()["key"]
    rotated = client.post("/api/v1/tokens/").json()["key"]
    assert rotated != key
    by_token = APIClient()
    by_token.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert by_token.get("/api/v1/runs/").status_code == 401
    by_token.credentials(HTTP_AUTHORIZATION=f"Token {rotated}")
    assert by_token.get("/api/v1/runs/").status_code == 200
    assert client.delete("/api/v1/tokens/").status_code == 204
    assert by_token.get("/api/v1/runs/").status_code == 401
    assert client.get("/api/v1/tokens/").json() == {"token": None}


@pytest.mark.parametrize(
    ("role", "editor_page", "run_page"),
    [
        ("viewer", 200, 200),
        ("admin", 200, 200),
        ("outsider", 404, 404),
        ("norole", 404, 404),
    ],
)
def test_pages_follow_visibility(
    world: dict[str, Any], client: Any, role: str, editor_page: int, run_page: int
) -> None:
    client.force_login(world["users"][role])
    assert client.get("/workflows/team-flow/edit/").status_code == editor_page
    assert client.get(f"/runs/{world['run']}/").status_code == run_page


# ------------------------------------------------------------------ WebSockets


@pytest.mark.integration
@pytest.mark.parametrize(
    ("role", "sees_team", "run_stream"),
    [
        ("viewer", True, "open"),
        ("operator", True, "open"),
        ("admin", True, "open"),
        ("outsider", False, 4404),
        ("norole", False, 4403),
    ],
)
def test_websocket_streams_follow_visibility(
    live_db: Any,
    asgi_server: str,
    world: dict[str, Any],
    role: str,
    sees_team: bool,
    run_stream: Any,
) -> None:
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    user = world["users"][role]
    token = Token.objects.create(user=user)
    headers = {"Origin": asgi_server, "Authorization": f"Token {token.key}"}
    base = asgi_server.replace("http", "ws")
    # Events of both workflows exist: the team's run, and a public run.
    public = Workflow.objects.get(slug="public-flow")
    run_start(workflow=public, input={}, actor="test")
    received: list[dict[str, Any]] = []
    # What the stream must bring: the backfill sends events up to the oldest
    # transaction in flight on the server, the relay the rest after `ready`.
    expected = {"public-flow", "team-flow"} if sees_team else {"public-flow"}
    with connect(base + "/ws/board/", additional_headers=headers) as ws:
        try:
            ws.send(json.dumps({"after": 0}))
            ready = False
            while not ready or not expected <= {e["workflow"] for e in received}:
                message = json.loads(ws.recv(timeout=10))
                if message["type"] == "ready":
                    ready = True
                else:
                    received.append(message["event"])
        except ConnectionClosed as closed:
            assert role == "norole" and closed.rcvd is not None
            assert closed.rcvd.code == 4403
    workflows = {e["workflow"] for e in received}
    if role == "norole":
        assert received == []
    else:
        assert ("team-flow" in workflows) is sees_team
        assert "public-flow" in workflows
    with connect(base + f"/ws/runs/{world['run']}/", additional_headers=headers) as ws:
        if run_stream == "open":
            ws.send(json.dumps({"after": 0}))
            first = json.loads(ws.recv(timeout=10))
            assert first["type"] == "event"
            assert first["event"]["workflow"] == "team-flow"
        else:
            with pytest.raises(ConnectionClosed) as closed:
                ws.send(json.dumps({"after": 0}))
                ws.recv(timeout=10)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == run_stream


def test_me_says_what_the_role_allows(world: dict[str, Any]) -> None:
    client = APIClient()
    client.force_authenticate(world["users"]["viewer"])
    body = client.get("/api/v1/me/").json()
    assert body["roles"] == ["viewer"] and body["teams"] == ["payments"]
    assert body["can"]["view"] and not body["can"]["edit"]
    assert not body["can"]["operate"] and not body["can"]["see_all"]
    client.force_authenticate(world["users"]["admin"])
    assert all(client.get("/api/v1/me/").json()["can"].values())
