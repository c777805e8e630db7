"""Security headers on every answer: pages, the API, errors and the admin."""

import re
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

EXPECTED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _policy(response: Any) -> dict[str, str]:
    """Return the Content-Security-Policy as {directive: sources}."""
    header = response["Content-Security-Policy"]
    directives = (part.strip().split(" ", 1) for part in header.split(";"))
    return {name: sources for name, sources in directives}


def _assert_secure(response: Any) -> dict[str, str]:
    for name, value in EXPECTED.items():
        assert response[name] == value, name
    assert "camera=()" in response["Permissions-Policy"]
    policy = _policy(response)
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"  # no inline script, no eval
    assert policy["connect-src"] == "'self' ws: wss:"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert re.fullmatch(r"'self' 'nonce-[\w-]{20,}'", policy["style-src"])
    return policy


@pytest.fixture
def browser(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("path", ["/", "/board/", "/handoffs/"])
def test_pages_send_the_security_headers(browser: Client, path: str) -> None:
    response = browser.get(path)
    assert response.status_code == 200
    _assert_secure(response)


def test_login_page_sends_them_to_visitors() -> None:
    response = Client().get("/login/")
    assert response.status_code == 200
    _assert_secure(response)


def test_pages_have_no_inline_style_or_script(browser: Client) -> None:
    """The shared look is a static file; templates carry no inline CSS or JS."""
    html = browser.get("/").content.decode()
    assert "<style" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert 'href="/static/switchyard/base.css"' in html
    assert browser.get("/static/switchyard/base.css").status_code == 200


@pytest.mark.parametrize(
    ("path", "status"),
    [("/api/v1/me/", 200), ("/api/v1/workflows/nope/", 404), ("/api/schema/", 200)],
)
def test_api_answers_send_them(api: APIClient, path: str, status: int) -> None:
    response = api.get(path)
    assert response.status_code == status
    _assert_secure(response)


def test_refusals_send_them() -> None:
    _assert_secure(APIClient().get("/api/v1/me/"))  # 401
    response = APIClient().generic(
        "POST",
        "/api/v1/workflows/",
        "x",
        content_type="application/json",
        CONTENT_LENGTH=str(10**9),
    )
    assert response.status_code == 413
    _assert_secure(response)


def test_each_request_gets_its_own_nonce_for_inline_styles(user: Any) -> None:
    """The admin's handoff pages keep a small <style>, allowed by the nonce only."""
    user.is_staff = user.is_superuser = True
    user.save()
    client = Client()
    client.force_login(user)
    first = client.get("/admin/runs/handoff/")
    second = client.get("/admin/runs/handoff/")
    assert first.status_code == second.status_code == 200
    nonces = [
        _policy(r)["style-src"].split("'nonce-")[1].rstrip("'") for r in (first, second)
    ]
    assert nonces[0] != nonces[1]
    assert f'<style nonce="{nonces[0]}">' in first.content.decode()
