"""The fast schema check and jsonschema agree on every graph (accept/reject)."""

import copy
import random
from typing import Any

import fastjsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.graph.schema import _shape_ok, graph_schema, graph_validator

BASE: dict[str, Any] = {
    "format": 1,
    "defaults": {"retry": {"max_attempts": 3, "jitter": "full"}, "timeout_s": 60},
    "max_concurrent_runs": 5,
    "nodes": [
        {"id": "start", "type": "start"},
        {"id": "charge", "type": "task", "action": "builtin.noop", "priority": 5,
         "retry": {"max_attempts": 2}, "compensate_with": "refund"},
        {"id": "refund", "type": "task", "action": "builtin.noop"},
        {"id": "pick", "type": "choice"},
        {"id": "fan", "type": "parallel"},
        {"id": "join", "type": "join", "mode": "any"},
        {"id": "nap", "type": "wait", "seconds": 5},
        {"id": "ask", "type": "handoff", "to": {"group": "ops"},
         "outcomes": ["approve", "reject"], "sla_s": 60},
        {"id": "done", "type": "end"},
        {"id": "stop", "type": "end", "status": "failed"},
    ],
    "edges": [
        {"id": "e1", "source": "start", "target": "charge"},
        {"id": "e2", "source": "charge", "target": "stop", "on": "failure"},
        {"id": "e3", "source": "pick", "target": "done", "when": "input.x > 1"},
        {"id": "e4", "source": "pick", "target": "done", "default": True},
    ],
    "layout": {"charge": {"x": 1, "y": 2}},
}  # fmt: skip

VALUES = [None, 0, -1, 1.5, "", "x", "bad id!", [], {}, True, 10**9, "=input",
          {"a": 1}, [1], "task", "end", "failure", "all", "full", 3, "wait",
          {"group": "x"}]  # fmt: skip
KEYS = ["extra", "priority", "retry", "seconds", "mode", "on", "when", "default",
        "status", "queue", "to", "outcomes", "sla_s", "max_visits", "type",
        "timeout_s", "x", "y"]  # fmt: skip


def _mutate(seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    graph = copy.deepcopy(BASE)
    for _ in range(rng.randint(1, 3)):
        here: Any = graph
        for _ in range(rng.randint(0, 4)):
            children = list(here.values()) if isinstance(here, dict) else list(here)
            nested = [c for c in children if isinstance(c, dict | list) and c]
            if not nested:
                break
            here = rng.choice(nested)
        if isinstance(here, dict):
            roll = rng.random()
            if roll < 0.3 and here:
                del here[rng.choice(list(here))]
            elif roll < 0.7 and here:
                here[rng.choice(list(here))] = copy.deepcopy(rng.choice(VALUES))
            else:
                here[rng.choice(KEYS)] = copy.deepcopy(rng.choice(VALUES))
        elif here:
            here[rng.randrange(len(here))] = copy.deepcopy(rng.choice(VALUES))
    return graph


def test_the_unmutated_graph_passes_both() -> None:
    assert _shape_ok(BASE)
    assert not list(graph_validator().iter_errors(BASE))
    fastjsonschema.compile(graph_schema())(BASE)


@settings(max_examples=1500, deadline=None)
@given(st.integers(min_value=0, max_value=2**32))
def test_fast_check_accepts_exactly_what_jsonschema_accepts(seed: int) -> None:
    graph = _mutate(seed)
    assert _shape_ok(graph) == (not list(graph_validator().iter_errors(graph)))
