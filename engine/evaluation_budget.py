"""A budget for all the evaluation one request does: total steps and wall time.

Each expression is bounded on its own (engine.expressions); a request that evaluates
many (a simulation of test cases, say) opens one `EvaluationBudget` with `spending`,
and every evaluation step and every `charge` inside it draws from that budget.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from engine.errors import UNPROCESSABLE, DomainError


class BudgetExceeded(DomainError):
    """The work a whole request (many evaluations, a simulation) may do is spent (422).

    Not an ExpressionError: it ends the request, not just the step that noticed.
    """

    kind = UNPROCESSABLE

    def __init__(self, message: str) -> None:
        super().__init__("budget_exceeded", message)

    def errors(self) -> list[dict[str, Any]]:
        return [
            {
                "code": self.code,
                "message": f"stopped: {self.message}; simplify the expressions or "
                "the test cases, or run fewer cases at once",
            }
        ]


class EvaluationBudget:
    """Total steps and wall time for everything evaluated under one `spending`."""

    # Check the clock every this many steps (time.monotonic is cheap, not free).
    CLOCK_EVERY = 256

    def __init__(self, *, steps: int, seconds: float) -> None:
        self.limit_steps = steps
        self.limit_seconds = seconds
        self.steps = steps
        self.deadline = time.monotonic() + seconds
        self._until_clock = self.CLOCK_EVERY
        # Why the budget ran out, once it has (kept even if a caller swallowed the
        # exception: the request still ends with it).
        self.exhausted: str | None = None

    def spend(self, steps: int = 1) -> None:
        """Take steps; raise BudgetExceeded when steps or time run out."""
        if self.exhausted:
            raise BudgetExceeded(self.exhausted)
        self.steps -= steps
        if self.steps < 0:
            self.exhausted = (
                f"this request needs more than {self.limit_steps} evaluation steps"
            )
            raise BudgetExceeded(self.exhausted)
        self._until_clock -= steps
        if self._until_clock <= 0:
            self._until_clock = self.CLOCK_EVERY
            if time.monotonic() > self.deadline:
                self.exhausted = (
                    f"this request needs more than {self.limit_seconds:g} s of work"
                )
                raise BudgetExceeded(self.exhausted)

    def check(self) -> None:
        """Raise BudgetExceeded if the budget ran out at any point."""
        if self.exhausted:
            raise BudgetExceeded(self.exhausted)


_BUDGET: contextvars.ContextVar[EvaluationBudget | None] = contextvars.ContextVar(
    "evaluation_budget", default=None
)


@contextmanager
def spending(budget: EvaluationBudget) -> Iterator[EvaluationBudget]:
    """Charge every evaluation (and `charge` call) in this block to `budget`."""
    token = _BUDGET.set(budget)
    try:
        yield budget
    finally:
        _BUDGET.reset(token)


def current_budget() -> EvaluationBudget | None:
    """Return the budget evaluations are charged to now, if any."""
    return _BUDGET.get()


def charge(steps: int = 1) -> None:
    """Charge work done outside expressions (a simulated step) to the budget."""
    budget = _BUDGET.get()
    if budget is not None:
        budget.spend(steps)
