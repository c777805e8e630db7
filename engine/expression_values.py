"""Values across the expression sandbox: plain JSON in, CEL values out, and back.

Also home of ExpressionError, which both directions raise (engine.expressions
re-exports it, where every caller imports it from).
"""

from __future__ import annotations

import datetime
import decimal
import math
import uuid
from collections.abc import Mapping
from typing import Any

import celpy
from celpy import celtypes
from celpy.evaluation import CELEvalError

from engine.evaluation_budget import EvaluationBudget

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


class ExpressionError(Exception):
    """Report an expression that cannot be compiled or evaluated."""

    def __init__(self, message: str, source: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.source = source


def to_cel(value: Any, budget: EvaluationBudget | None = None) -> Any:
    """Convert a plain-JSON value to CEL like celpy.json_to_cel, plus UUIDs, dates.

    With a budget, spend a step on each value converted.
    """
    if budget is not None:
        budget.spend()
    if value is None or isinstance(value, bool | str | float):
        return celpy.json_to_cel(value)
    if isinstance(value, int):
        if _INT64_MIN <= value <= _INT64_MAX:
            return celtypes.IntType(value)
        return celtypes.DoubleType(float(value))  # beyond int64: keep its magnitude
    if isinstance(value, Mapping):
        items = value.items()
        return celtypes.MapType(
            {celtypes.StringType(str(key)): to_cel(item, budget) for key, item in items}
        )
    if isinstance(value, list | tuple):
        return celtypes.ListType([to_cel(item, budget) for item in value])
    if isinstance(value, decimal.Decimal):
        return celtypes.DoubleType(float(value))
    if isinstance(value, datetime.datetime):
        return celtypes.TimestampType(value)
    if isinstance(value, datetime.timedelta):
        return celtypes.DurationType(value)
    if isinstance(value, uuid.UUID | datetime.date):
        return celtypes.StringType(str(value))  # as Django's JSON encoder writes them
    raise ExpressionError(f"context value of type {type(value).__name__} is not JSON")


def to_json(value: Any, budget: EvaluationBudget | None = None) -> Any:
    """Convert a CEL result to plain JSON values; refuse what JSON cannot hold.

    With a budget, spend a step on each value converted.
    """
    if budget is not None:
        budget.spend()
    if isinstance(value, CELEvalError):
        raise value
    if value is None:
        return None
    if isinstance(value, celtypes.BoolType | bool):
        return bool(value)
    if isinstance(value, celtypes.TimestampType):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, celtypes.DurationType):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ExpressionError(f"result {value} is not a finite number")
        return float(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, celtypes.BytesType | bytes):
        raise ExpressionError("result is bytes, which JSON cannot hold")
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Mapping):
        return {_json_key(key): to_json(item, budget) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(item, budget) for item in value]
    raise ExpressionError(f"result of type {type(value).__name__} is not JSON")


def _json_key(key: Any) -> str:
    if isinstance(key, celtypes.BoolType | bool):
        return "true" if key else "false"
    return str(key)
