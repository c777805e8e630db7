"""Failed password logins and token attempts are limited per address and username."""

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

LIMIT = 10


@pytest.fixture
def bob(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("bob", password="bob-password-1")


def _login(client: Client, username: str, password: str, **extra: Any) -> Any:
    return client.post("/login/", {"username": username, "password": password}, **extra)


def _fail(client: Client, times: int, username: str = "bob", **extra: Any) -> None:
    for _ in range(times):
        response = _login(client, username, "wrong-password", **extra)
        assert response.status_code == 200  # the form again, with its error


def test_the_eleventh_bad_password_gets_429_with_a_readable_page(
    client: Client, bob: Any
) -> None:
    _fail(client, LIMIT)
    response = _login(client, "bob", "wrong-password")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    page = response.content.decode()
    assert 'data-testid="login-throttled"' in page
    assert "Too many failed logins" in page
    assert "5 minutes" in page
    # While locked, the right password is refused too: a guess learns nothing.
    assert _login(client, "bob", "bob-password-1").status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_right_password_works_after_the_window(client: Client, bob: Any) -> None:
    _fail(client, LIMIT)
    assert _login(client, "bob", "bob-password-1").status_code == 429
    cache.clear()  # the window passed: the cache forgot the failures
    response = _login(client, "bob", "bob-password-1")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(bob.pk)


def test_fewer_failures_than_the_limit_do_not_lock_and_a_login_resets_them(
    client: Client, bob: Any
) -> None:
    _fail(client, LIMIT - 1)
    assert _login(client, "bob", "bob-password-1").status_code == 302
    client.logout()
    # The username's count was cleared; another address could now fail 10 times.
    _fail(client, LIMIT - 1, REMOTE_ADDR="10.0.0.9")
    assert _login(client, "bob", "wrong", REMOTE_ADDR="10.0.0.9").status_code == 200


def test_a_username_is_limited_across_addresses(client: Client, bob: Any) -> None:
    for n in range(LIMIT):
        _fail(client, 1, REMOTE_ADDR=f"10.0.1.{n}")
    response = _login(client, "bob", "bob-password-1", REMOTE_ADDR="10.0.2.1")
    assert response.status_code == 429


def test_an_address_is_limited_across_usernames(
    client: Client, bob: Any, django_user_model: Any
) -> None:
    django_user_model.objects.create_user("carol", password="carol-password-1")
    for n in range(LIMIT):
        _fail(client, 1, username=f"guess{n}")
    assert _login(client, "carol", "carol-password-1").status_code == 429
    # Another address is not affected.
    other = _login(client, "carol", "carol-password-1", REMOTE_ADDR="10.0.3.1")
    assert other.status_code == 302


def test_the_admin_login_counts_and_is_limited_too(client: Client, bob: Any) -> None:
    for _ in range(LIMIT):
        response = client.post(
            "/admin/login/", {"username": "bob", "password": "wrong-password"}
        )
        assert response.status_code == 200
    response = client.post(
        "/admin/login/", {"username": "bob", "password": "wrong-password"}
    )
    assert response.status_code == 429
    assert _login(client, "bob", "bob-password-1").status_code == 429


@override_settings(SWITCHYARD_LOGIN_THROTTLE_FAILURES=3)
def test_the_limit_is_a_setting(client: Client, bob: Any) -> None:
    _fail(client, 3)
    assert _login(client, "bob", "wrong-password").status_code == 429


def test_bad_tokens_get_429_after_the_limit(bob: Any) -> None:
    api = APIClient()
    for n in range(LIMIT):
        api.credentials(HTTP_AUTHORIZATION=f"Token bad{n:037d}")
        response = api.get("/api/v1/me/")
        assert response.status_code == 401
    response = api.get("/api/v1/me/")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    error = response.json()["errors"][0]
    assert error["code"] == "throttled"
    assert "failed token attempts" in error["message"]
    # A good token from that address waits too.
    token = Token.objects.create(user=bob)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get("/api/v1/me/").status_code == 429
    # Another address with the good token goes through.
    assert api.get("/api/v1/me/", REMOTE_ADDR="10.0.4.1").status_code == 200
    cache.clear()
    assert api.get("/api/v1/me/").status_code == 200


def test_good_tokens_and_sessions_are_never_counted(bob: Any) -> None:
    token = Token.objects.create(user=bob)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    for _ in range(LIMIT + 5):
        assert api.get("/api/v1/me/").status_code == 200
