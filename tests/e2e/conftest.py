"""Browser fixtures: Debian's chromium driven by Playwright against a live server."""

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import grant

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between browser steps are plain blocking calls, which Django would otherwise refuse.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(
            "chromium is missing: `make test` installs it (apt-get install chromium)"
        )
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


@pytest.fixture
def logged_in(page: Any, asgi_server: str, live_db: Any, django_user_model: Any) -> Any:
    """Log a real user in through the login form."""
    grant(
        django_user_model.objects.create_user(
            "operator", password="operator-password-1"
        ),
        "editor",
        "operator",
    )
    page.goto(f"{asgi_server}/login/")
    page.fill("input[name=username]", "operator")
    page.fill("input[name=password]", "operator-password-1")
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(f"{asgi_server}/")
    return page
