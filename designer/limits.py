"""Bounds on the work a design request may do: a budget per request, limits per user.

Validating, running test cases, computing coverage and publishing through a gate all
simulate runs (or compile expressions) in the web process, and every expression is
author-written. Each expression is bounded on its own (engine.expressions);
`simulation_budget` bounds the sum for one request. Per user, `SimulationThrottle`
bounds how many simulating requests arrive a minute, and how many seconds they may
take together: each request reserves its whole budget's seconds when it is let in
(atomically, so a burst of parallel requests cannot all pass: at most allowance /
budget of them run at once) and gives back what it did not use when it answers
(`SimulatingApi`).
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from engine.evaluation_budget import EvaluationBudget, current_budget, spending

# steps and seconds: one request; user_seconds_per_minute: one user's requests.
DEFAULT_BUDGET: dict[str, float] = {
    "steps": 1_000_000,
    "seconds": 3.0,
    "user_seconds_per_minute": 20.0,
}
DEFAULT_RATE = "60/min"
# What a request reserved of its user's seconds: (cache key, milliseconds, start).
_RESERVATION = "_simulation_reservation"


def budget_limits() -> dict[str, float]:
    """Return SWITCHYARD_SIMULATION_BUDGET over the defaults (read at each call)."""
    return {**DEFAULT_BUDGET, **getattr(settings, "SWITCHYARD_SIMULATION_BUDGET", {})}


@contextmanager
def simulation_budget() -> Iterator[EvaluationBudget]:
    """Charge the simulations in this block to one budget (the request's, if one is
    already open); raise BudgetExceeded at the end if it ran out."""
    open_budget = current_budget()
    if open_budget is not None:
        yield open_budget
        return
    limits = budget_limits()
    budget = EvaluationBudget(
        steps=int(limits["steps"]), seconds=float(limits["seconds"])
    )
    with spending(budget):
        yield budget
    budget.check()


class SimulationThrottle(UserRateThrottle):
    """At most SWITCHYARD_SIMULATION_RATE simulating requests per user, taking at
    most `user_seconds_per_minute` together."""

    scope = "simulation"

    def get_rate(self) -> str:
        # Read at call time (DRF reads its rates once, at import).
        return str(getattr(settings, "SWITCHYARD_SIMULATION_RATE", DEFAULT_RATE))

    def allow_request(self, request: Any, view: Any) -> bool:
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        self.retry_after: float | None = None
        if not super().allow_request(request, view):
            return False
        return self.reserve(request, view)

    def reserve(self, request: Any, view: Any) -> bool:
        """Take the request's whole budget of seconds from its user's minute, or
        refuse it when the user's requests have already taken their allowance."""
        ident = self.get_cache_key(request, view)
        if ident is None:
            return True
        limits = budget_limits()
        allowance = int(float(limits["user_seconds_per_minute"]) * 1000)
        reserved = int(float(limits["seconds"]) * 1000)
        now = self.timer()
        key = f"{ident}_ms_{int(now // 60)}"
        cache.add(key, 0, 120)
        try:
            spent = cache.incr(key, reserved)
        except ValueError:  # expired between add and incr
            cache.set(key, reserved, 120)
            spent = reserved
        # Let a request in while the user is under the allowance (so one request
        # may go past it, by at most its own budget).
        if spent - reserved >= allowance:
            cache.decr(key, reserved)
            self.retry_after = 60 - now % 60
            return False
        setattr(request, _RESERVATION, (key, reserved, time.monotonic()))
        return True

    def wait(self) -> float | None:
        if self.retry_after is not None:
            return self.retry_after
        return super().wait()


def settle(request: Any) -> None:
    """Give back what a request reserved and did not use (or charge its overrun)."""
    reservation = getattr(request, _RESERVATION, None)
    if reservation is None:
        return
    setattr(request, _RESERVATION, None)
    key, reserved, started = reservation
    used = int((time.monotonic() - started) * 1000)
    try:
        if used < reserved:
            cache.decr(key, reserved - used)
        elif used > reserved:
            cache.incr(key, used - reserved)
    except ValueError:  # the minute's count expired: nothing to correct
        pass


class SimulatingApi(APIView):
    """A view that simulates: throttled per user, its time charged to its user."""

    throttle_classes = [SimulationThrottle]

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        settle(request)
        return super().finalize_response(request, response, *args, **kwargs)
