"""Mark FSM transitions with django-fsm, keeping each method's signature for mypy.

django-fsm types `transition(...)` as returning a decorator from `Any` to `Any`, so
every decorated method would read as `Any`: a call with a wrong argument passes the
type checker. This wrapper only narrows that type; at run time it is django-fsm's.
"""

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import django_fsm
from django.db import models

# A state as django-fsm takes it: a choices member or its stored value.
StateValue = str | int | models.Choices

_Method = TypeVar("_Method", bound=Callable[..., Any])


def transition(
    *,
    field: django_fsm.FSMFieldMixin | str,
    source: StateValue | Sequence[StateValue] = django_fsm.ANY_STATE,
    target: StateValue | django_fsm.State | None = None,
    on_error: StateValue | None = None,
    # Guards are called with the model instance; they must not change anything.
    conditions: list[Callable[[Any], bool]] | None = None,
    permission: str | Callable[[Any, Any], bool] | None = None,
    custom: dict[str, Any] | None = None,
) -> Callable[[_Method], _Method]:
    """Return django-fsm's transition decorator, typed to keep the method's type."""
    return django_fsm.transition(
        field=field,
        source=source,
        target=target,
        on_error=on_error,
        conditions=conditions,
        permission=permission,
        custom=custom,
    )
