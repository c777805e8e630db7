"""Check a run's input against its workflow's input schema before the run starts.

Every start goes through `runs.services.starting` (the API, batches, schedules,
webhooks, calls, map items), so a bad input is refused there: 422 `input_invalid`
at the API, naming each field (`input.customer.email`), and no run is created.
"""

import functools
import json
from typing import Any

from designer.run_settings import input_validator
from engine.errors import UNPROCESSABLE
from runs.errors import BatchItemError, RunError

# The most problems one answer lists, and how long each message may be (jsonschema
# quotes the offending value, which may be large).
MAX_INPUT_ERRORS = 20
MAX_MESSAGE = 300


class InputInvalid(RunError):
    """A run's input does not fit its workflow's input schema (422)."""

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__("input_invalid", f"{first['field']}: {first['message']}{more}")
        self.problems = problems

    def error_kind(self) -> str:
        return UNPROCESSABLE

    def errors(self) -> list[dict[str, Any]]:
        return [{"code": self.code, **problem} for problem in self.problems]


class BatchInputInvalid(BatchItemError):
    """One run request of a batch has a bad input, so none of the batch starts."""

    def __init__(self, index: int, error: InputInvalid) -> None:
        super().__init__(index, error)
        self.problems = error.problems

    def errors(self) -> list[dict[str, Any]]:
        return [
            {
                "code": self.code,
                "message": problem["message"],
                "field": f"runs.{self.index}.{problem['field']}",
            }
            for problem in self.problems
        ]


def field_path(path: Any) -> str:
    """Return `input.a.b[0]` for a jsonschema error's absolute path."""
    text = "input"
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


@functools.lru_cache(maxsize=256)
def _validator(schema_json: str) -> Any:
    # Building a validator reads the whole schema; a workflow's schema changes rarely.
    return input_validator(json.loads(schema_json))


def input_problems(schema: dict[str, Any], value: Any) -> list[dict[str, Any]]:
    """Return what is wrong with `value` under `schema`: [{field, message}], in order.

    An empty schema accepts any object.
    """
    if not schema:
        return []
    validator = _validator(json.dumps(schema, sort_keys=True))
    problems = []
    for error in validator.iter_errors(value):
        message = error.message
        if len(message) > MAX_MESSAGE:
            message = message[: MAX_MESSAGE - 1] + "…"
        problems.append({"field": field_path(error.absolute_path), "message": message})
        if len(problems) >= MAX_INPUT_ERRORS:
            break
    problems.sort(key=lambda problem: problem["field"])
    return problems


def check_run_input(schema: dict[str, Any], value: Any) -> None:
    """Raise InputInvalid when `value` does not fit `schema`."""
    problems = input_problems(schema, value)
    if problems:
        raise InputInvalid(problems)
