"""Signing people in for the browser tests."""

from typing import Any

from tests.support import grant


def log_in(page: Any, base: str, users: Any, username: str, *roles: str) -> Any:
    """Create a user with `roles` and log them in through the login form."""
    password = f"{username}-password-1"
    grant(users.objects.create_user(username, password=password), *roles)
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(f"{base}/")
    return page
