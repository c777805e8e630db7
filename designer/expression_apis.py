"""HTTP API for the editor's expression help: compile one expression, say where it
is wrong (`POST /api/v1/expressions/check/`)."""

import re
from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from config.errors import LimitedCharField
from designer import access
from designer.limits import SimulatingApi, SimulationThrottle, simulation_budget
from engine.expressions import MAX_SOURCE_LENGTH, ExpressionError, compile_expression

# What the check answers: {"ok": true} or {"ok": false, "errors": [...]}, each
# error with its position in the source (1-based line and column, 0-based offset).
_SYNTAX_AT = re.compile(r"at line (\d+), column (\d+)")
_NAMED = re.compile(r"unknown (?:name|function|method) '([A-Za-z_]\w*)'")


# An expression field asks as its author types (once a pause): more often than the
# simulating requests, and on a budget of its own so that typing never throttles a
# validation or a test run.
DEFAULT_EXPRESSION_RATE = "300/min"


class ExpressionThrottle(SimulationThrottle):
    """At most SWITCHYARD_EXPRESSION_RATE expression checks and previews per user."""

    scope = "expression"

    def get_rate(self) -> str:
        return str(
            getattr(settings, "SWITCHYARD_EXPRESSION_RATE", DEFAULT_EXPRESSION_RATE)
        )


class ExpressionApi(SimulatingApi):
    """A view that compiles or evaluates one expression for the editor."""

    throttle_classes = [ExpressionThrottle]


class ExpressionInput(serializers.Serializer):
    # The source without the leading "=" of a param (a "=" is taken off if sent).
    expression = LimitedCharField(
        max_length=MAX_SOURCE_LENGTH + 1, trim_whitespace=False
    )


class ExpressionProblem(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    line = serializers.IntegerField()
    column = serializers.IntegerField()
    offset = serializers.IntegerField()


class ExpressionCheckOutput(serializers.Serializer):
    ok = serializers.BooleanField()
    errors = ExpressionProblem(many=True, required=False)


def expression_source(text: str) -> str:
    """Return the CEL source of a field's text: "=x" and "x" are both `x`."""
    return text[1:] if text.startswith("=") else text


def _offset(source: str, line: int, column: int) -> int:
    lines = source.split("\n")
    before = sum(len(text) + 1 for text in lines[: max(0, line - 1)])
    return min(len(source), before + max(0, column - 1))


def _position(source: str, offset: int) -> tuple[int, int]:
    head = source[:offset]
    line = head.count("\n") + 1
    return line, offset - (head.rfind("\n") + 1) + 1


def problem_of(source: str, exc: ExpressionError) -> dict[str, Any]:
    """Return an expression error with its position (the start when none is known)."""
    offset = 0
    syntax = _SYNTAX_AT.search(exc.message)
    named = _NAMED.search(exc.message)
    if syntax:
        offset = _offset(source, int(syntax[1]), int(syntax[2]))
    elif named:
        found = re.search(rf"(?<![\w.]){re.escape(named[1])}\b", source) or re.search(
            rf"\b{re.escape(named[1])}\b", source
        )
        offset = found.start() if found else 0
    line, column = _position(source, offset)
    return {
        "code": "bad_expression",
        "message": exc.message,
        "line": line,
        "column": column,
        "offset": offset,
    }


def check_expression(source: str) -> list[dict[str, Any]]:
    """Return the problems of one expression's source, or [] when it compiles."""
    try:
        compile_expression(source)
    except ExpressionError as exc:
        return [problem_of(source, exc)]
    return []


class ExpressionCheckApi(ExpressionApi):
    """Compile an expression as the engine would; 200 either way, with positions."""

    perms = {"POST": access.VIEW}

    @extend_schema(request=ExpressionInput, responses=ExpressionCheckOutput)
    def post(self, request: Request) -> Response:
        data = ExpressionInput(data=request.data)
        data.is_valid(raise_exception=True)
        source = expression_source(data.validated_data["expression"])
        with simulation_budget():
            errors = check_expression(source)
        if errors:
            return Response({"ok": False, "errors": errors})
        return Response({"ok": True})
