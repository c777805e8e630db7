"""Action transform: build an output object from expressions, with no side effects."""

from __future__ import annotations

from typing import Any

from engine.actions import ActionContext, action


@action(
    "transform",
    params_schema={
        "type": "object",
        "properties": {
            "output": {
                "type": "object",
                "maxProperties": 1000,
                "description": 'The output to build; values starting with "=" are '
                'expressions, e.g. {"total": "=input.price * input.qty"}',
            },
        },
        "required": ["output"],
        "additionalProperties": False,
    },
    description="Build an output object from expressions (no side effects)",
)
def transform(params: dict[str, Any], context: ActionContext) -> dict[str, Any]:
    """Build an output object from expressions (no side effects)."""
    # The engine evaluated the "=" values before the call: what is left is data.
    output: dict[str, Any] = params["output"]
    return output
