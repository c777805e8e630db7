"""http.request, slack.post, webhook.post and deliver against a local HTTP server:
auth from the connection, the egress policy, status handling, response mapping."""

import base64
import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any, ClassVar

import pytest
from django.core import mail

from engine.actions import ActionContext, ActionError, get_action
from engine.connections import ResolvedConnection
from engine.connectors.deliver import deliver
from engine.connectors.http import request_url
from tests.servers import http_server

TOKEN = "tok-9d2e51c0b7a84f3e"


class _Recorder(BaseHTTPRequestHandler):
    """Record each request; answer by path (/status/503, /text, /away, JSON else)."""

    seen: ClassVar[list[dict[str, Any]]] = []
    elsewhere: ClassVar[str] = ""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        _Recorder.seen.append(
            {
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": json.loads(raw) if raw else None,
            }
        )
        status, kind, body = 200, "application/json", b'{"data": [{"id": 7}]}'
        route = self.path.removeprefix("/v1")
        if route.startswith("/status/"):
            status = int(route.split("/")[2])
            body = b'{"error": "nope"}'
        elif route == "/text":
            kind, body = "text/plain", b"hello"
        elif route == "/away":
            self.send_response(302)
            self.send_header("Location", f"{_Recorder.elsewhere}/landed")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _answer  # noqa: N815

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server(settings: Any) -> Iterator[str]:
    """Two local servers (two origins); loopback opened to the egress policy."""
    settings.SWITCHYARD_EGRESS_ALLOW = ["127.0.0.1/32"]
    _Recorder.seen = []
    with http_server(_Recorder) as first, http_server(_Recorder) as second:
        _Recorder.elsewhere = second
        yield first


def _connection(kind: str, fields: dict[str, Any], **secrets: str) -> Any:
    return ResolvedConnection(name="api", kind=kind, fields=fields, secrets=secrets)


def _call(name: str, params: dict[str, Any], connection: Any = None) -> Any:
    context = ActionContext(
        run_id=1,
        node_id="call",
        attempt=1,
        idempotency_key="1:call:1",
        input={},
        timeout_s=10.0,
        connection=connection,
    )
    return get_action(name).func({"connection": "api", **params}, context)


def _http(base: str, auth: str = "none", **secrets: str) -> Any:
    fields = {"base_url": f"{base}/v1", "auth": auth, "username": "ada"}
    return _connection("http", {**fields, "header": "X-API-Key"}, **secrets)


def test_bearer_auth_reaches_the_server_with_the_path_and_query(server: str) -> None:
    output = _call(
        "http.request",
        {
            "method": "GET",
            "path": "/orders/42",
            "query": {"status": "open", "tag": ["a", "b"], "all": True},
            "headers": {"Authorization": "Bearer forged", "X-Trace": "t1"},
        },
        _http(server, "bearer", token=TOKEN),
    )
    seen = _Recorder.seen[0]
    assert seen["path"] == "/v1/orders/42?status=open&tag=a&tag=b&all=true"
    assert seen["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert seen["headers"]["x-trace"] == "t1"
    assert seen["headers"]["idempotency-key"] == "1:call:1"
    assert output["status"] == 200
    assert output["body"] == {"data": [{"id": 7}]}


def test_basic_and_api_key_auth(server: str) -> None:
    _call("http.request", {"method": "GET"}, _http(server, "basic", password="pw"))
    _call("http.request", {"method": "GET"}, _http(server, "api_key", api_key=TOKEN))
    basic, api_key = (seen["headers"] for seen in _Recorder.seen)
    assert basic["authorization"] == "Basic " + base64.b64encode(b"ada:pw").decode()
    assert api_key["x-api-key"] == TOKEN
    assert "authorization" not in api_key


def test_a_json_body_is_sent(server: str) -> None:
    _call(
        "http.request",
        {"method": "POST", "path": "items", "json": {"n": [1, 2]}},
        _http(server),
    )
    seen = _Recorder.seen[0]
    assert seen["path"] == "/v1/items"
    assert seen["body"] == {"n": [1, 2]}
    assert seen["headers"]["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("status", "error_type", "retryable"),
    [
        (503, "HttpError", True),
        (429, "HttpError", True),
        (404, "HttpClientError", False),
        (401, "HttpClientError", False),
    ],
)
def test_a_status_other_than_2xx_fails_retryable_for_5xx_and_429(
    server: str, status: int, error_type: str, retryable: bool
) -> None:
    with pytest.raises(ActionError) as caught:
        _call(
            "http.request",
            {"method": "GET", "path": f"/status/{status}"},
            _http(server, "bearer", token=TOKEN),
        )
    assert caught.value.error_type == error_type
    assert caught.value.retryable is retryable
    assert f"HTTP {status}" in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_expect_status_accepts_what_it_lists(server: str) -> None:
    connection = _http(server)
    params = {"method": "GET", "path": "/status/404", "expect_status": [404]}
    assert _call("http.request", {**params, "response": "status"}, connection) == 404
    with pytest.raises(ActionError) as caught:
        _call("http.request", {"method": "GET", "expect_status": [201]}, connection)
    assert caught.value.error_type == "UnexpectedStatus"
    assert caught.value.retryable is False


def test_response_mapping(server: str) -> None:
    connection = _http(server)
    get = {"method": "GET"}
    assert _call("http.request", {**get, "response": "body"}, connection) == {
        "data": [{"id": 7}]
    }
    assert _call("http.request", {**get, "response": "status"}, connection) == 200
    assert _call("http.request", {**get, "select": "/data/0/id"}, connection) == 7
    text = {**get, "path": "/text"}
    assert _call("http.request", {**text, "response": "body"}, connection) == "hello"
    for params in ({**text, "response": "json"}, {**get, "select": "/data/3"}):
        with pytest.raises(ActionError) as caught:
            _call("http.request", params, connection)
        assert caught.value.error_type == "ResponseMismatch"
    full = _call("http.request", {**get, "method": "HEAD"}, connection)
    assert full["status"] == 200 and full["body"] is None
    assert full["headers"]["content-type"] == "application/json"


def test_an_api_key_header_is_not_sent_to_another_origin(server: str) -> None:
    connection = _http(server, "api_key", api_key=TOKEN)
    _call("http.request", {"method": "GET", "path": "/away"}, connection)
    first, landed = _Recorder.seen
    assert first["headers"]["x-api-key"] == TOKEN
    assert landed["path"] == "/landed"
    assert "x-api-key" not in landed["headers"]


def test_loopback_is_refused_unless_the_policy_opens_it() -> None:
    connection = _http("http://127.0.0.1:9", "bearer", token=TOKEN)
    with pytest.raises(ActionError) as caught:
        _call("http.request", {"method": "GET"}, connection)
    assert caught.value.error_type == "EgressDenied"
    assert caught.value.retryable is False


def test_a_connection_of_another_kind_or_none_is_refused() -> None:
    for connection in (None, _connection("slack", {}, webhook_url="x")):
        with pytest.raises(ActionError) as caught:
            _call("http.request", {"method": "GET"}, connection)
        assert caught.value.error_type == "ConnectionError"
        assert caught.value.retryable is False


def test_the_path_stays_under_the_base_url() -> None:
    base = "https://api.example.com/v1/"
    assert request_url(base, "//evil.example/x", None) == (
        "https://api.example.com/v1/evil.example/x"
    )
    assert request_url("https://api.example.com", "@evil.example", None) == (
        "https://api.example.com/@evil.example"
    )
    assert request_url(base, "", {"q": "a b"}) == "https://api.example.com/v1/?q=a+b"


def test_slack_post_sends_text_and_blocks_to_the_webhook(server: str) -> None:
    slack = _connection("slack", {}, webhook_url=f"{server}/services/T1/B2/{TOKEN}")
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]
    output = _call("slack.post", {"text": "hi", "blocks": blocks}, slack)
    assert output == {"ok": True}
    seen = _Recorder.seen[0]
    assert seen["path"] == f"/services/T1/B2/{TOKEN}"
    assert seen["body"] == {"text": "hi", "blocks": blocks}


def test_a_refused_slack_webhook_never_quotes_its_url(settings: Any) -> None:
    settings.SWITCHYARD_EGRESS_ALLOW = []
    url = f"http://127.0.0.1:9/services/T1/B2/{TOKEN}"
    with pytest.raises(ActionError) as caught:
        _call("slack.post", {"text": "hi"}, _connection("slack", {}, webhook_url=url))
    assert caught.value.error_type == "EgressDenied"
    assert TOKEN not in str(caught.value)
    assert "the Slack webhook" in str(caught.value)


def test_webhook_post_sends_the_payload_with_the_token(server: str) -> None:
    fields = {"url": f"{server}/hook", "header": "X-Hook-Token"}
    hook = _connection("webhook", fields, token=TOKEN)
    output = _call("webhook.post", {"payload": {"order": 42}}, hook)
    assert output == {"status": 200, "body": {"data": [{"id": 7}]}}
    bearer = _connection("webhook", {"url": f"{server}/hook"}, token=TOKEN)
    _call("webhook.post", {"payload": [1, "two"]}, bearer)
    first, second = _Recorder.seen
    assert first["body"] == {"order": 42}
    assert first["headers"]["x-hook-token"] == TOKEN
    assert first["headers"]["idempotency-key"] == "1:call:1"
    assert second["body"] == [1, "two"]
    assert second["headers"]["authorization"] == f"Bearer {TOKEN}"
    failing = _connection("webhook", {"url": f"{server}/status/500"})
    with pytest.raises(ActionError) as caught:
        _call("webhook.post", {"payload": {}}, failing)
    assert caught.value.error_type == "HttpError" and caught.value.retryable


def test_deliver_through_slack_webhook_and_smtp(server: str) -> None:
    note: dict[str, Any] = {
        "subject": "Run 7 <failed>",
        "text": "step a & b",
        "link": "https://sw.example/runs/7",
        "data": {"run": 7},
    }
    deliver(_connection("slack", {}, webhook_url=f"{server}/slack"), **note)
    deliver(_connection("webhook", {"url": f"{server}/hook"}), **note)
    slack, hook = _Recorder.seen
    assert slack["body"] == {
        "text": "*Run 7 &lt;failed&gt;*\nstep a &amp; b\n"
        "<https://sw.example/runs/7|Open in Switchyard>"
    }
    assert hook["body"] == note
    smtp = _connection("smtp", {"host": "127.0.0.1", "from_email": "sw@example.com"})
    with pytest.raises(ActionError, match="recipients"):
        deliver(smtp, **note)
    with pytest.raises(ActionError) as caught:
        deliver(_http(server), **note)
    assert caught.value.error_type == "ConnectionError"
    assert mail.outbox == []
