"""Checksum and diff of graph versions."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

# -- versions ----------------------------------------------------------------------


def graph_checksum(graph: Any) -> str:
    """Return the sha256 hex of the graph's canonical JSON, ignoring its layout."""
    if isinstance(graph, Mapping):
        graph = {key: value for key, value in graph.items() if key != "layout"}
    canonical = json.dumps(
        graph, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def diff_graphs(old: Any, new: Any) -> dict[str, Any]:
    """Return nodes and edges added, removed and changed (field by field), and settings.

    Layout is ignored: moving boxes changes nothing.
    """
    old = old if isinstance(old, Mapping) else {}
    new = new if isinstance(new, Mapping) else {}
    settings: dict[str, dict[str, Any]] = {}
    for key in ("format", "max_concurrent_runs", "timeout_s"):
        if old.get(key) != new.get(key):
            settings[key] = {"old": old.get(key), "new": new.get(key)}
    old_defaults = (
        old.get("defaults") if isinstance(old.get("defaults"), Mapping) else {}
    )
    new_defaults = (
        new.get("defaults") if isinstance(new.get("defaults"), Mapping) else {}
    )
    for key in _ordered_union(old_defaults, new_defaults):
        if old_defaults.get(key) != new_defaults.get(key):
            settings[f"defaults.{key}"] = {
                "old": old_defaults.get(key),
                "new": new_defaults.get(key),
            }
    return {
        "nodes": _diff_items(old.get("nodes"), new.get("nodes")),
        "edges": _diff_items(old.get("edges"), new.get("edges")),
        "settings": settings,
    }


def _by_id(items: Any) -> dict[str, Mapping[str, Any]]:
    indexed: dict[str, Mapping[str, Any]] = {}
    if isinstance(items, list):
        for item in items:
            if isinstance(item, Mapping) and isinstance(item.get("id"), str):
                indexed.setdefault(item["id"], item)
    return indexed


def _ordered_union(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    return sorted(set(old) | set(new), key=str)


def _diff_items(old_items: Any, new_items: Any) -> dict[str, Any]:
    old = _by_id(old_items)
    new = _by_id(new_items)
    changed = []
    for item_id, new_item in new.items():
        old_item = old.get(item_id)
        if old_item is None:
            continue
        fields = {
            name: {"old": old_item.get(name), "new": new_item.get(name)}
            for name in _ordered_union(old_item, new_item)
            if old_item.get(name) != new_item.get(name)
        }
        if fields:
            changed.append({"id": item_id, "fields": fields})
    return {
        "added": [item_id for item_id in new if item_id not in old],
        "removed": [item_id for item_id in old if item_id not in new],
        "changed": changed,
    }
