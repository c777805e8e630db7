"""The node types: one module each, registered here (one line per type).

`node_type(name)` answers what a type declares; `register` adds one (a plugin, or a
test's). The graph schema is rebuilt from the registry when it changes.
"""

from engine.nodes import (
    call,
    choice,
    end,
    handoff,
    join,
    map,
    parallel,
    receive,
    start,
    task,
    wait,
)
from engine.nodes.base import NodeType

_REGISTRY: dict[str, NodeType] = {}
# Bumped on every registration: caches built from the registry compare it.
_generation = 0


def register(node: NodeType) -> NodeType:
    """Add (or replace) a node type; return it."""
    global _generation
    if not node.name:
        raise ValueError("a node type needs a name")
    _REGISTRY[node.name] = node
    _generation += 1
    return node


def unregister(name: str) -> None:
    """Remove a node type (tests that registered one clean up with this)."""
    global _generation
    _REGISTRY.pop(name, None)
    _generation += 1


def node_type(name: str) -> NodeType:
    """Return the registered node type; raise KeyError if there is none."""
    return _REGISTRY[name]


def node_types() -> dict[str, NodeType]:
    """Return {name: node type} in registration order."""
    return dict(_REGISTRY)


def generation() -> int:
    """Return a number that changes whenever the registry does."""
    return _generation


for _module in (
    start,
    end,
    task,
    call,
    map,
    choice,
    parallel,
    join,
    handoff,
    wait,
    receive,
):
    register(_module.NODE)
