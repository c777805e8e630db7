"""A new node type is one module plus one registry line, on the server side.

The `Note` class below is the whole of a trivial node type, as it would stand in
`engine/nodes/note.py`: its field, its check, its decision (pass through). The test
registers it (the registry line) and shows the schema, the validator, the simulator
and the runtime all take it without any other change.
"""

from collections.abc import Iterator
from typing import Any

import pytest

from designer.simulation import simulate
from engine import nodes
from engine.graph.validate import validate_graph
from engine.nodes.base import Checker, NodeType
from runs.models import RunState, StepState
from runs.services.starting import run_start
from tests.support import drive


class Note(NodeType):
    """note: a comment on the canvas that a run passes through."""

    name = "note"
    fields = {"text": {"type": "string", "maxLength": 2000}}
    required = ("text",)

    def check(self, node: dict[str, Any], checker: Checker) -> None:
        if not node["text"].strip():
            checker.warn("note_empty", "the note says nothing", node_id=node["id"])


@pytest.fixture
def note_type() -> Iterator[None]:
    nodes.register(Note())  # the one registry line
    yield
    nodes.unregister("note")


def _graph(text: str = "remember the milk") -> dict[str, Any]:
    return {
        "format": 1,
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "n", "type": "note", "text": text},
            {"id": "t", "type": "task", "action": "builtin.echo"},
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "n"},
            {"id": "e2", "source": "n", "target": "t"},
            {"id": "e3", "source": "t", "target": "done"},
        ],
    }


ACTIONS = {"builtin.echo": {"type": "object"}}


def test_an_unregistered_type_is_a_schema_error() -> None:
    result = validate_graph(_graph(), actions=ACTIONS)
    assert [i.code for i in result.errors] == ["schema"]


def test_the_schema_and_checks_come_from_the_node_module(note_type: None) -> None:
    result = validate_graph(_graph(), actions=ACTIONS)
    assert not result.errors
    missing = _graph()
    del missing["nodes"][1]["text"]
    assert [i.code for i in validate_graph(missing, actions=ACTIONS).errors] == [
        "schema"
    ]
    extra = _graph()
    extra["nodes"][1]["seconds"] = 3
    errors = validate_graph(extra, actions=ACTIONS).errors
    assert "field 'seconds' is not allowed on a note node" in errors[0].message
    warnings = validate_graph(_graph("  "), actions=ACTIONS).warnings
    assert "note_empty" in [w.code for w in warnings]


def test_the_simulator_passes_through_it(note_type: None) -> None:
    result = simulate(_graph(), mocks={"t": {"output": {"ok": True}}})
    assert result.state == "succeeded"
    assert result.path == ["start", "n", "t", "done"]


@pytest.mark.django_db
def test_a_run_passes_through_it(note_type: None, workflow_factory: Any) -> None:
    run, _ = run_start(
        workflow=workflow_factory(_graph(), slug="noted"), input={}, actor="system"
    )
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED, run.error
    note = run.steps.get(node_id="n")
    assert (note.node_type, note.state) == ("note", StepState.SUCCEEDED)
    assert note.taken_edges == ["e2"]
