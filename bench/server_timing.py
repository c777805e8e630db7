"""Settings of a bench's web server: the local ones, plus a `Server-Timing` header.

`server_timing` (here, first in the middleware chain) times Django's whole middleware
chain and view, the publishes after commit included, and answers it as
`Server-Timing: app;dur=<ms>`. Daphne's HTTP parsing is outside it: the client's round
trip shows it. The middleware is async under ASGI, so it adds no hop between threads.
"""

import os
import time
from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import sync_and_async_middleware

from config.settings.local import *  # noqa: F403
from config.settings.local import DATABASES
from config.settings.local import MIDDLEWARE as LOCAL_MIDDLEWARE

MIDDLEWARE = ["bench.server_timing.server_timing", *LOCAL_MIDDLEWARE]

if os.environ.get("BENCH_DB_POOL"):
    # `start.py --db-pool`: psycopg's connection pool (pip install psycopg-pool).
    # Under ASGI each request runs in a thread of its own, and Django's connections
    # are per thread: without a pool every request opens a new one.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"]["pool"] = True


def _stamp(response: HttpResponse, began: float) -> HttpResponse:
    response["Server-Timing"] = f"app;dur={(time.perf_counter() - began) * 1000:.3f}"
    return response


@sync_and_async_middleware
def server_timing(get_response: Callable[[HttpRequest], Any]) -> Any:
    """Add `Server-Timing: app;dur=<ms>` to every answer."""
    if iscoroutinefunction(get_response):

        async def timed_async(request: HttpRequest) -> HttpResponse:
            began = time.perf_counter()
            response = await get_response(request)
            return _stamp(response, began)

        return timed_async

    def timed(request: HttpRequest) -> HttpResponse:
        began = time.perf_counter()
        return _stamp(get_response(request), began)

    return timed
