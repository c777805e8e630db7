"""A bounded loop through a wait node, for the engine, simulator and worker tests."""

from typing import Any

# body counts its visits in its own output: 1, 2, 3, ...
COUNT = "=has(steps.body) ? steps.body.output.params.n + 1 : 1"


def loop_graph(*, rounds: int = 3, max_visits: int = 3, bound: str = "pause") -> dict:
    """start → body → pause (wait) → check: back to body while n < rounds, else done.

    `bound` is the node that carries `max_visits`.
    """
    nodes: list[dict[str, Any]] = [
        {"id": "start", "type": "start"},
        {
            "id": "body",
            "type": "task",
            "action": "builtin.echo",
            "params": {"n": COUNT},
        },
        {"id": "pause", "type": "wait", "seconds": 0},
        {"id": "check", "type": "choice"},
        {"id": "done", "type": "end"},
    ]
    next(n for n in nodes if n["id"] == bound)["max_visits"] = max_visits
    return {
        "format": 1,
        "defaults": {"retry": {"max_attempts": 1}},
        "nodes": nodes,
        "edges": [
            {"id": "e_start", "source": "start", "target": "body"},
            {"id": "e_body", "source": "body", "target": "pause"},
            {"id": "e_pause", "source": "pause", "target": "check"},
            {
                "id": "e_again",
                "source": "check",
                "target": "body",
                "when": f"steps.body.output.params.n < {rounds}",
            },
            {"id": "e_done", "source": "check", "target": "done", "default": True},
        ],
    }
