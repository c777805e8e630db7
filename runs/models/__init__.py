"""Runs, step runs, attempts, handoffs and the event log, with their state machines.

One module per part; this package lists every model for Django and for importers.
"""

from runs.models.bulk import (
    BULK_ACTIVE,
    BULK_FINISHED,
    MAX_BULK_ERRORS,
    MAX_BULK_RUNS,
    BulkAction,
    BulkJob,
    BulkState,
)
from runs.models.events import (
    Event,
    LedgerEntry,
)
from runs.models.execution import (
    ATTEMPT_FINISHED,
    RUN_ACTIVE,
    RUN_FINISHED,
    STEP_FINISHED,
    TEST_TRIGGER,
    Attempt,
    AttemptState,
    Run,
    RunState,
    StepRun,
    StepState,
)
from runs.models.handoff import (
    HANDOFF_ACTIVE,
    AssigneeKind,
    Handoff,
    HandoffState,
    HandoffVerdict,
)
from runs.models.joins import JoinProgress
from runs.models.logs import StepLog
from runs.models.maps import ITEM_FINISHED, ItemState, MapItem, MapProgress
from runs.models.messages import Message, MessageSend, MessageState, MessageWait
from runs.models.notifications import (
    NOTIFICATION_FINISHED,
    Notification,
    NotificationEvent,
    NotificationRule,
    NotificationState,
)
from runs.models.retention import PruneTally
from runs.models.schedules import (
    CatchupPolicy,
    FireState,
    OverlapPolicy,
    Schedule,
    ScheduleFire,
    ScheduleState,
)
from runs.models.webhooks import Webhook, WebhookState

__all__ = [
    "BULK_ACTIVE",
    "BULK_FINISHED",
    "MAX_BULK_ERRORS",
    "MAX_BULK_RUNS",
    "BulkAction",
    "BulkJob",
    "BulkState",
    "ITEM_FINISHED",
    "ItemState",
    "MapItem",
    "MapProgress",
    "Message",
    "MessageSend",
    "MessageState",
    "MessageWait",
    "NOTIFICATION_FINISHED",
    "Notification",
    "NotificationEvent",
    "NotificationRule",
    "NotificationState",
    "PruneTally",
    "Webhook",
    "WebhookState",
    "CatchupPolicy",
    "FireState",
    "OverlapPolicy",
    "Schedule",
    "ScheduleFire",
    "ScheduleState",
    "ATTEMPT_FINISHED",
    "AssigneeKind",
    "Attempt",
    "AttemptState",
    "Event",
    "HANDOFF_ACTIVE",
    "Handoff",
    "HandoffState",
    "HandoffVerdict",
    "JoinProgress",
    "LedgerEntry",
    "RUN_ACTIVE",
    "RUN_FINISHED",
    "TEST_TRIGGER",
    "Run",
    "RunState",
    "STEP_FINISHED",
    "StepRun",
    "StepState",
    "StepLog",
]
