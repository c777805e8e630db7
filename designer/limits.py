"""Bounds on the work a design request may do: a total budget and a rate per user.

Validating with test cases, running test cases and computing coverage all simulate
runs in the web process, and every expression they evaluate is author-written. Each
expression is bounded on its own (engine.expressions); `simulation_budget` bounds
their sum and the simulated steps around them for one request, and
`SimulationThrottle` bounds how often one user may ask.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from rest_framework.throttling import UserRateThrottle

from engine.evaluation_budget import EvaluationBudget, current_budget, spending

DEFAULT_BUDGET = {"steps": 1_000_000, "seconds": 3.0}
DEFAULT_RATE = "60/min"


@contextmanager
def simulation_budget() -> Iterator[EvaluationBudget]:
    """Charge the simulations in this block to one budget (the request's, if one is
    already open); raise BudgetExceeded at the end if it ran out."""
    open_budget = current_budget()
    if open_budget is not None:
        yield open_budget
        return
    limits = {**DEFAULT_BUDGET, **getattr(settings, "SWITCHYARD_SIMULATION_BUDGET", {})}
    budget = EvaluationBudget(
        steps=int(limits["steps"]), seconds=float(limits["seconds"])
    )
    with spending(budget):
        yield budget
    budget.check()


class SimulationThrottle(UserRateThrottle):
    """At most SWITCHYARD_SIMULATION_RATE simulating requests per user."""

    scope = "simulation"

    def get_rate(self) -> str:
        # Read at call time (DRF reads its rates once, at import).
        return str(getattr(settings, "SWITCHYARD_SIMULATION_RATE", DEFAULT_RATE))

    def allow_request(self, request: Any, view: Any) -> bool:
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)
