"""Shared fixtures: users, API clients, a real Celery worker and a real ASGI server."""

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings
from rest_framework.test import APIClient

from config.processes import web_command
from tests.servers import start_worker, stop_process
from tests.support import free_port, grant, wait_for


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last. Playwright's sync API keeps an event loop running in
    the main thread for the rest of the session, and Django's test Client cannot call
    an async view (the webhook endpoint) from a thread with a running loop."""
    e2e = f"{os.sep}e2e{os.sep}"
    items.sort(key=lambda item: e2e in str(item.path))


ROOT = Path(__file__).resolve().parent.parent


def _flush_with_retry() -> None:
    """Let the flush after a transactional test retry when it loses a deadlock.

    The flush TRUNCATEs every table at once while the test's worker and web server
    may still be in a transaction (the sweeper runs every few seconds); PostgreSQL
    then picks the TRUNCATE as the deadlock victim. Trying again is what a person
    would do.
    """
    from django.core.management.base import CommandError
    from django.test.testcases import TransactionTestCase

    original = TransactionTestCase._fixture_teardown

    def teardown(self: Any) -> None:
        for attempt in range(5):
            try:
                original(self)
                return
            except CommandError:
                if attempt == 4:
                    raise

    TransactionTestCase._fixture_teardown = teardown  # type: ignore[method-assign]


_flush_with_retry()


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Cached metrics of one test must not leak into the next."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def user(django_user_model: Any) -> Any:
    # Alice administers Switchyard: most tests are about what things do, not who
    # may do them (tests/test_permissions.py is about that).
    return grant(
        django_user_model.objects.create_user("alice", password="alice-password-1"),
        "admin",
    )


@pytest.fixture
def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def workflow_factory(user: Any) -> Any:
    """Create a workflow with a published version of the given graph."""
    from designer import services
    from runs import releases

    def make(graph: dict[str, Any], slug: str = "wf", publish: bool = True) -> Any:
        workflow = services.workflow_create(slug=slug, name=slug.title())
        version, _ = services.version_create(
            workflow=workflow, graph=graph, created_by=user
        )
        if publish:
            version = releases.version_publish(version=version)
            workflow.refresh_from_db()
        return workflow

    return make


def _test_db_env() -> dict[str, str]:
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "SWITCHYARD_TEST_DATABASE_URL": url,
        "SWITCHYARD_TEST_REDIS_URL": settings.TEST_REDIS_URL,
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture(scope="session")
def clean_redis() -> None:
    """Empty the test Redis database once: stale queues and relay positions go."""
    redis.Redis.from_url(settings.TEST_REDIS_URL).flushdb()


@pytest.fixture(scope="session")
def celery_worker_process(
    django_db_setup: Any,
    django_db_blocker: Any,
    clean_redis: None,
    tmp_path_factory: Any,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a real Celery worker (with beat) against the test database and Redis."""
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    process = start_worker(
        log,
        env=_test_db_env(),
        what="celery worker",
        queues=["default", "payments"],
        concurrency=2,
        name=f"test-{os.getpid()}",
        beat_schedule=log.parent / "beat-schedule",
        loglevel="INFO",
    )
    process.log_path = log  # type: ignore[attr-defined]
    yield process
    stop_process(process)


@pytest.fixture(scope="session")
def asgi_server(
    django_db_setup: Any,
    django_db_blocker: Any,
    clean_redis: None,
    tmp_path_factory: Any,
) -> Iterator[str]:
    """Run daphne serving the app against the test database; yield its base URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("daphne") / "daphne.log"
    process = subprocess.Popen(
        web_command(host="127.0.0.1", port=port),
        cwd=ROOT,
        env=_test_db_env(),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )

    def listening() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"daphne exited:\n{log.read_text()[-4000:]}")
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    wait_for(listening, timeout=60, what="daphne listening")
    yield f"http://127.0.0.1:{port}"
    stop_process(process)


@pytest.fixture
def live_db(transactional_db: Any, celery_worker_process: Any) -> Any:
    """Committed database plus a running worker, for tests across processes."""
    return celery_worker_process
