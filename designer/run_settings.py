"""What a workflow asks of the runs it starts: the input schema, saved sample inputs,
the business key, and how long finished runs are kept.

Stored on the workflow and edited through its settings (`PATCH .../settings/`); each
cleaner here raises `RunSettingsError` (400) naming what is wrong.
"""

import json
from typing import Any

from jsonschema import Draft202012Validator, SchemaError
from jsonschema.validators import validator_for

from engine.errors import INVALID, DomainError
from engine.expressions import ExpressionError, compile_expression

MAX_INPUT_SCHEMA_BYTES = 32_768
MAX_SAMPLE_INPUTS = 20
MAX_SAMPLE_NAME = 100
MAX_SAMPLE_BYTES = 65_536
MAX_KEY_EXPRESSION = 500
MAX_RETENTION_DAYS = 3650


class RunSettingsError(DomainError):
    """A run setting that cannot be used (400)."""

    kind = INVALID

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")).encode())


def input_validator(schema: dict[str, Any]) -> Any:
    """Return a validator for a checked input schema (empty: anything goes)."""
    validator_class = validator_for(schema, default=Draft202012Validator)
    return validator_class(schema)


def clean_input_schema(value: Any) -> dict[str, Any]:
    """Return a JSON Schema for run input (an object schema), or {} for none."""
    if value is None or value == {}:
        return {}
    if not isinstance(value, dict):
        raise RunSettingsError("bad_input_schema", "input_schema must be an object")
    if _size(value) > MAX_INPUT_SCHEMA_BYTES:
        raise RunSettingsError(
            "bad_input_schema",
            f"input_schema is larger than {MAX_INPUT_SCHEMA_BYTES} bytes",
        )
    if value.get("type", "object") != "object":
        raise RunSettingsError(
            "bad_input_schema",
            'input_schema must describe an object ("type": "object")',
        )
    try:
        validator_for(value, default=Draft202012Validator).check_schema(value)
    except SchemaError as exc:
        raise RunSettingsError(
            "bad_input_schema",
            f"input_schema is not a valid JSON Schema: {exc.message}",
        ) from exc
    return value


def clean_sample_inputs(value: Any) -> list[dict[str, Any]]:
    """Return named sample inputs: [{"name": str, "input": object}], names unique."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise RunSettingsError("bad_sample_inputs", "sample_inputs must be a list")
    if len(value) > MAX_SAMPLE_INPUTS:
        raise RunSettingsError(
            "bad_sample_inputs", f"at most {MAX_SAMPLE_INPUTS} sample inputs"
        )
    seen: set[str] = set()
    cleaned = []
    for index, item in enumerate(value):
        where = f"sample_inputs[{index}]"
        if not isinstance(item, dict) or set(item) != {"name", "input"}:
            raise RunSettingsError(
                "bad_sample_inputs",
                f'{where} must be {{"name": ..., "input": {{...}}}}',
            )
        name, data = item["name"], item["input"]
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_SAMPLE_NAME:
            raise RunSettingsError(
                "bad_sample_inputs",
                f"{where}.name must be text of 1 to {MAX_SAMPLE_NAME} characters",
            )
        if name in seen:
            raise RunSettingsError("bad_sample_inputs", f"{where}: {name!r} is twice")
        seen.add(name)
        if not isinstance(data, dict):
            raise RunSettingsError(
                "bad_sample_inputs", f"{where}.input must be an object"
            )
        if _size(data) > MAX_SAMPLE_BYTES:
            raise RunSettingsError(
                "bad_sample_inputs",
                f"{where}.input is larger than {MAX_SAMPLE_BYTES} bytes",
            )
        cleaned.append({"name": name.strip(), "input": data})
    return cleaned


def clean_business_key(value: Any) -> str:
    """Return a business key expression ("=input.order_id"), or "" for none."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or not value.startswith("="):
        raise RunSettingsError(
            "bad_business_key", 'business_key must be an expression starting with "="'
        )
    if len(value) > MAX_KEY_EXPRESSION:
        raise RunSettingsError(
            "bad_business_key",
            f"business_key is longer than {MAX_KEY_EXPRESSION} characters",
        )
    try:
        compile_expression(value[1:])
    except ExpressionError as exc:
        raise RunSettingsError(
            "bad_business_key", f"business_key: {exc.message}"
        ) from exc
    return value


def clean_retention_days(value: Any) -> int | None:
    """Return how many days finished runs are kept (None: forever)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise RunSettingsError("bad_retention", "retention_days must be a whole number")
    if not 1 <= value <= MAX_RETENTION_DAYS:
        raise RunSettingsError(
            "bad_retention", f"retention_days must be 1 to {MAX_RETENTION_DAYS}"
        )
    return value
