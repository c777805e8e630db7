"""One outbound HTTP policy for every action that reaches the network.

A workflow author controls the URL an action calls, at save time and, through
expressions, at run time. Left alone, that is a way into the host and its network
(file:// reads, the cloud metadata address, services on loopback or the private
network). Every request an action sends goes through `request`, which:

- allows the schemes http and https only;
- resolves the host once, refuses it unless every address is public (loopback,
  private, link-local, shared, multicast, reserved, unspecified and the IPv6 forms
  that embed such an IPv4 address are refused), and connects to the address it
  checked, so a DNS answer that changes between check and connect cannot steer it
  (the Host header and TLS server name stay the original host's);
- follows at most MAX_REDIRECTS redirects, each checked the same way;
- bounds the response's size and the whole exchange's time.

`SWITCHYARD_EGRESS_ALLOW` (setting, or the environment variable of that name:
comma-separated CIDRs and host names) opens ranges and hosts a deployment trusts,
e.g. "10.20.0.0/16,billing.internal". Nothing else does, in any settings module.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from engine.actions import ActionError

MAX_REDIRECTS = 5
MAX_RESPONSE_BYTES = 1_000_000
ALLOWED_SCHEMES = ("http", "https")
_REDIRECTS = (301, 302, 303, 307, 308)
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
    """The request could not complete (connection, timeout): worth retrying."""

    def __init__(self, message: str) -> None:
        super().__init__(message, error_type="HttpError", retryable=True)


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
        return host.lower().rstrip(".") in self.hosts

    def allows_address(self, address: IPAddress) -> bool:
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

    url: str
    scheme: str
    host: str
    port: int
    address: IPAddress


def check_url(url: str, *, rules: EgressPolicy | None = None) -> Target:
    """Resolve and check a URL; raise EgressDenied if the policy refuses it."""
    rules = rules if rules is not None else policy()
    if not isinstance(url, str) or len(url) > 8000:
        raise EgressDenied("the URL must be a string of at most 8000 characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise EgressDenied(f"{_shown(url)} is not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise EgressDenied(
            f"{_shown(url)}: scheme {scheme or '(none)'!r} is not allowed; "
            "only http and https"
        )
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise EgressDenied(f"{_shown(url)} has no host")
    if parts.username or parts.password:
        raise EgressDenied(f"{_shown(url)}: credentials in the URL are not allowed")
    port = port or (443 if scheme == "https" else 80)
    addresses = _resolve(host, port)
    if not rules.allows_host(host):
        refused = [a for a in addresses if not rules.allows_address(a)]
        if refused:
            raise EgressDenied(
                f"{_shown(url)}: {host} resolves to {refused[0]}, which is not a "
                "public address (SWITCHYARD_EGRESS_ALLOW lists the ranges and hosts "
                "this deployment opens)"
            )
    return Target(url=url, scheme=scheme, host=host, port=port, address=addresses[0])


def _resolve(host: str, port: int) -> list[IPAddress]:
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


def _shown(url: str) -> str:
    return repr(url if len(url) <= 200 else url[:200] + "…")


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
) -> EgressResponse:
    """Send an HTTP request under the egress policy and return the final response.

    Raise EgressDenied (not retryable) for a refused URL or redirect,
    ResponseTooLarge past `max_bytes`, and EgressError (retryable) when the
    connection fails or the whole exchange takes longer than `timeout_s`.
    """
    rules = policy()
    deadline = time.monotonic() + timeout_s
    method = method.upper()
    sent_headers = dict(headers or {})
    # Only encodings `_decoded` can bound.
    sent_headers.setdefault("Accept-Encoding", "gzip, deflate")
    if json is not None and content is None:
        import json as json_module

        content = json_module.dumps(json).encode()
        sent_headers.setdefault("Content-Type", "application/json")
    with httpx.Client(trust_env=False, follow_redirects=False, verify=True) as client:
        for _hop in range(MAX_REDIRECTS + 1):
            target = check_url(url, rules=rules)
            response = _send(
                client, target, method, sent_headers, content, deadline, max_bytes
            )
            location = response.headers.get("location")
            if response.status not in _REDIRECTS or not location:
                return response
            url = urljoin(target.url, location)
            if response.status == 303 or (
                response.status in (301, 302) and method not in ("GET", "HEAD")
            ):
                method, content = "GET", None
                sent_headers.pop("Content-Type", None)
        raise EgressDenied(f"more than {MAX_REDIRECTS} redirects from {_shown(url)}")


def _send(
    client: httpx.Client,
    target: Target,
    method: str,
    headers: dict[str, str],
    content: bytes | None,
    deadline: float,
    max_bytes: int,
) -> EgressResponse:
    """Send one request to the checked address, keeping the host's name."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise EgressError(f"request to {_shown(target.url)} timed out")
    parts = urlsplit(target.url)
    literal = (
        f"[{target.address}]" if target.address.version == 6 else str(target.address)
    )
    netloc = f"{literal}:{target.port}"
    wire_url = urlunsplit((target.scheme, netloc, parts.path, parts.query, ""))
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if ":" not in target.host else f"[{target.host}]"
    if target.port != default_port:
        host_header = f"{host_header}:{target.port}"
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    try:
        with client.stream(
            method,
            wire_url,
            headers={**headers, "Host": host_header},
            content=content,
            timeout=httpx.Timeout(remaining),
            extensions=extensions,
        ) as response:
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
                url=target.url,
            )
    except httpx.TimeoutException:
        raise EgressError(f"request to {_shown(target.url)} timed out") from None
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
        raise EgressError(f"unsupported content encoding {encoding!r}")
    import zlib

    wbits = 16 + zlib.MAX_WBITS if "gzip" in encoding else zlib.MAX_WBITS
    decompressor = zlib.decompressobj(wbits)
    try:
        body = decompressor.decompress(raw, max_bytes + 1)
    except zlib.error as exc:
        raise EgressError(f"bad {encoding} body: {exc}") from None
    if len(body) > max_bytes or decompressor.unconsumed_tail:
        raise ResponseTooLarge(max_bytes)
    return body
