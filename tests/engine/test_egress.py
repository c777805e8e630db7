"""The egress policy: what an action may reach, checked at every hop."""

import gzip
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from engine import egress
from engine.egress import EgressDenied, EgressPolicy, check_url


class _Handler(BaseHTTPRequestHandler):
    """A local server: /ok answers JSON, /to?u=X redirects to X, /big is large."""

    seen: list[dict[str, Any]] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self._answer()

    def do_POST(self) -> None:  # noqa: N802
        self._answer()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        _Handler.seen.append(
            {"path": self.path, "headers": dict(self.headers), "body": body}
        )
        if self.path.startswith("/to?u="):
            self.send_response(302)
            self.send_header("Location", self.path[len("/to?u=") :])
            self.end_headers()
            return
        if self.path.startswith("/loop/"):
            hop = int(self.path.rsplit("/", 1)[1])
            self.send_response(302)
            self.send_header("Location", f"/loop/{hop + 1}")
            self.end_headers()
            return
        if self.path == "/big":
            payload = b"x" * (egress.MAX_RESPONSE_BYTES + 10)
        elif self.path == "/bomb":
            payload = gzip.compress(b"0" * (egress.MAX_RESPONSE_BYTES * 5))
        else:
            payload = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if self.path == "/bomb":
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    _Handler.seen = []
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def loopback_allowed(settings: Any) -> None:
    settings.SWITCHYARD_EGRESS_ALLOW = ["127.0.0.1/32"]


PUBLIC = EgressPolicy()


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/file",
        "gopher://example.com/",
        "data:text/plain,hello",
        "//example.com/no-scheme",
        "http://user:secret@example.com/",
    ],
)
def test_only_http_and_https_urls_without_credentials(url: str) -> None:
    with pytest.raises(EgressDenied):
        check_url(url, rules=PUBLIC)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost:8000/",
        "http://2130706433/",
        "http://0x7f000001/",
        "http://0x7f.1/",
        "http://017700000001/",
        "http://127.1/",
        "http://0.0.0.0/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://[::127.0.0.1]/",
        "http://[2002:7f00:1::]/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/",
        "http://10.0.0.1/",
        "http://172.16.5.4/",
        "http://192.168.1.1/",
        "http://100.64.0.1/",
        "http://224.0.0.1/",
        "http://[fc00::1]/",
    ],
)
def test_loopback_private_and_metadata_addresses_are_refused(url: str) -> None:
    with pytest.raises(EgressDenied, match="not a public address"):
        check_url(url, rules=PUBLIC)


def test_public_address_passes_and_keeps_the_host_name() -> None:
    target = check_url("https://93.184.215.14/path", rules=PUBLIC)
    assert str(target.address) == "93.184.215.14"
    assert (target.scheme, target.port) == ("https", 443)


def test_allow_list_opens_a_range_and_a_host_name() -> None:
    rules = EgressPolicy.parse("10.20.0.0/16, localhost")
    assert str(check_url("http://10.20.3.4/", rules=rules).address) == "10.20.3.4"
    assert check_url("http://localhost:9/", rules=rules).host == "localhost"
    with pytest.raises(EgressDenied):
        check_url("http://10.21.0.1/", rules=rules)
    with pytest.raises(EgressDenied):
        check_url("http://127.0.0.1/", rules=rules)


def test_the_policy_holds_under_the_test_settings(server: str) -> None:
    """No settings module opens loopback: only SWITCHYARD_EGRESS_ALLOW does."""
    with pytest.raises(EgressDenied):
        egress.request("GET", f"{server}/ok")
    assert _Handler.seen == []


def test_allowed_request_reaches_the_checked_address(
    server: str, loopback_allowed: None
) -> None:
    response = egress.request("POST", f"{server}/ok", json={"a": 1}, timeout_s=5)
    assert response.status == 200
    assert response.body == b'{"ok": true}'
    assert _Handler.seen[0]["body"] == b'{"a": 1}'
    assert _Handler.seen[0]["headers"]["Host"] == server.removeprefix("http://")


def test_redirect_to_a_refused_address_is_not_followed(
    server: str, loopback_allowed: None
) -> None:
    for target in (
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://127.0.0.2/",
        "file:///etc/passwd",
    ):
        with pytest.raises(EgressDenied):
            egress.request("GET", f"{server}/to?u={target}", timeout_s=5)
    # Only the redirecting hop was sent.
    assert all(seen["path"].startswith("/to?u=") for seen in _Handler.seen)


def test_redirect_within_the_policy_is_followed(
    server: str, loopback_allowed: None
) -> None:
    response = egress.request("GET", f"{server}/to?u={server}/ok", timeout_s=5)
    assert response.status == 200
    assert [s["path"] for s in _Handler.seen][-1] == "/ok"


def test_more_than_five_redirects_are_refused(
    server: str, loopback_allowed: None
) -> None:
    with pytest.raises(EgressDenied, match="more than 5 redirects"):
        egress.request("GET", f"{server}/loop/0", timeout_s=5)
    assert len(_Handler.seen) == 6


def test_response_size_is_bounded_compressed_or_not(
    server: str, loopback_allowed: None
) -> None:
    with pytest.raises(egress.ResponseTooLarge):
        egress.request("GET", f"{server}/big", timeout_s=5)
    with pytest.raises(egress.ResponseTooLarge):
        egress.request("GET", f"{server}/bomb", timeout_s=5)


def test_allow_list_comes_from_the_environment(monkeypatch: Any) -> None:
    from config.env import read_environment

    monkeypatch.setenv("SWITCHYARD_EGRESS_ALLOW", "10.0.0.0/8, billing.internal ,")
    assert read_environment().egress_allow == ["10.0.0.0/8", "billing.internal"]
