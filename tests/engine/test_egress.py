"""The egress policy: what an action may reach, checked at every hop."""

import datetime
import gzip
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

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


def _serve(httpd: ThreadingHTTPServer) -> Iterator[int]:
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    _Handler.seen = []
    yield int(httpd.server_address[1])
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def server() -> Iterator[str]:
    for port in _serve(ThreadingHTTPServer(("127.0.0.1", 0), _Handler)):
        yield f"http://127.0.0.1:{port}"


@dataclass
class FakeDNS:
    """Answers for names under .test, each given once; every question is noted."""

    answers: dict[str, str] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> FakeDNS:
    """Resolve *.test from a table: the first answer, then failure (a rebinding)."""
    fake = FakeDNS()
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if not name.endswith(".test"):
            return real(host, port, *args, **kwargs)
        fake.asked.append(name)
        if fake.asked.count(name) > 1:
            raise socket.gaierror(f"{name} asked again: a rebinding could answer")
        address = fake.answers[name]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port)))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return fake


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


def test_host_is_resolved_once_and_the_checked_address_is_connected_to(
    server: str, loopback_allowed: None, dns: FakeDNS
) -> None:
    """A second DNS question could get another answer; none is asked."""
    port = server.rsplit(":", 1)[1]
    dns.answers["service.test"] = "127.0.0.1"
    response = egress.request("GET", f"http://service.test:{port}/ok", timeout_s=5)
    assert response.status == 200
    assert dns.asked == ["service.test"]
    assert _Handler.seen[0]["headers"]["Host"] == f"service.test:{port}"


def test_a_name_resolving_to_a_refused_address_is_refused(dns: FakeDNS) -> None:
    dns.answers["metadata.test"] = "169.254.169.254"
    with pytest.raises(EgressDenied, match="169.254.169.254"):
        check_url("http://metadata.test/", rules=PUBLIC)


def test_credentials_are_not_sent_to_another_origin_after_a_redirect(
    server: str, loopback_allowed: None, dns: FakeDNS
) -> None:
    port = server.rsplit(":", 1)[1]
    dns.answers["other.test"] = "127.0.0.1"
    secret = {"Authorization": "Bearer s3cret", "Idempotency-Key": "1:a:1"}
    egress.request("GET", f"{server}/to?u={server}/ok", headers=secret, timeout_s=5)
    assert _Handler.seen[-1]["headers"]["Authorization"] == "Bearer s3cret"
    egress.request("GET", f"{server}/to?u=http://other.test:{port}/ok", headers=secret)
    assert _Handler.seen[-1]["path"] == "/ok"
    assert "Authorization" not in _Handler.seen[-1]["headers"]
    assert _Handler.seen[-1]["headers"]["Idempotency-Key"] == "1:a:1"


def test_the_caller_cannot_send_another_host_header(
    server: str, loopback_allowed: None
) -> None:
    egress.request("GET", f"{server}/ok", headers={"host": "internal.example"})
    assert _Handler.seen[0]["headers"]["Host"] == server.removeprefix("http://")
    assert "internal.example" not in str(_Handler.seen[0]["headers"])


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com:99999/",
        "http://[::1/",
        "http:///path-only",
        "http://%31%32%37.0.0.1/",
        "  http://127.0.0.1/",
        "x" * 9000,
    ],
)
def test_malformed_urls_are_refused(url: str) -> None:
    with pytest.raises(EgressDenied):
        check_url(url, rules=PUBLIC)


def _tls_material(name: str) -> tuple[bytes, bytes, bytes]:
    """Return (CA certificate, server certificate, server key) PEMs for `name`."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "egress test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    pem = serialization.Encoding.PEM
    return ca.public_bytes(pem), cert.public_bytes(pem), key_pem


@pytest.fixture
def tls_server(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, dns: FakeDNS
) -> Iterator[tuple[int, list[str]]]:
    """An HTTPS server on 127.0.0.1 whose certificate names only tls.test."""
    ca_pem, cert_pem, key_pem = _tls_material("tls.test")
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    (tmp_path / "key.pem").write_bytes(key_pem)
    served_names: list[str] = []
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server_context.sni_callback = lambda _sock, name, _ctx: served_names.append(
        name or ""
    )
    client_context = ssl.create_default_context(cadata=ca_pem.decode())
    monkeypatch.setattr(egress, "_ssl_context", lambda: client_context)
    dns.answers["tls.test"] = "127.0.0.1"
    dns.answers["impostor.test"] = "127.0.0.1"
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.socket = server_context.wrap_socket(httpd.socket, server_side=True)
    for port in _serve(httpd):
        yield port, served_names


def test_tls_names_and_verifies_the_host_not_the_address_connected_to(
    tls_server: tuple[int, list[str]], loopback_allowed: None
) -> None:
    port, served_names = tls_server
    response = egress.request("GET", f"https://tls.test:{port}/ok", timeout_s=5)
    assert response.status == 200
    assert served_names == ["tls.test"]
    assert _Handler.seen[0]["headers"]["Host"] == f"tls.test:{port}"
    # Same address, another name: the certificate does not cover it.
    with pytest.raises(egress.EgressError):
        egress.request("GET", f"https://impostor.test:{port}/ok", timeout_s=5)
    assert len(_Handler.seen) == 1
