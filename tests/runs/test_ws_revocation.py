"""Open WebSocket streams close (4403) when their user's access ends.

The streams run in this process (channels' WebsocketCommunicator against the real
ASGI stack) over the Redis channel layer of the test settings; the database is
committed so the signals' after-commit messages go out. The periodic re-check is
set to an hour, so a close in these tests comes from the change's signal; one test
turns the period down to show the fallback for changes that send no signal.
"""

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Group
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from designer import services as designer
from runs import releases
from runs.services.starting import run_start
from tests.support import grant, linear_graph

pytestmark = pytest.mark.django_db(transaction=True)

BOUND_S = 10.0  # the longest a close may take; it usually takes milliseconds


@pytest.fixture(autouse=True)
def _streams(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Only the signal path closes streams here; the relay is not under test.
    settings.SWITCHYARD_WS_ACCESS_RECHECK_S = 3600
    monkeypatch.setattr("runs.consumers.ensure_relay_running", lambda: None)


@pytest.fixture
def world(django_user_model: Any) -> dict[str, Any]:
    """A run of `team-flow` (owned by `payments`); olga, an operator in payments."""
    payments = Group.objects.create(name="payments")
    olga = grant(
        django_user_model.objects.create_user("olga", password="olga-password-1"),
        "operator",
    )
    olga.groups.add(payments)
    workflow = designer.workflow_create(
        slug="team-flow", name="Team flow", owner_group=payments
    )
    version, _ = designer.version_create(workflow=workflow, graph=linear_graph(1))
    releases.version_publish(version=version)
    workflow.refresh_from_db()
    run, _ = run_start(workflow=workflow, input={}, actor="test")
    token = Token.objects.create(user=olga)
    return {"user": olga, "team": payments, "run": run.pk, "token": token.key}


def _headers(world: dict[str, Any], auth: str) -> list[tuple[bytes, bytes]]:
    headers = [(b"origin", b"http://localhost")]
    if auth == "token":
        headers.append((b"authorization", f"Token {world['token']}".encode()))
    else:
        client = Client()
        client.force_login(world["user"])
        cookie = client.cookies["sessionid"].value
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    return headers


def _run(coroutine: Any) -> Any:
    """Run a coroutine on a loop of its own thread: the browser tests' Playwright may
    hold an event loop in this thread already (as in tests/integration/test_faults)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result(timeout=60)


async def _open(path: str, headers: list[tuple[bytes, bytes]]) -> Any:
    """Open a stream and read it up to `ready` (the backfill is done)."""
    from config.asgi import application

    stream = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await stream.connect(timeout=BOUND_S)
    assert connected, code
    await stream.send_json_to({"after": 0})
    deadline = time.monotonic() + BOUND_S
    while True:
        message = await stream.receive_json_from(timeout=deadline - time.monotonic())
        if message["type"] == "ready":
            return stream


async def _close_code(stream: Any) -> int:
    """Wait (bounded) for the server to close the stream; return its code."""
    deadline = time.monotonic() + BOUND_S
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, "the stream was not closed"
        output = await stream.receive_output(timeout=remaining)
        if output["type"] == "websocket.close":
            await stream.disconnect()
            return int(output["code"])


async def _stays_open(stream: Any, *, seconds: float) -> bool:
    """Say whether no close arrives for `seconds` (events may: other tests' relays
    can still be publishing to a run group with the same id)."""
    deadline = time.monotonic() + seconds
    while (remaining := deadline - time.monotonic()) > 0:
        # receive_nothing leaves the app running; receive_output cancels it on timeout.
        if await stream.receive_nothing(timeout=remaining):
            return True
        output = await stream.receive_output(timeout=BOUND_S)
        if output["type"] == "websocket.close":
            return False
    return True


def _closes(
    world: dict[str, Any], path: str, auth: str, change: Callable[[], Any]
) -> int:
    """Open a stream, make the change, return the close code."""
    path = path.format(run=world["run"])
    headers = _headers(world, auth)

    async def scenario() -> int:
        stream = await _open(path, headers)
        await database_sync_to_async(change)()
        return await _close_code(stream)

    return int(_run(scenario()))


PATHS = ["/ws/board/", "/ws/runs/{run}/"]


@pytest.mark.parametrize("auth", ["token", "session"])
@pytest.mark.parametrize("path", PATHS)
def test_deactivating_the_user_closes_their_streams(
    world: dict[str, Any], path: str, auth: str
) -> None:
    def deactivate() -> None:
        world["user"].is_active = False
        world["user"].save()

    assert _closes(world, path, auth, deactivate) == 4403


@pytest.mark.parametrize("auth", ["token", "session"])
def test_removing_the_user_from_the_team_closes_the_teams_run_stream(
    world: dict[str, Any], auth: str
) -> None:
    def leave() -> None:
        world["user"].groups.remove(world["team"])

    assert _closes(world, "/ws/runs/{run}/", auth, leave) == 4403


def test_removing_the_user_from_the_teams_side_closes_it_too(
    world: dict[str, Any],
) -> None:
    def remove() -> None:
        world["team"].user_set.remove(world["user"])

    assert _closes(world, "/ws/runs/{run}/", "token", remove) == 4403


def test_deleting_the_role_group_closes_its_members_streams(
    world: dict[str, Any],
) -> None:
    def delete_role() -> None:
        Group.objects.get(name="operator").delete()

    assert _closes(world, "/ws/board/", "token", delete_role) == 4403


@pytest.mark.parametrize("path", PATHS)
def test_taking_the_role_away_closes_every_stream(
    world: dict[str, Any], path: str
) -> None:
    def demote() -> None:
        world["user"].groups.remove(Group.objects.get(name="operator"))

    assert _closes(world, path, "token", demote) == 4403


@pytest.mark.parametrize("path", PATHS)
def test_revoking_the_token_closes_its_streams(
    world: dict[str, Any], path: str
) -> None:
    def revoke() -> None:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {world['token']}")
        assert api.delete("/api/v1/tokens/").status_code == 204

    assert _closes(world, path, "token", revoke) == 4403


def test_rotating_the_token_closes_streams_of_the_old_key(
    world: dict[str, Any],
) -> None:
    def rotate() -> None:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {world['token']}")
        assert api.post("/api/v1/tokens/").status_code == 201

    assert _closes(world, "/ws/runs/{run}/", "token", rotate) == 4403


def test_changing_the_password_closes_session_streams(
    world: dict[str, Any],
) -> None:
    def change_password() -> None:
        world["user"].set_password("another-password-2")
        world["user"].save()

    assert _closes(world, "/ws/board/", "session", change_password) == 4403


def test_a_change_that_keeps_access_keeps_the_stream_open(
    world: dict[str, Any], django_user_model: Any
) -> None:
    """Re-checked after an unrelated change, the stream stays and keeps answering."""
    other = Group.objects.create(name="other-team")
    headers = _headers(world, "token")
    path = f"/ws/runs/{world['run']}/"

    async def scenario() -> None:
        stream = await _open(path, headers)
        # A change of olga's that takes nothing away: no close. (Waiting for
        # nothing cannot fail by bad timing, only miss a late close.)
        await database_sync_to_async(world["user"].groups.add)(other)
        assert await _stays_open(stream, seconds=1)
        # Then one that does: the stream was still open to be closed.
        await database_sync_to_async(world["user"].groups.remove)(world["team"])
        assert await _close_code(stream) == 4403

    _run(scenario())


def test_the_periodic_recheck_closes_streams_a_signal_missed(
    world: dict[str, Any], settings: Any, django_user_model: Any
) -> None:
    # A queryset update sends no signal: only the periodic re-check notices.
    settings.SWITCHYARD_WS_ACCESS_RECHECK_S = 0.1

    def deactivate_quietly() -> None:
        django_user_model.objects.filter(pk=world["user"].pk).update(is_active=False)

    assert _closes(world, "/ws/runs/{run}/", "token", deactivate_quietly) == 4403


def test_the_user_group_is_named_from_the_id() -> None:
    from runs.access_signals import user_group

    assert user_group(7) == "user_7"


def test_logging_out_closes_that_sessions_streams(world: dict[str, Any]) -> None:
    client = Client()
    client.force_login(world["user"])
    cookie = client.cookies["sessionid"].value
    headers = [
        (b"origin", b"http://localhost"),
        (b"cookie", f"sessionid={cookie}".encode()),
    ]

    async def scenario() -> int:
        stream = await _open("/ws/board/", headers)
        await database_sync_to_async(client.logout)()
        return await _close_code(stream)

    assert _run(scenario()) == 4403
