"""The OpenAPI schema at /api/schema/ answers signed-in users and tokens only."""

from typing import Any

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_the_schema_refuses_anonymous_clients() -> None:
    response = APIClient().get("/api/schema/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    # The error comes in the format asked for (YAML by default, like the schema).
    as_json = APIClient().get("/api/schema/?format=json")
    assert as_json.status_code == 401
    assert as_json.json()["errors"][0]["code"] == "not_authenticated"


def test_the_schema_answers_a_token_or_a_session(django_user_model: Any) -> None:
    # Any signed-in user, with or without a role: the schema is no secret from them.
    user = django_user_model.objects.create_user("nora", password="nora-password-1")
    token = Token.objects.create(user=user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = api.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/v1/workflows/" in response.content
    session = APIClient()
    session.force_login(user)
    assert session.get("/api/schema/").status_code == 200
