"""One outbound HTTP policy for every action that reaches the network.

A workflow author controls the URL an action calls, at save time and, through
expressions, at run time. Left alone, that is a way into the host and its network
(file:// reads, the cloud metadata address, services on loopback or the private
network). Every request an action sends goes through `request`, which:

- allows the schemes http and https only, and no credentials in the URL;
- resolves the host once, refuses it unless every address is public (loopback,
  private, link-local, shared, multicast, reserved, unspecified and the IPv6 forms
  that embed such an IPv4 address are refused), and connects to the address it
  checked, so a DNS answer that changes between check and connect cannot steer it
  (the Host header and the TLS server name, checked against the certificate, stay
  the original host's);
- follows at most MAX_REDIRECTS redirects, each checked the same way, and drops
  credentials (Authorization, Cookie) when a redirect leaves the origin;
- bounds the response's size and the exchange's time.

URLs are parsed by httpx alone, so what is checked is what is sent.

`SWITCHYARD_EGRESS_ALLOW` (setting, or the environment variable of that name:
comma-separated CIDRs and host names) opens ranges and hosts a deployment trusts,
e.g. "10.20.0.0/16,billing.internal". Nothing else does, in any settings module.
"""

from __future__ import annotations

import functools
import ipaddress
import json as json_module
import re
import socket
import ssl
import time
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from config import tracing
from engine.actions import ActionError

MAX_REDIRECTS = 5
MAX_RESPONSE_BYTES = 1_000_000
MAX_URL_LENGTH = 8000
ALLOWED_SCHEMES = ("http", "https")
_REDIRECTS = (301, 302, 303, 307, 308)
# Set by this module, whatever the caller passes: the Host header names the checked
# host, and the body's framing is httpx's.
_RESERVED_HEADERS = frozenset({"host", "content-length", "transfer-encoding"})
# Not sent on to another origin after a redirect (as browsers and httpx do).
_CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# IPv6 prefixes that carry an IPv4 address in their last 32 bits (NAT64, well-known
# and local-use).
_NAT64 = (
    ipaddress.IPv6Network("64:ff9b::/96"),
    ipaddress.IPv6Network("64:ff9b:1::/48"),
)


class EgressDenied(ActionError):
    """The URL may not be called from here: retrying will not change that."""

    def __init__(self, message: str) -> None:
        super().__init__(message, error_type="EgressDenied", retryable=False)


class EgressError(ActionError):
    """The request could not complete (resolution, connection, timeout): retry."""

    def __init__(self, message: str) -> None:
        super().__init__(message, error_type="HttpError", retryable=True)


class InvalidRequest(ActionError):
    """The request cannot be sent as given (a bad header, say): retrying won't help."""

    def __init__(self, message: str) -> None:
        super().__init__(message, error_type="InvalidRequest", retryable=False)


class ResponseTooLarge(ActionError):
    """The response is larger than the caller accepts."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"response larger than {limit} bytes",
            error_type="ResponseTooLarge",
            retryable=False,
        )


@dataclass(frozen=True)
class EgressPolicy:
    """What outbound requests may reach beyond the public internet."""

    networks: tuple[Network, ...] = ()
    hosts: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, entries: Iterable[str] | str | None) -> EgressPolicy:
        """Build a policy from CIDRs, addresses and host names."""
        if isinstance(entries, str):
            entries = entries.split(",")
        networks: list[Network] = []
        hosts: set[str] = set()
        for raw in entries or ():
            entry = raw.strip().lower()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry.rstrip("."))
        return cls(networks=tuple(networks), hosts=frozenset(hosts))

    def allows_host(self, host: str) -> bool:
        """Say whether the host name itself is trusted (whatever it resolves to)."""
        return host.lower().rstrip(".") in self.hosts

    def allows_address(self, address: IPAddress) -> bool:
        """Say whether an address is public or in an allowed range."""
        if any(address in network for network in self.networks):
            return True
        embedded = _embedded_ipv4(address)
        if embedded and all(
            any(inner in network for network in self.networks) for inner in embedded
        ):
            return True
        return _public(address)


def _embedded_ipv4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    """Return the IPv4 addresses an IPv6 address stands for (mapped, 6to4, ...)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.append(address.teredo[1])
    packed = address.packed
    if any(address in prefix for prefix in _NAT64) or packed[:12] == bytes(12):
        # NAT64, and the deprecated IPv4-compatible form ::a.b.c.d.
        found.append(ipaddress.IPv4Address(packed[12:]))
    return found


def _public(address: IPAddress) -> bool:
    """Say whether an address is on the public internet (and not multicast)."""
    if address.is_multicast or address.is_unspecified or not address.is_global:
        return False
    return all(_public(embedded) for embedded in _embedded_ipv4(address))


def policy() -> EgressPolicy:
    """Return the policy in force (settings are read at call time)."""
    from django.conf import settings

    return EgressPolicy.parse(getattr(settings, "SWITCHYARD_EGRESS_ALLOW", ()))


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect, and what to call the host."""

    url: httpx.URL
    scheme: str
    # ASCII (IDNA) host name, or the address literal without brackets.
    host: str
    port: int
    address: IPAddress

    @property
    def origin(self) -> tuple[str, str, int]:
        return (self.scheme, self.host, self.port)

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default_port = 443 if self.scheme == "https" else 80
        return host if self.port == default_port else f"{host}:{self.port}"

    @property
    def wire_url(self) -> httpx.URL:
        """Return the URL with the checked address in place of the host."""
        return self.url.copy_with(host=str(self.address), port=self.port, fragment=None)


def check_url(url: str | httpx.URL, *, rules: EgressPolicy | None = None) -> Target:
    """Resolve and check a URL; raise EgressDenied if the policy refuses it."""
    rules = rules if rules is not None else policy()
    if isinstance(url, str) and len(url) > MAX_URL_LENGTH:
        raise EgressDenied(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if not isinstance(url, str | httpx.URL):
        raise EgressDenied("the URL must be a string")
    try:
        parsed = httpx.URL(url)
        host = parsed.raw_host.decode("ascii").rstrip(".").lower()
    except (httpx.InvalidURL, UnicodeError, TypeError, ValueError) as exc:
        raise EgressDenied(f"{_shown(url)} is not a valid URL: {exc}") from None
    scheme = parsed.scheme
    if scheme not in ALLOWED_SCHEMES:
        raise EgressDenied(
            f"{_shown(url)}: scheme {scheme or '(none)'!r} is not allowed; "
            "only http and https"
        )
    if not host or "%" in host:
        raise EgressDenied(f"{_shown(url)} has no valid host")
    if parsed.userinfo:
        raise EgressDenied(f"{_shown(url)}: credentials in the URL are not allowed")
    port = parsed.port or (443 if scheme == "https" else 80)
    if not 0 < port < 65536:
        raise EgressDenied(f"{_shown(url)}: port {port} is out of range")
    address = _checked_address(host, port, rules, _shown(url))
    return Target(url=parsed, scheme=scheme, host=host, port=port, address=address)


def _checked_address(
    host: str, port: int, rules: EgressPolicy, shown: str
) -> IPAddress:
    """Resolve a host once; return its first address unless the policy refuses it."""
    addresses = _resolve(host, port)
    if not rules.allows_host(host):
        refused = [a for a in addresses if not rules.allows_address(a)]
        if refused:
            raise EgressDenied(
                f"{shown}: {host} resolves to {refused[0]}, which is not a "
                "public address (SWITCHYARD_EGRESS_ALLOW lists the ranges and hosts "
                "this deployment opens)"
            )
    return addresses[0]


# A DNS name or an address literal: no socket paths, lists of hosts or user info.
_HOST_NAME = re.compile(r"^[a-z0-9_]([a-z0-9_.-]{0,251}[a-z0-9_])?$")


def check_host(host: str, port: int, *, rules: EgressPolicy | None = None) -> IPAddress:
    """Resolve and check the host of a non-HTTP connection (SMTP, PostgreSQL).

    Return the address to connect to (the one checked), so that a DNS answer that
    changes between check and connect cannot steer the caller; raise EgressDenied
    when the policy refuses the host or it is not a single host name or address.
    """
    rules = rules if rules is not None else policy()
    if not isinstance(host, str) or not isinstance(port, int):
        raise EgressDenied("the host must be a name and the port a number")
    name = host.strip().rstrip(".").lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    try:
        ipaddress.ip_address(name)
    except ValueError:
        if not _HOST_NAME.match(name):
            raise EgressDenied(
                f"{_shown(host)} is not a host name or address"
            ) from None
    if not 0 < port < 65536:
        raise EgressDenied(f"{_shown(host)}: port {port} is out of range")
    return _checked_address(name, port, rules, _shown(f"{name}:{port}"))


def _resolve(host: str, port: int) -> list[IPAddress]:
    """Resolve a host once (numeric spellings like 2130706433 included)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise EgressError(f"cannot resolve {host}: {exc}") from None
    addresses: list[IPAddress] = []
    for info in infos:
        # Drop an IPv6 scope ("fe80::1%eth0"): link-local is refused anyway.
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise EgressError(f"cannot resolve {host}")
    return addresses


def _shown(url: str | httpx.URL) -> str:
    text = str(url)
    return repr(text if len(text) <= 200 else text[:200] + "…")


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """Return the TLS context: system-independent CA bundle, host names checked."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


@dataclass(frozen=True)
class EgressResponse:
    """The final answer of a request, after any redirects."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str


def request(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    json: Any = None,
    content: bytes | None = None,
    timeout_s: float = 30.0,
    max_bytes: int = MAX_RESPONSE_BYTES,
    credential_headers: Iterable[str] = (),
) -> EgressResponse:
    """Send an HTTP request under the egress policy and return the final response.

    Raise EgressDenied (not retryable) for a refused URL or redirect,
    ResponseTooLarge past `max_bytes`, InvalidRequest for headers that cannot be
    sent, and EgressError (retryable) when resolution or the connection fails or
    the exchange runs past `timeout_s`. `credential_headers` names headers that,
    like Authorization and Cookie, are dropped when a redirect leaves the origin
    (an API key header, say).
    """
    dropped = _CREDENTIAL_HEADERS | {name.lower() for name in credential_headers}
    rules = policy()
    deadline = time.monotonic() + timeout_s
    method = method.upper()
    sent_headers = _caller_headers(headers)
    # The current span's trace context (an attempt's), replacing the caller's
    # traceparent/tracestate; nothing when tracing is off (config/tracing.py).
    tracing.inject_headers(sent_headers)
    # Only encodings `_decoded` can bound.
    if "accept-encoding" not in sent_headers:
        sent_headers["Accept-Encoding"] = "gzip, deflate"
    if json is not None and content is None:
        content = json_module.dumps(json).encode()
        if "content-type" not in sent_headers:
            sent_headers["Content-Type"] = "application/json"
    target = check_url(url, rules=rules)
    for hop in range(MAX_REDIRECTS + 1):
        response = _send(target, method, sent_headers, content, deadline, max_bytes)
        location = response.headers.get("location")
        if response.status not in _REDIRECTS or not location:
            return response
        if hop == MAX_REDIRECTS:
            break
        try:
            next_url = target.url.join(location)
        except (httpx.InvalidURL, UnicodeError, TypeError, ValueError):
            raise EgressDenied(
                f"{_shown(target.url)} redirects to an invalid URL"
            ) from None
        following = check_url(next_url, rules=rules)
        if following.origin != target.origin:
            for name in dropped:
                sent_headers.pop(name, None)
        if response.status == 303 or (
            response.status in (301, 302) and method not in ("GET", "HEAD")
        ):
            if method != "HEAD":
                method = "GET"
            content = None
            sent_headers.pop("content-type", None)
        target = following
    raise EgressDenied(f"more than {MAX_REDIRECTS} redirects from {_shown(url)}")


def _caller_headers(headers: Mapping[str, str] | None) -> httpx.Headers:
    """Return the caller's headers without the ones this module sets itself."""
    try:
        given = httpx.Headers(headers or {})
    except (TypeError, ValueError, UnicodeError) as exc:
        raise InvalidRequest(f"headers cannot be sent: {exc}") from None
    # `raw` keeps the caller's spelling of each name.
    return httpx.Headers(
        [(k, v) for k, v in given.raw if k.decode().lower() not in _RESERVED_HEADERS]
    )


def _send(
    target: Target,
    method: str,
    headers: httpx.Headers,
    content: bytes | None,
    deadline: float,
    max_bytes: int,
) -> EgressResponse:
    """Send one request to the checked address, keeping the host's name."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise EgressError(f"request to {_shown(target.url)} timed out")
    sent = httpx.Headers(headers)
    sent["Host"] = target.host_header
    # The certificate is checked against this name, not the address connected to.
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    # A client per hop: its pool is keyed by address, and a connection verified
    # for one host name must not carry a request for another.
    client = httpx.Client(
        trust_env=False, follow_redirects=False, verify=_ssl_context()
    )
    try:
        with (
            client,
            client.stream(
                method,
                target.wire_url,
                headers=sent,
                content=content,
                timeout=httpx.Timeout(remaining),
                extensions=extensions,
            ) as response,
        ):
            body = bytearray()
            for chunk in response.iter_raw():
                body.extend(chunk)
                if len(body) > max_bytes:
                    raise ResponseTooLarge(max_bytes)
                if time.monotonic() > deadline:
                    raise EgressError(f"request to {_shown(target.url)} timed out")
            return EgressResponse(
                status=response.status_code,
                headers=dict(response.headers),
                body=_decoded(response, bytes(body), max_bytes),
                url=str(target.url),
            )
    except httpx.TimeoutException:
        raise EgressError(f"request to {_shown(target.url)} timed out") from None
    except httpx.LocalProtocolError as exc:
        raise InvalidRequest(
            f"request to {_shown(target.url)} cannot be sent: {exc}"
        ) from None
    except httpx.HTTPError as exc:
        raise EgressError(
            f"request to {_shown(target.url)} failed: {type(exc).__name__}"
        ) from None


def _decoded(response: httpx.Response, raw: bytes, max_bytes: int) -> bytes:
    """Undo a content encoding without letting a small body inflate past the limit."""
    encoding = response.headers.get("content-encoding", "").lower().strip()
    if encoding in ("", "identity"):
        return raw
    if encoding not in ("gzip", "deflate", "x-gzip"):
        raise InvalidRequest(f"unsupported content encoding {encoding!r}")
    wbits = 16 + zlib.MAX_WBITS if "gzip" in encoding else zlib.MAX_WBITS
    decompressor = zlib.decompressobj(wbits)
    try:
        body = decompressor.decompress(raw, max_bytes + 1)
    except zlib.error as exc:
        raise EgressError(f"bad {encoding} body: {exc}") from None
    if len(body) > max_bytes or decompressor.unconsumed_tail:
        raise ResponseTooLarge(max_bytes)
    return body
