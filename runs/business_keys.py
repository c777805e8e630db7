"""A run's business key: the workflow's key expression over the run's input.

The input is the caller's (a webhook's body, a batch item), so the value is hostile:
only a string or a number becomes a key (numbers as their JSON text), bounded in
length; anything else, or an expression that fails or runs out of budget, leaves the
key empty and says why. Starting a run never fails on its key.
"""

import json
from typing import Any

from engine.evaluation_budget import BudgetExceeded, EvaluationBudget, spending
from engine.expressions import ExpressionError, compile_expression

MAX_BUSINESS_KEY = 200
# A key is one small expression per start: a fraction of a webhook mapping's budget.
KEY_STEPS = 20_000
KEY_SECONDS = 0.1


def evaluate_business_key(expression: str, input: Any) -> tuple[str, str]:
    """Return (key, problem): the key ("" when none) and why it is empty ("" if not).

    `expression` is the workflow's `business_key` ("=input.order_id"; "" for none).
    """
    if not expression:
        return "", ""
    source = expression[1:] if expression.startswith("=") else expression
    budget = EvaluationBudget(steps=KEY_STEPS, seconds=KEY_SECONDS)
    try:
        with spending(budget):
            value = compile_expression(source).evaluate({"input": input})
    except (ExpressionError, BudgetExceeded) as exc:
        return "", f"business key not evaluated: {exc.message}"[:300]
    if isinstance(value, bool) or value is None:
        return "", f"business key is {json.dumps(value)}, not a string or number"
    if isinstance(value, int | float):
        value = json.dumps(value)
    if not isinstance(value, str):
        kind = "a list" if isinstance(value, list) else "an object"
        return "", f"business key is {kind}, not a string or number"
    if not value:
        return "", "business key is an empty string"
    if len(value) > MAX_BUSINESS_KEY:
        return "", f"business key is longer than {MAX_BUSINESS_KEY} characters"
    return value, ""
