"""egress.check_host: the egress policy for the hosts of SMTP and PostgreSQL
connections (one host name or address, public unless the policy opens it)."""

import ipaddress
from typing import Any

import pytest

from engine.egress import EgressDenied, EgressPolicy, check_host

OPEN_LOOPBACK = EgressPolicy.parse("127.0.0.1/32")


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.1",
        "[::1]",
        "::ffff:127.0.0.1",
        "10.1.2.3",
        "169.254.169.254",
        "0.0.0.0",  # noqa: S104 - refused, not bound to
        "/var/run/postgresql",
        "db.example.com,127.0.0.1",
        "user@db.example.com",
        "db example.com",
        "",
    ],
)
def test_a_host_that_is_not_one_public_address_is_refused(host: str) -> None:
    with pytest.raises(EgressDenied):
        check_host(host, 5432, rules=EgressPolicy())


def test_a_public_address_passes_and_is_what_to_connect_to() -> None:
    assert check_host("8.8.8.8", 25, rules=EgressPolicy()) == ipaddress.ip_address(
        "8.8.8.8"
    )
    assert check_host("[2606:4700::1111]", 25, rules=EgressPolicy()) == (
        ipaddress.ip_address("2606:4700::1111")
    )


def test_the_policy_opens_a_range_and_the_port_is_checked() -> None:
    assert str(check_host("127.0.0.1", 5432, rules=OPEN_LOOPBACK)) == "127.0.0.1"
    with pytest.raises(EgressDenied, match="10.1.2.3"):
        check_host("10.1.2.3", 5432, rules=OPEN_LOOPBACK)
    for port in (0, 70000):
        with pytest.raises(EgressDenied, match="port"):
            check_host("127.0.0.1", port, rules=OPEN_LOOPBACK)


def test_the_settings_policy_applies_by_default(settings: Any) -> None:
    settings.SWITCHYARD_EGRESS_ALLOW = []
    with pytest.raises(EgressDenied, match="SWITCHYARD_EGRESS_ALLOW"):
        check_host("127.0.0.1", 25)
    settings.SWITCHYARD_EGRESS_ALLOW = ["127.0.0.1/32"]
    assert str(check_host("127.0.0.1", 25)) == "127.0.0.1"
