"""Demo workflows loaded by `standalone` so a newcomer sees something run."""

from typing import Any

from django.db import transaction

from designer import services
from designer.models import Workflow, WorkflowTestCase
from runs import releases, schedules, webhooks
from runs.errors import RunError
from runs.handoffs import handoff_complete
from runs.models import HANDOFF_ACTIVE, Handoff
from runs.services.starting import run_start

# The group the demo's handoffs go to; `standalone` makes the admin a member.
DEMO_GROUP = "support"
# A simulated colleague who works demo handoffs left open this long.
DEMO_REVIEWER = "demo-reviewer"
DEMO_HANDOFF_AGE_S = 45.0
# Why a compensation task (itself an undo) has no compensation of its own.
UNDO_REASON = "it is the undo: a compensation is not itself compensated"

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
                    "compensate_with": "unreserve",
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
                {
                    "id": "unreserve",
                    "type": "task",
                    "label": "Put stock back",
                    "action": "builtin.ledger",
                    "side_effects_reason": UNDO_REASON,
                },
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
                "start": {"x": 0, "y": 150},
                "reserve": {"x": 240, "y": 150},
                "big": {"x": 510, "y": 150},
                "review": {"x": 750, "y": 30},
                "charge": {"x": 990, "y": 150},
                "ship": {"x": 1260, "y": 150},
                "done": {"x": 1500, "y": 150},
                "unreserve": {"x": 240, "y": 330},
            },
        },
        # One case per branch of the choice, so the editor lints no untested branch.
        "test_cases": [
            {
                "name": "small order is charged at once",
                "input": {"amount": 120},
                "expect": {
                    "end": "done",
                    "state": "succeeded",
                    "path": ["start", "reserve", "big", "charge", "ship", "done"],
                },
            },
            {
                "name": "big order gets a fraud check",
                "input": {"amount": 2400},
                "expect": {
                    "end": "done",
                    "state": "succeeded",
                    "path": [
                        "start",
                        "reserve",
                        "big",
                        "review",
                        "charge",
                        "ship",
                        "done",
                    ],
                },
            },
        ],
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
                    "side_effects_reason": "the last step, and idempotent: the entry "
                    "is keyed by the run and step, so a retry loads once",
                },
                {"id": "done", "type": "end"},
                {
                    "id": "not_loaded",
                    "type": "end",
                    "label": "Report not loaded",
                    "status": "failed",
                },
            ],
            "edges": [
                {"id": "e1", "source": "start", "target": "extract"},
                {"id": "e2", "source": "extract", "target": "transform"},
                {"id": "e3", "source": "transform", "target": "load"},
                {"id": "e4", "source": "load", "target": "done"},
                {
                    "id": "e5",
                    "source": "extract",
                    "target": "not_loaded",
                    "on": "failure",
                },
                {
                    "id": "e6",
                    "source": "transform",
                    "target": "not_loaded",
                    "on": "failure",
                },
                {"id": "e7", "source": "load", "target": "not_loaded", "on": "failure"},
            ],
            "layout": {
                "start": {"x": 0, "y": 0},
                "extract": {"x": 270, "y": 0},
                "transform": {"x": 540, "y": 0},
                "load": {"x": 810, "y": 0},
                "done": {"x": 1080, "y": 0},
                "not_loaded": {"x": 1080, "y": 180},
            },
        },
    },
    {
        "slug": "payment-saga",
        "name": "Payment saga",
        "description": "Hold stock, charge (sometimes declined), cool off, ship; "
        "a declined charge releases the stock again.",
        "graph": {
            "format": 1,
            "defaults": {
                "queue": "default",
                "retry": {"max_attempts": 3, "initial_interval_s": 1, "backoff": 2},
                "timeout_s": 60,
            },
            "max_concurrent_runs": 20,
            "nodes": [
                {"id": "start", "type": "start"},
                {
                    "id": "hold",
                    "type": "task",
                    "label": "Hold stock",
                    "action": "builtin.ledger",
                    "compensate_with": "release",
                },
                {
                    "id": "charge",
                    "type": "task",
                    "label": "Charge card",
                    "action": "builtin.fail",
                    "params": {
                        "until_attempt": "=input.charge_succeeds_on",
                        "error": "CardDeclined",
                    },
                    "compensate_with": "refund",
                },
                {
                    "id": "cool_off",
                    "type": "wait",
                    "label": "Cool-off period",
                    "seconds": 5,
                },
                {
                    "id": "ship",
                    "type": "task",
                    "label": "Ship",
                    "action": "builtin.ledger",
                    "side_effects_reason": "the last step: nothing after it can "
                    "fail, so a shipment is never undone",
                },
                {"id": "done", "type": "end"},
                {
                    "id": "release",
                    "type": "task",
                    "label": "Release stock",
                    "action": "builtin.ledger",
                    "side_effects_reason": UNDO_REASON,
                },
                {
                    "id": "refund",
                    "type": "task",
                    "label": "Refund card",
                    "action": "builtin.ledger",
                    "side_effects_reason": UNDO_REASON,
                },
            ],
            "edges": [
                {"id": "e1", "source": "start", "target": "hold"},
                {"id": "e2", "source": "hold", "target": "charge"},
                {"id": "e3", "source": "charge", "target": "cool_off"},
                {"id": "e4", "source": "cool_off", "target": "ship"},
                {"id": "e5", "source": "ship", "target": "done"},
            ],
            "layout": {
                "start": {"x": 0, "y": 0},
                "hold": {"x": 270, "y": 0},
                "charge": {"x": 540, "y": 0},
                "cool_off": {"x": 810, "y": 0},
                "ship": {"x": 1080, "y": 0},
                "done": {"x": 1350, "y": 0},
                "release": {"x": 270, "y": 210},
                "refund": {"x": 540, "y": 210},
            },
        },
    },
    {
        "slug": "refund-approval",
        "name": "Refund approval",
        "description": "Support approves refunds; approved ones are paid out.",
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
                    "id": "assess",
                    "type": "task",
                    "label": "Assess request",
                    "action": "builtin.echo",
                    "params": {"refund": "=input.refund"},
                },
                {
                    "id": "approve",
                    "type": "handoff",
                    "label": "Approve refund",
                    "to": {"group": DEMO_GROUP},
                    "outcomes": ["approve", "reject"],
                    "sla_s": 300,
                    "instructions": "Check the order and the customer's reason, "
                    "then approve or reject the refund.",
                    "context": ["input.refund", "steps.assess.output.params"],
                },
                {
                    "id": "pay",
                    "type": "task",
                    "label": "Pay refund",
                    "action": "builtin.ledger",
                    "side_effects_reason": "the last step, and idempotent: the "
                    "payout is keyed by the run and step, so a retry pays once",
                },
                {"id": "paid", "type": "end", "label": "Refunded"},
                {"id": "declined", "type": "end", "label": "Declined"},
                {
                    "id": "not_assessed",
                    "type": "end",
                    "label": "Assessment failed",
                    "status": "failed",
                },
                {
                    "id": "not_paid",
                    "type": "end",
                    "label": "Payout failed",
                    "status": "failed",
                },
            ],
            "edges": [
                {"id": "e1", "source": "start", "target": "assess"},
                {"id": "e2", "source": "assess", "target": "approve"},
                {
                    "id": "e6",
                    "source": "assess",
                    "target": "not_assessed",
                    "on": "failure",
                },
                {"id": "e7", "source": "pay", "target": "not_paid", "on": "failure"},
                {
                    "id": "e3",
                    "source": "approve",
                    "target": "pay",
                    "when": "outcome == 'approve'",
                },
                {
                    "id": "e4",
                    "source": "approve",
                    "target": "declined",
                    "default": True,
                },
                {"id": "e5", "source": "pay", "target": "paid"},
            ],
            "layout": {
                "start": {"x": 0, "y": 90},
                "assess": {"x": 240, "y": 90},
                "approve": {"x": 510, "y": 90},
                "pay": {"x": 780, "y": 0},
                "paid": {"x": 1050, "y": 0},
                "declined": {"x": 780, "y": 200},
                "not_paid": {"x": 1050, "y": 130},
                "not_assessed": {"x": 510, "y": 230},
            },
        },
    },
    {
        "slug": "send-receipt",
        "name": "Send receipt",
        "description": "A sub-workflow: sends one receipt (called by Invoice batch).",
        "graph": {
            "format": 1,
            "nodes": [
                {"id": "start", "type": "start"},
                {
                    "id": "send",
                    "type": "task",
                    "label": "Send",
                    "action": "builtin.echo",
                    "params": {"batch": "=input.batch"},
                },
                {"id": "done", "type": "end"},
                {"id": "unsent", "type": "end", "status": "failed"},
            ],
            "edges": [
                {"id": "r1", "source": "start", "target": "send"},
                {"id": "r2", "source": "send", "target": "done"},
                {"id": "r3", "source": "send", "target": "unsent", "on": "failure"},
            ],
            "layout": {
                "start": {"x": 0, "y": 60},
                "send": {"x": 270, "y": 60},
                "done": {"x": 540, "y": 0},
                "unsent": {"x": 540, "y": 140},
            },
        },
    },
    {
        "slug": "invoice-batch",
        "name": "Invoice batch",
        "description": "Invoices each customer (a map, 5 at a time), then calls Send "
        "receipt. Runs every hour on its schedule.",
        "graph": {
            "format": 1,
            "timeout_s": 3600,
            "nodes": [
                {"id": "start", "type": "start"},
                {
                    "id": "invoice",
                    "type": "map",
                    "label": "Invoice each customer",
                    "items": "input.customers",
                    "action": "builtin.echo",
                    "params": {"customer": "=item", "line": "=index"},
                    "max_concurrency": 5,
                    "tolerate_percent": 10,
                },
                {
                    "id": "receipt",
                    "type": "call",
                    "label": "Send receipt",
                    "workflow": "send-receipt",
                    "params": {"batch": "=input.batch"},
                },
                {"id": "done", "type": "end"},
                {"id": "failed", "type": "end", "status": "failed"},
            ],
            "edges": [
                {"id": "i1", "source": "start", "target": "invoice"},
                {"id": "i2", "source": "invoice", "target": "receipt"},
                {"id": "i3", "source": "receipt", "target": "done"},
                {"id": "i4", "source": "invoice", "target": "failed", "on": "failure"},
                {"id": "i5", "source": "receipt", "target": "failed", "on": "failure"},
            ],
            "layout": {
                "start": {"x": 0, "y": 60},
                "invoice": {"x": 270, "y": 60},
                "receipt": {"x": 540, "y": 60},
                "done": {"x": 810, "y": 0},
                "failed": {"x": 810, "y": 160},
            },
        },
        "schedule": {
            "name": "hourly",
            "kind": "cron",
            "cron": "0 * * * *",
            "timezone": "UTC",
            "input": {"batch": "hourly", "customers": ["acme", "globex", "initech"]},
            "overlap": "skip",
            "catchup": "latest",
        },
    },
    {
        "slug": "order-intake",
        "name": "Order intake",
        "description": "Started by a webhook from the shop; waits for the payment "
        "message (POST /api/v1/messages/ payment.confirmed with the order id) for an "
        "hour, then ships.",
        "graph": {
            "format": 1,
            "nodes": [
                {"id": "start", "type": "start"},
                {
                    "id": "paid",
                    "type": "receive",
                    "label": "Wait for payment",
                    "message": "payment.confirmed",
                    "key": "input.order_id",
                    "wait_s": 3600,
                },
                {
                    "id": "ship",
                    "type": "task",
                    "label": "Ship",
                    "action": "builtin.echo",
                    "params": {"order": "=input.order_id"},
                },
                {"id": "shipped", "type": "end"},
                {"id": "unpaid", "type": "end", "status": "failed"},
            ],
            "edges": [
                {"id": "o1", "source": "start", "target": "paid"},
                {"id": "o2", "source": "paid", "target": "ship"},
                {"id": "o3", "source": "ship", "target": "shipped"},
                {"id": "o4", "source": "paid", "target": "unpaid", "on": "timeout"},
                {"id": "o5", "source": "ship", "target": "unpaid", "on": "failure"},
            ],
            "layout": {
                "start": {"x": 0, "y": 60},
                "paid": {"x": 270, "y": 60},
                "ship": {"x": 540, "y": 0},
                "shipped": {"x": 810, "y": 0},
                "unpaid": {"x": 810, "y": 160},
            },
        },
        "webhook": {
            "name": "shop orders",
            "input_mapping": '{"order_id": input.body.order_id}',
            "idempotency_field": "order_id",
        },
    },
]


def demo_load() -> list[Workflow]:
    """Create and publish the demo workflows that do not exist yet, with their
    schedule, webhook and test cases."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    group, _ = Group.objects.get_or_create(name=DEMO_GROUP)
    reviewer, made = get_user_model().objects.get_or_create(username=DEMO_REVIEWER)
    if made:
        reviewer.set_unusable_password()
        reviewer.save()
    reviewer.groups.add(group)
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
            releases.version_publish(version=version)
            if "schedule" in demo:
                schedules.schedule_create(workflow=workflow, fields=demo["schedule"])
            for case in demo.get("test_cases", []):
                WorkflowTestCase.objects.create(workflow=workflow, **case)
            if "webhook" in demo:
                # Its secret is not shown here: rotate it in the editor to get one.
                webhooks.webhook_create(workflow=workflow, fields=demo["webhook"])
        workflow.refresh_from_db()
        created.append(workflow)
    return created


class DemoLoad:
    """Keep starting demo runs so a newcomer sees a living board (`--demo-load`).

    A mix: big and small orders, nightly reports that retry once, payments that
    succeed, retry, or are declined and compensated, each after a cool-off timer, and
    refunds that wait on a handoff to the support group (worked by a simulated
    colleague after a while, unless someone completes them in the inbox first).
    """

    def __init__(self, every_s: float = 2.0, seed: int | None = None) -> None:
        import random

        self.every_s = every_s
        self.random = random.Random(seed)  # noqa: S311 - demo data, not secrets
        self.next_at = 0.0

    def tick(self, now: float) -> str | None:
        """Start one run if it is time; return its workflow slug."""
        if now < self.next_at:
            return None
        self.next_at = now + self.every_s

        self.work_handoffs()
        slug, payload = self.pick()
        workflow = Workflow.objects.filter(slug=slug).first()
        if workflow is None or workflow.live_version_id is None:
            return None
        run_start(workflow=workflow, input=payload, actor="system:demo-load")
        return slug

    def work_handoffs(self, *, age_s: float = DEMO_HANDOFF_AGE_S) -> int:
        """Complete demo handoffs left open for `age_s`, as a colleague would."""
        from datetime import timedelta

        from django.contrib.auth import get_user_model
        from django.utils import timezone

        reviewer = get_user_model().objects.filter(username=DEMO_REVIEWER).first()
        if reviewer is None:
            return 0
        cutoff = timezone.now() - timedelta(seconds=age_s)
        done = 0
        for handoff_id in Handoff.objects.filter(
            workflow__slug="refund-approval",
            state__in=HANDOFF_ACTIVE,
            claimed_by__isnull=True,
            created_at__lte=cutoff,
        ).values_list("pk", flat=True)[:5]:
            outcome = "approve" if self.random.random() < 0.8 else "reject"
            try:
                handoff_complete(
                    handoff_id=handoff_id,
                    user=reviewer,
                    outcome=outcome,
                    note="demo: checked the order history",
                )
                done += 1
            except RunError:
                continue  # taken by a person meanwhile, or its run is paused
        return done

    def pick(self) -> tuple[str, dict[str, Any]]:
        roll = self.random.random()
        if roll < 0.15:
            amount = self.random.choice([15, 40, 120, 300])
            return "refund-approval", {
                "refund": {"order": self.random.randint(1000, 9999), "amount": amount}
            }
        if roll < 0.4:
            amount = self.random.choice([120, 640, 2400, 9000])
            return "order-fulfilment", {"amount": amount}
        if roll < 0.6:
            return "nightly-report", {}
        # Charge succeeds on the first try, after a retry, or never (declined).
        succeeds_on = self.random.choice([1, 1, 2, 9])
        return "payment-saga", {"charge_succeeds_on": succeeds_on}
