"""The API docs page: Swagger UI for signed-in people, files from this host."""

import re
from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_signed_out_people_are_sent_to_log_in(client: Client) -> None:
    response = client.get("/api/docs/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_page_loads_swagger_ui_from_this_host_without_inline_script(
    client: Client, user: Any
) -> None:
    client.force_login(user)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'<script src="([^"]+)"', html)
    assert any(s.endswith("swagger-ui-bundle.js") for s in sources)
    assert all(s.startswith("/") for s in sources)  # no CDN
    assert "<script>" not in html  # the CSP allows no inline script
    assert 'data-testid="nav-api"' in html
    assert "default-src 'self'" in response["Content-Security-Policy"]

    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()
