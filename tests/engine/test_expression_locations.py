"""Expression errors at run time say where the expression sits: a param or an edge."""

import pytest

from engine.expressions import ExpressionError, evaluate_params
from engine.graph.compiled import CompiledGraph


@pytest.mark.parametrize(
    ("params", "where"),
    [
        ({"url": "=input.x"}, "params.url (=input.x): "),
        ({"json": {"order": "=input.x"}}, "params.json.order (=input.x): "),
        ({"headers": [{"v": "ok"}, {"v": "=input.x"}]}, "params.headers[1].v "),
        (["=input.x"], "params[0] (=input.x): "),
    ],
)
def test_param_errors_name_the_param_path(params: object, where: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        evaluate_params(params, {"input": {}})
    assert caught.value.message.startswith(where)
    assert "no such member in mapping: 'x'" in caught.value.message
    assert caught.value.source == "input.x"


def test_a_long_param_expression_is_cut_in_the_message() -> None:
    source = "input.x + " + " + ".join(["1"] * 100)
    with pytest.raises(ExpressionError) as caught:
        evaluate_params({"n": "=" + source}, {"input": {}})
    head = caught.value.message.split("): ", 1)[0]
    assert head.endswith("…")
    assert len(head) < 80


def test_literal_and_escaped_params_are_untouched() -> None:
    assert evaluate_params({"a": "==x", "b": [1, "y"]}, {}) == {
        "a": "=x",
        "b": [1, "y"],
    }


def _choice(when: str) -> CompiledGraph:
    return CompiledGraph(
        {
            "nodes": [
                {"id": "start", "type": "start"},
                {"id": "choice", "type": "choice"},
                {"id": "approve", "type": "end"},
                {"id": "other", "type": "end"},
            ],
            "edges": [
                {"id": "e1", "source": "start", "target": "choice"},
                {"id": "e2", "source": "choice", "target": "approve", "when": when},
                {"id": "e3", "source": "choice", "target": "other", "default": True},
            ],
        }
    )


def test_condition_errors_name_the_edge() -> None:
    graph = _choice("input.amount > 10")
    with pytest.raises(ExpressionError) as caught:
        graph.route("choice", succeeded=True, context={"input": {}})
    assert caught.value.message.startswith(
        "edge e2 choice→approve (when input.amount > 10): cannot evaluate: "
    )


def test_a_condition_that_is_not_boolean_names_the_edge() -> None:
    graph = _choice("input.amount")
    with pytest.raises(ExpressionError) as caught:
        graph.route("choice", succeeded=True, context={"input": {"amount": 3}})
    assert caught.value.message == (
        "edge e2 choice→approve (when input.amount): condition must be true or false"
    )


def test_conditions_that_evaluate_still_route() -> None:
    graph = _choice("input.amount > 10")
    assert graph.route("choice", succeeded=True, context={"input": {"amount": 11}}) == [
        "e2"
    ]
    assert graph.route("choice", succeeded=True, context={"input": {"amount": 1}}) == [
        "e3"
    ]
