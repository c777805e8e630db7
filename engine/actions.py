"""Registry of actions: callables `(params, context) -> output` with a params schema."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

ActionFunc = Callable[[dict[str, Any], "ActionContext"], Any]


class ActionError(Exception):
    """Raise from an action to fail the attempt with a named error type."""

    retryable: bool = True

    def __init__(
        self, message: str, *, error_type: str | None = None, retryable: bool = True
    ) -> None:
        super().__init__(message)
        self.error_type = error_type or type(self).__name__
        self.retryable = retryable


def _no_log(message: str) -> None:
    """Where `context.log` writes outside a worker (tests calling an action)."""


@dataclass(frozen=True)
class ActionContext:
    """What an action knows about the step it runs for."""

    run_id: int
    node_id: str
    attempt: int
    # Stable across attempts and redeliveries: "run:node:stepseq".
    idempotency_key: str
    input: Any
    timeout_s: float
    # Write a line to the attempt's log (captured, bounded, streamed to the run page).
    log: Callable[[str], None] = _no_log
    # The connection the `connection` param names, its secrets decrypted on the worker
    # only (engine.connections.ResolvedConnection), or None.
    connection: Any = None


@dataclass(frozen=True)
class Action:
    """A registered action and the JSON Schema of its params."""

    name: str
    func: ActionFunc
    params_schema: Mapping[str, Any]
    description: str = ""
    side_effects: bool = False
    tags: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """Return the action as the actions API serves it."""
        return {
            "name": self.name,
            "description": self.description,
            "params_schema": dict(self.params_schema),
            "side_effects": self.side_effects,
        }


_REGISTRY: dict[str, Action] = {}
# {action name: (params schema, its validator)}; the schema is kept so that an action
# registered again with another schema gets a new validator.
_VALIDATORS: dict[str, tuple[Mapping[str, Any], Any]] = {}
MAX_PARAM_PROBLEMS = 5


def params_problems(action: Action, params: Any) -> list[str]:
    """Return what is wrong with evaluated params, checked against the action's
    schema (a few messages, each naming the parameter)."""
    from jsonschema import Draft202012Validator
    from jsonschema.validators import validator_for

    cached = _VALIDATORS.get(action.name)
    if cached is None or cached[0] is not action.params_schema:
        schema = dict(action.params_schema)
        validator_class = validator_for(schema, default=Draft202012Validator)
        cached = (action.params_schema, validator_class(schema))
        _VALIDATORS[action.name] = cached
    errors = sorted(cached[1].iter_errors(params), key=lambda e: list(e.path))
    problems = []
    for error in errors[:MAX_PARAM_PROBLEMS]:
        where = "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}"
            for part in error.absolute_path
        )
        message = error.message if len(error.message) <= 300 else error.message[:300]
        problems.append(f"params{where}: {message}")
    return problems


def action(
    name: str,
    *,
    params_schema: Mapping[str, Any] | None = None,
    description: str = "",
    side_effects: bool = False,
) -> Callable[[ActionFunc], ActionFunc]:
    """Register the decorated callable as the action `name`."""

    def register(func: ActionFunc) -> ActionFunc:
        existing = _REGISTRY.get(name)
        if existing is not None and existing.func is not func:
            qualname = getattr(func, "__qualname__", repr(func))
            if getattr(existing.func, "__qualname__", None) != qualname:
                raise ValueError(f"action {name!r} is already registered")
        _REGISTRY[name] = Action(
            name=name,
            func=func,
            params_schema=params_schema or {"type": "object"},
            description=description or (func.__doc__ or "").strip().split("\n")[0],
            side_effects=side_effects,
        )
        return func

    return register


def get_action(name: str) -> Action:
    """Return the action registered as `name`; KeyError if there is none."""
    return _REGISTRY[name]


def registered_actions() -> dict[str, Action]:
    """Return every registered action by name."""
    return dict(_REGISTRY)


def error_type_of(exc: BaseException) -> str:
    """Return the error name a retry policy matches against."""
    return getattr(exc, "error_type", None) or type(exc).__name__
