"""WebSocket streams through a real daphne server and the Redis channel layer."""

import json
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from runs.models import Event, Run
from tests.support import linear_graph, wait_for

pytestmark = pytest.mark.integration


def _session_cookie(client: Any, user: Any) -> str:
    client.force_login(user)
    return str(client.cookies["sessionid"].value)


def _ws(server: str, path: str, cookie: str | None) -> Any:
    headers = {"Origin": server}
    if cookie:
        headers["Cookie"] = f"sessionid={cookie}"
    return connect(
        server.replace("http", "ws") + path, additional_headers=headers, open_timeout=10
    )


def _collect_until(ws: Any, last_id: int, timeout: float = 30) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while not events or events[-1]["id"] < last_id:
        message = json.loads(ws.recv(timeout=timeout))
        if message["type"] == "event":
            events.append(message["event"])
    return events


def _run_to_end(api: Any, slug: str) -> int:
    run_id = api.post(
        f"/api/v1/workflows/{slug}/runs/", {"input": {}}, format="json"
    ).json()["id"]
    wait_for(
        lambda: Run.objects.get(pk=run_id).is_finished, timeout=60, what="run to finish"
    )
    return int(run_id)


def test_reconnecting_client_gets_exactly_the_missed_events_in_order(
    live_db: Any,
    asgi_server: str,
    api: Any,
    client: Any,
    user: Any,
    workflow_factory: Any,
) -> None:
    workflow_factory(linear_graph(3), slug="live")
    cookie = _session_cookie(client, user)
    _run_to_end(api, "live")
    first_max = Event.objects.order_by("-id").values_list("id", flat=True).first()
    with _ws(asgi_server, "/ws/board/", cookie) as ws:
        ws.send(json.dumps({"after": 0}))
        seen = _collect_until(ws, first_max)
    assert [e["id"] for e in seen] == list(
        Event.objects.order_by("id").values_list("id", flat=True)
    )

    # While disconnected, more happens.
    _run_to_end(api, "live")
    _run_to_end(api, "live")
    last_seen = seen[-1]["id"]
    expected = list(
        Event.objects.filter(id__gt=last_seen)
        .order_by("id")
        .values_list("id", flat=True)
    )
    assert expected
    with _ws(asgi_server, "/ws/board/", cookie) as ws:
        ws.send(json.dumps({"after": last_seen}))
        missed = _collect_until(ws, expected[-1])
        assert [e["id"] for e in missed] == expected

        # Then live events arrive on the same socket, once each.
        run_id = _run_to_end(api, "live")
        final = (
            Event.objects.filter(run_id=run_id)
            .order_by("-id")
            .values_list("id", flat=True)[0]
        )
        live = _collect_until(ws, final)
    ids = [e["id"] for e in missed + live]
    assert ids == sorted(set(ids))
    assert [e["id"] for e in live] == list(
        Event.objects.filter(id__gt=expected[-1])
        .order_by("id")
        .values_list("id", flat=True)
    )


def test_run_stream_only_carries_that_runs_events(
    live_db: Any,
    asgi_server: str,
    api: Any,
    client: Any,
    user: Any,
    workflow_factory: Any,
) -> None:
    workflow_factory(linear_graph(2), slug="live-run")
    cookie = _session_cookie(client, user)
    one = _run_to_end(api, "live-run")
    _run_to_end(api, "live-run")
    last = (
        Event.objects.filter(run_id=one).order_by("-id").values_list("id", flat=True)[0]
    )
    with _ws(asgi_server, f"/ws/runs/{one}/", cookie) as ws:
        ws.send(json.dumps({"after": 0}))
        events = _collect_until(ws, last)
    assert {e["run_id"] for e in events} == {one}
    assert [e["id"] for e in events] == list(
        Event.objects.filter(run_id=one).order_by("id").values_list("id", flat=True)
    )


def test_websocket_refuses_anonymous_clients(live_db: Any, asgi_server: str) -> None:
    # Closing before accept makes the server answer the handshake with 403.
    with pytest.raises(InvalidStatus) as refused:
        with _ws(asgi_server, "/ws/board/", None) as ws:
            ws.recv(timeout=10)
    assert refused.value.response.status_code == 403


def test_websocket_refuses_a_foreign_origin(
    live_db: Any, asgi_server: str, client: Any, user: Any
) -> None:
    cookie = _session_cookie(client, user)
    url = asgi_server.replace("http", "ws") + "/ws/board/"
    headers = {"Origin": "http://evil.example", "Cookie": f"sessionid={cookie}"}
    with pytest.raises(InvalidStatus):
        with connect(url, additional_headers=headers, open_timeout=10) as ws:
            ws.recv(timeout=10)


def test_websocket_accepts_an_api_token(
    live_db: Any, asgi_server: str, user: Any, api: Any, workflow_factory: Any
) -> None:
    from rest_framework.authtoken.models import Token

    workflow_factory(linear_graph(1), slug="token")
    token = Token.objects.create(user=user)
    run_id = _run_to_end(api, "token")
    last = (
        Event.objects.filter(run_id=run_id)
        .order_by("-id")
        .values_list("id", flat=True)[0]
    )
    url = asgi_server.replace("http", "ws") + f"/ws/runs/{run_id}/"
    headers = {"Origin": asgi_server, "Authorization": f"Token {token.key}"}
    with connect(url, additional_headers=headers, open_timeout=10) as ws:
        ws.send(json.dumps({"after": 0}))
        events = _collect_until(ws, last)
    assert events[-1]["kind"] == "run_succeeded"
