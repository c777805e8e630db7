"""Tests for CEL expressions: compiling, evaluating, conditions and params."""

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.expressions import (
    MAX_SOURCE_LENGTH,
    Expression,
    ExpressionError,
    compile_expression,
    evaluate_params,
    is_truthy_condition,
    param_expressions,
)


def context(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "input": {"order": {"amount": 1500, "currency": "EUR"}},
        "steps": {"charge": {"output": {"status": "ok", "fee": 2.5}}},
        "outcome": None,
        "run": {"id": 7},
        "attempt": 1,
    }
    return {**base, **overrides}


def evaluate(source: str, **overrides: Any) -> Any:
    return compile_expression(source).evaluate(context(**overrides))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("input.order.amount > 1000", True),
        ("input.order.amount > 2000", False),
        ("input.order.amount >= 1500 && input.order.currency == 'EUR'", True),
        ("steps.charge.output.status == 'ok'", True),
        ("steps.charge.output.status != 'ok'", False),
        ("run.id == 7", True),
        ("attempt < 3", True),
        ("'EUR' in ['EUR', 'USD']", True),
        ("size(input.order.currency) == 3", True),
        ("has(input.order.coupon)", False),
        ("input.order.currency.startsWith('E')", True),
    ],
)
def test_evaluates_comparisons_and_string_equality(source: str, expected: bool) -> None:
    assert evaluate(source) is expected


def test_outcome_equality_routes_handoffs() -> None:
    expression = compile_expression("outcome == 'approve'")
    assert expression.evaluate(context(outcome="approve")) is True
    assert expression.evaluate(context(outcome="reject")) is False
    assert expression.evaluate(context(outcome=None)) is False


@pytest.mark.parametrize("amount", [1500, 1500.0, 1000.5, 999, 999.99, 1000, 1000.0])
@pytest.mark.parametrize("literal", ["1000", "1000.0"])
def test_compares_ints_and_doubles_by_value(amount: float, literal: str) -> None:
    """JSON does not tell 1000 from 1000.0, so both compare by numeric value."""
    order = {"order": {"amount": amount}}
    assert evaluate(f"input.order.amount > {literal}", input=order) is (amount > 1000)
    assert evaluate(f"input.order.amount == {literal}", input=order) is (amount == 1000)
    assert evaluate(f"{literal} <= input.order.amount", input=order) is (amount >= 1000)


def test_mixed_int_and_double_arithmetic_gives_a_double() -> None:
    assert evaluate("1 + steps.charge.output.fee") == 3.5
    assert evaluate("steps.charge.output.fee * 2") == 5.0
    assert evaluate("input.order.amount / 2") == 750
    assert isinstance(evaluate("input.order.amount / 2"), int)


def test_equality_between_different_types_is_false_not_an_error() -> None:
    assert evaluate("attempt == 1", attempt=None) is False
    assert evaluate("attempt != 1", attempt=None) is True
    assert evaluate("'1' == 1") is False


def test_results_come_back_as_plain_json_values() -> None:
    value = evaluate("{'list': [1, 2.5, 'x', null, true], 'map': input.order, 'n': 3u}")
    assert value == {
        "list": [1, 2.5, "x", None, True],
        "map": {"amount": 1500, "currency": "EUR"},
        "n": 3,
    }
    assert type(value["list"][0]) is int
    assert type(value["list"][1]) is float
    assert type(value["list"][4]) is bool
    assert type(value["map"]["currency"]) is str


def test_context_values_that_are_not_json_become_strings() -> None:
    import uuid

    run_id = uuid.UUID(int=42)
    assert evaluate("run.id", run={"id": run_id}) == str(run_id)


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("input.order.missing > 1", "no such member"),
        ("steps.refund.output.status == 'ok'", "no such member"),
        ("input.order.amount / 0", "divide by zero"),
        ("'a' + 1", "no operator + for string and int"),
        ("input.order.amount < 'a'", "no operator < for int and string"),
        ("1.0 / 0.0", "not a finite number"),
        ("b'bytes'", "bytes"),
        ("[1, 2][5]", "cannot evaluate"),
        ("9223372036854775807 + 1", "cannot evaluate"),
    ],
)
def test_evaluation_errors_raise_expression_error(source: str, fragment: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        evaluate(source)
    assert fragment in caught.value.message
    assert caught.value.source == source


def test_a_context_that_is_not_json_raises_expression_error() -> None:
    with pytest.raises(ExpressionError):
        compile_expression("input").evaluate({"input": {1, 2}})


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("input.amount >", "syntax error at line 1, column"),
        ("a ==== b", "syntax error"),
        ("'unterminated", "syntax error"),
        ("", "empty"),
        ("   ", "empty"),
        ("x" * (MAX_SOURCE_LENGTH + 1), "longer than"),
        ("(" * 60 + "1" + ")" * 60, "nested too deeply"),
        ("inputs.amount > 1", "unknown name 'inputs'"),
        ("amount > 1", "unknown name 'amount'"),
        ("eval('1')", "unknown function 'eval'"),
        ("input.name.upper()", "unknown method 'upper'"),
    ],
)
def test_bad_sources_fail_to_compile(source: str, fragment: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(source)
    assert fragment in caught.value.message
    assert caught.value.source == source


def test_macro_variables_and_type_names_are_known_names() -> None:
    items = {"items": [1, 2, 3]}
    assert evaluate("input.items.all(x, x > 0)", input=items) is True
    assert evaluate("input.items.exists(i, i == 2)", input=items) is True
    assert evaluate("input.items.map(x, x * 2)", input=items) == [2, 4, 6]
    assert evaluate("input.items.filter(x, x > 1)", input=items) == [2, 3]
    assert evaluate("type(input.items) == list", input=items) is True


def test_compile_is_cached_by_source() -> None:
    first = compile_expression("input.order.amount > 1000")
    second = compile_expression("input.order.amount > 1000")
    assert first is second
    assert isinstance(first, Expression)
    assert first.source == "input.order.amount > 1000"


def test_conditions_must_be_booleans() -> None:
    assert is_truthy_condition(True) is True
    assert is_truthy_condition(False) is False
    values: list[Any] = [1, 0, "true", None, [], {}]
    for value in values:
        with pytest.raises(ExpressionError, match="condition must be true or false"):
            is_truthy_condition(value)


def test_evaluate_condition_refuses_a_non_boolean_result() -> None:
    expression = compile_expression("input.order.amount")
    with pytest.raises(ExpressionError, match="true or false") as caught:
        expression.evaluate_condition(context())
    assert caught.value.source == "input.order.amount"
    assert compile_expression("attempt == 1").evaluate_condition(context()) is True


def test_evaluate_params_walks_nested_values() -> None:
    params = {
        "method": "POST",
        "json": "=input.order",
        "headers": {"X-Amount": "=string(input.order.amount)", "X-Fixed": "plain"},
        "items": ["=attempt", "==literal", "=== also literal", 3, None, True],
        "literal": "==input.order",
    }
    assert evaluate_params(params, context()) == {
        "method": "POST",
        "json": {"amount": 1500, "currency": "EUR"},
        "headers": {"X-Amount": "1500", "X-Fixed": "plain"},
        "items": [1, "=literal", "== also literal", 3, None, True],
        "literal": "=input.order",
    }


def test_evaluate_params_uses_given_compiled_expressions() -> None:
    compiled = {"attempt": compile_expression("attempt + 1")}
    assert evaluate_params({"n": "=attempt"}, context(), expressions=compiled) == {
        "n": 2
    }


def test_evaluate_params_raises_on_a_failing_expression() -> None:
    with pytest.raises(ExpressionError):
        evaluate_params({"x": "=input.nope"}, context())


def test_param_expressions_lists_paths_and_sources() -> None:
    params = {
        "json": "=input.order",
        "headers": {"auth": "=steps.login.output.token", "plain": "x"},
        "items": ["a", "=attempt", {"deep": "=run.id"}],
        "escaped": "==not an expression",
    }
    assert param_expressions(params) == [
        ("json", "input.order"),
        ("headers.auth", "steps.login.output.token"),
        ("items[1]", "attempt"),
        ("items[2].deep", "run.id"),
    ]
    assert param_expressions({}) == []
    assert param_expressions({"empty": "="}) == [("empty", "")]


cel_text = st.text(
    alphabet=st.sampled_from(list("inputsx.()[]{}<>=!&|+-*/%?:,'\" 0123456789eu_")),
    max_size=40,
) | st.sampled_from(
    ["input.order.amount", "steps.charge.output", "outcome", "attempt", "run.id"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(cel_text, min_size=1, max_size=4).map(" ".join))
def test_compile_and_evaluate_raise_nothing_but_expression_errors(
    source: str,
) -> None:
    try:
        expression = compile_expression(source)
        expression.evaluate(context())
    except ExpressionError as exc:
        assert exc.message
