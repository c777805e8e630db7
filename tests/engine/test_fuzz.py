"""Fuzzing the pure core: the graph validator and the expression language never crash
on any input, and evaluating an expression is bounded in steps and in memory."""

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.expressions import (
    MAX_EVALUATION_STEPS,
    MAX_VALUE_DEPTH,
    MAX_VALUE_SIZE,
    ExpressionError,
    compile_expression,
)
from engine.graph.issues import ValidationResult
from engine.graph.schema import GraphLimits, _shape_ok
from engine.graph.validate import validate_graph
from engine.nodes import node_types

# celpy raises the recursion limit when its environment is first built; build it now,
# not inside a Hypothesis example (which warns about it).
compile_expression("1")

# Bounded for CI: a few hundred examples each, and a deadline far above the worst
# case (a whole step budget takes well under a second).
fuzz = settings(
    max_examples=150,
    deadline=timedelta(seconds=10),
    suppress_health_check=[HealthCheck.too_slow],
)

ACTIONS: dict[str, dict[str, Any]] = {
    "builtin.noop": {"type": "object"},
    "builtin.http": {
        "type": "object",
        "required": ["url"],
        "properties": {"url": {"type": "string"}, "json": {}},
    },
}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=40,
)

# -- graphs ------------------------------------------------------------------------

NODE_KEYS = ["id", "type", "label", "action", "params", "retry", "queue",
             "priority", "timeout_s", "compensate_with", "to", "outcomes", "sla_s",
             "context", "escalate_to", "mode", "seconds", "status", "max_visits",
             "extra"]  # fmt: skip
EDGE_KEYS = ["id", "source", "target", "when", "default", "on", "extra"]
IDS = ["start", "a", "b", "done", "n-1", "", "bad id!"]
SCALARS = st.sampled_from(
    [
        None,
        True,
        False,
        0,
        1,
        -1,
        2.5,
        10**20,
        "",
        "x",
        "start",
        "done",
        "a",
        "builtin.noop",
        "builtin.http",
        "=input.x",
        "input.x > 1",
        "outcome == 'ok'",
        "failure",
        "all",
        "any",
        "failed",
        "full",
        {},
        [],
        {"group": "g"},
        ["ok", "no"],
        {"max_attempts": 2},
        {"url": "=input.url"},
    ]  # fmt: skip
)
field_values = SCALARS | json_values


@st.composite
def graph_like(draw: st.DrawFn) -> Any:
    """Draw graph-shaped documents: the right keys, anything as values."""
    nodes = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "id": st.sampled_from(IDS),
                    "type": st.sampled_from([*node_types(), 7]),
                },
                optional={key: field_values for key in NODE_KEYS[2:]},
            ),
            max_size=8,
        )
    )
    edges = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "id": st.sampled_from(["e1", "e2", "e3", "e1"]),
                    "source": st.sampled_from(IDS),
                    "target": st.sampled_from(IDS),
                },
                optional={key: field_values for key in EDGE_KEYS[3:]},
            ),
            max_size=10,
        )
    )
    graph: dict[str, Any] = {"format": draw(st.sampled_from([1, 2, "1"]))}
    graph["nodes"] = nodes
    graph["edges"] = edges
    for key in ("defaults", "layout", "max_concurrent_runs", "extra"):
        if draw(st.booleans()):
            graph[key] = draw(field_values)
    return graph


def _validate(graph: Any, limits: GraphLimits = GraphLimits()) -> ValidationResult:  # noqa: B008
    result = validate_graph(graph, actions=ACTIONS, limits=limits)
    assert isinstance(result, ValidationResult)
    for issue in [*result.errors, *result.warnings]:
        assert isinstance(issue.code, str) and isinstance(issue.message, str)
    result.to_dict()  # serialisable for the API
    return result


@fuzz
@given(json_values)
def test_validator_returns_a_result_for_any_json(graph: Any) -> None:
    _validate(graph)


@fuzz
@given(graph_like())
def test_validator_returns_a_result_for_any_graph_shaped_document(graph: Any) -> None:
    _validate(graph)


@fuzz
@given(json_values | graph_like())
def test_fast_schema_path_answers_yes_or_no_for_any_document(graph: Any) -> None:
    assert _shape_ok(graph) in (True, False)


@fuzz
@given(graph_like(), st.integers(0, 6), st.integers(0, 6), st.integers(0, 600))
def test_graphs_over_a_limit_get_only_too_large(
    graph: Any, nodes: int, edges: int, size: int
) -> None:
    result = _validate(graph, GraphLimits(nodes=nodes, edges=edges, bytes=size))
    codes = {issue.code for issue in result.errors}
    over = (
        len(graph["nodes"]) > nodes
        or len(graph["edges"]) > edges
        or "too_large" in codes  # the byte count, measured by the validator
    )
    assert ("too_large" in codes) is over
    if over:
        assert codes == {"too_large"}


def test_validator_reports_a_document_too_deep_to_measure() -> None:
    deep: Any = []
    for _ in range(100_000):
        deep = [deep]
    graph = {"format": 1, "nodes": [{"id": "start", "type": "start", "x": deep}]}
    result = _validate(graph)
    assert [issue.code for issue in result.errors] == ["too_large"]


# -- expressions -------------------------------------------------------------------

LEAVES = st.sampled_from(
    [
        "input",
        "input.x",
        "input.items",
        "input.s",
        "steps",
        "steps.a.output",
        "outcome",
        "run.id",
        "attempt",
        "x",
        "r",
        "i",
        "1",
        "0",
        "-3",
        "2.5",
        "1e308",
        "9223372036854775807",
        "3u",
        "true",
        "false",
        "null",
        "'ab'",
        '"x"',
        "b'by'",
        "[]",
        "{}",
        "[1, 2, 3]",
        "{'k': 1}",
        "duration('1s')",
        "timestamp('2024-01-01T00:00:00Z')",
    ]  # fmt: skip
)
BINARY = ["+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "in"]
MACROS = ["map", "filter", "all", "exists", "exists_one"]
FUNCTIONS = ["size", "string", "int", "double", "type", "has", "dyn", "bool"]
METHODS = ["contains", "startsWith", "endsWith", "matches", "size"]


def _expressions() -> st.SearchStrategy[str]:
    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(inner, st.sampled_from(BINARY), inner).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"
            ),
            st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})"),
            st.tuples(st.sampled_from(["!", "-"]), inner).map("".join),
            st.tuples(st.sampled_from(FUNCTIONS), inner).map(
                lambda t: f"{t[0]}({t[1]})"
            ),
            st.tuples(inner, st.sampled_from(METHODS), inner).map(
                lambda t: f"{t[0]}.{t[1]}({t[2]})"
            ),
            st.tuples(inner, st.sampled_from(MACROS), inner).map(
                lambda t: f"{t[0]}.{t[1]}(x, {t[2]})"
            ),
            st.tuples(inner, inner, inner).map(
                lambda t: f"{t[0]}.reduce(r, i, {t[1]}, {t[2]})"
            ),
            st.lists(inner, max_size=3).map(lambda xs: f"[{', '.join(xs)}]"),
            st.lists(st.tuples(inner, inner), max_size=2).map(
                lambda kv: "{" + ", ".join(f"{k}: {v}" for k, v in kv) + "}"
            ),
            st.tuples(inner, inner).map(lambda t: f"{t[0]}[{t[1]}]"),
            st.tuples(inner, st.sampled_from(["x", "output", "a"])).map(".".join),
        )

    return st.recursive(LEAVES, extend, max_leaves=12)


contexts = st.fixed_dictionaries(
    {
        "input": st.fixed_dictionaries(
            {
                "x": json_values,
                "items": st.lists(st.integers(), max_size=50),
                "s": st.text(max_size=50),
            }
        )
        | json_values,
        "steps": st.dictionaries(
            st.sampled_from(["a", "b"]),
            st.fixed_dictionaries({"output": json_values}),
            max_size=2,
        ),
        "outcome": st.none() | st.text(max_size=10),
        "run": st.fixed_dictionaries({"id": st.integers(1, 10**6)}),
        "attempt": st.integers(1, 5),
    }
)


def _compile_and_evaluate(source: str, context: dict[str, Any]) -> None:
    try:
        expression = compile_expression(source)
    except ExpressionError as exc:
        assert exc.message
        return
    try:
        expression.evaluate(context)
        expression.evaluate_condition(context)
    except ExpressionError as exc:
        assert exc.message


@fuzz
@given(_expressions(), contexts)
def test_well_formed_expressions_evaluate_or_raise_expression_error(
    source: str, context: dict[str, Any]
) -> None:
    _compile_and_evaluate(source, context)


@fuzz
@given(st.text(max_size=300), contexts)
def test_any_text_compiles_or_raises_expression_error(
    source: str, context: dict[str, Any]
) -> None:
    _compile_and_evaluate(source, context)


@fuzz
@given(st.one_of(st.none(), st.integers(), st.binary(), json_values))
def test_non_text_is_refused_with_expression_error(source: Any) -> None:
    with pytest.raises(ExpressionError):
        compile_expression(source)


# -- bounds ------------------------------------------------------------------------

TEN = "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"
THIRTY = "[" + ", ".join(str(n) for n in range(30)) + "]"
# A list of itself twice, 17 times over: 2^18 entries once written out.
BIG = "[" + ", ".join(str(n) for n in range(17)) + "].reduce(r, i, [1], [r, r])"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        # 10^6 inner evaluations: refused after the step budget, not run to the end.
        (
            f"{TEN}.map(a, {TEN}.map(b, {TEN}.map(c, {TEN}.map(d, "
            f"{TEN}.map(e, {TEN}.map(f, 1))))))",
            f"more than {MAX_EVALUATION_STEPS} steps",
        ),
        ("input.items.map(x, input.items.map(y, x + y))", "steps"),
        # A string doubled 30 times would be 2 GB.
        (f"{THIRTY}.reduce(r, i, 'ab', r + r)", f"the limit is {MAX_VALUE_SIZE}"),
        # A list of itself twice: tiny in memory, 2^30 entries written out as JSON.
        (f"{THIRTY}.reduce(r, i, [1], [r, r])", f"the limit is {MAX_VALUE_SIZE}"),
        (
            "[" + ", ".join(["0"] * 150) + "].reduce(r, i, [], [r])",
            f"deeper than {MAX_VALUE_DEPTH} levels",
        ),
        # Comparing large values costs steps in proportion to their size.
        (f"input.items.map(x, {BIG} == {BIG})", "steps"),
        # Python would repeat the string; CEL has no such operator.
        ("true * 'ab'", "no operator * for bool and string"),
        ("input.items * 3", "no operator * for list and int"),
    ],
)
def test_evaluation_is_bounded(source: str, message: str) -> None:
    expression = compile_expression(source)
    with pytest.raises(ExpressionError) as raised:
        expression.evaluate({"input": {"items": list(range(1000))}})
    assert message in raised.value.message
    assert raised.value.source == source


def test_reading_a_large_context_value_is_not_building_one() -> None:
    """The value limits apply to what an expression builds, not to what it reads."""
    big = {"blob": "x" * (MAX_VALUE_SIZE + 10), "items": list(range(1000))}
    context = {"input": big, "steps": {"a": {"output": big}}}
    assert compile_expression("size(input.blob) > 0").evaluate(context) is True
    assert compile_expression("steps.a.output.items[999]").evaluate(context) == 999
    assert compile_expression("dyn(input).blob == input.blob").evaluate(context)
    assert (
        len(compile_expression("input.items.filter(x, x < 5)").evaluate(context)) == 5
    )


def test_each_evaluation_gets_a_fresh_budget() -> None:
    expression = compile_expression(f"{TEN}.map(a, {TEN}.map(b, {TEN}.map(c, a)))")
    for _ in range(3):
        assert len(expression.evaluate({})) == 10
