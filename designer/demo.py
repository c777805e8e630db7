"""Demo workflows loaded by `standalone` so a newcomer sees something run."""

from typing import Any

from django.db import transaction

from designer import services
from designer.models import Workflow

DEMOS: list[dict[str, Any]] = [
    {
        "slug": "order-fulfilment",
        "name": "Order fulfilment",
        "description": "Reserve stock, review big orders, charge and ship.",
        "graph": {
            "format": 1,
            "defaults": {
                "queue": "default",
                "retry": {"max_attempts": 3, "initial_interval_s": 0.5},
                "timeout_s": 60,
            },
            "max_concurrent_runs": 50,
            "nodes": [
                {"id": "start", "type": "start"},
                {
                    "id": "reserve",
                    "type": "task",
                    "label": "Reserve stock",
                    "action": "builtin.ledger",
                    "params": {},
                },
                {"id": "big", "type": "choice", "label": "Big order?"},
                {
                    "id": "review",
                    "type": "task",
                    "label": "Extra fraud check",
                    "action": "builtin.echo",
                    "params": {"order": "=input"},
                },
                {
                    "id": "charge",
                    "type": "task",
                    "label": "Charge card",
                    "action": "builtin.echo",
                    "params": {"order": "=input"},
                },
                {
                    "id": "ship",
                    "type": "task",
                    "label": "Ship",
                    "action": "builtin.sleep",
                    "params": {"seconds": 0.2},
                },
                {"id": "done", "type": "end"},
            ],
            "edges": [
                {"id": "e1", "source": "start", "target": "reserve"},
                {"id": "e2", "source": "reserve", "target": "big"},
                {
                    "id": "e3",
                    "source": "big",
                    "target": "review",
                    "when": "has(input.amount) && input.amount > 1000",
                },
                {"id": "e4", "source": "big", "target": "charge", "default": True},
                {"id": "e5", "source": "review", "target": "charge"},
                {"id": "e6", "source": "charge", "target": "ship"},
                {"id": "e7", "source": "ship", "target": "done"},
            ],
            "layout": {
                "start": {"x": 0, "y": 100},
                "reserve": {"x": 160, "y": 100},
                "big": {"x": 340, "y": 100},
                "review": {"x": 500, "y": 20},
                "charge": {"x": 660, "y": 100},
                "ship": {"x": 840, "y": 100},
                "done": {"x": 1000, "y": 100},
            },
        },
    },
    {
        "slug": "nightly-report",
        "name": "Nightly report",
        "description": "Extract, transform (flaky on its first try) and load.",
        "graph": {
            "format": 1,
            "defaults": {
                "queue": "default",
                "retry": {"max_attempts": 3, "initial_interval_s": 0.5, "backoff": 2},
                "timeout_s": 60,
            },
            "max_concurrent_runs": 10,
            "nodes": [
                {"id": "start", "type": "start"},
                {
                    "id": "extract",
                    "type": "task",
                    "label": "Extract",
                    "action": "builtin.noop",
                },
                {
                    "id": "transform",
                    "type": "task",
                    "label": "Transform",
                    "action": "builtin.fail",
                    "params": {"until_attempt": 2, "error": "UpstreamBusy"},
                },
                {
                    "id": "load",
                    "type": "task",
                    "label": "Load",
                    "action": "builtin.ledger",
                },
                {"id": "done", "type": "end"},
            ],
            "edges": [
                {"id": "e1", "source": "start", "target": "extract"},
                {"id": "e2", "source": "extract", "target": "transform"},
                {"id": "e3", "source": "transform", "target": "load"},
                {"id": "e4", "source": "load", "target": "done"},
            ],
            "layout": {
                "start": {"x": 0, "y": 0},
                "extract": {"x": 180, "y": 0},
                "transform": {"x": 360, "y": 0},
                "load": {"x": 540, "y": 0},
                "done": {"x": 720, "y": 0},
            },
        },
    },
]


def demo_load() -> list[Workflow]:
    """Create and publish the demo workflows that do not exist yet."""
    created = []
    for demo in DEMOS:
        if Workflow.objects.filter(slug=demo["slug"]).exists():
            continue
        with transaction.atomic():
            workflow = services.workflow_create(
                slug=demo["slug"], name=demo["name"], description=demo["description"]
            )
            version, _ = services.version_create(
                workflow=workflow, graph=demo["graph"], note="demo"
            )
            services.version_publish(version=version)
        created.append(workflow)
    return created
