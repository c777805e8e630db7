"""Settings of the worker the live notification tests start: deliveries on a queue of
their own (no other worker takes them), loopback allowed for the local target, quick
retries."""

from config.settings.test import *  # noqa: F403

SWITCHYARD_NOTIFICATION_QUEUE = "notify-live"
SWITCHYARD_EGRESS_ALLOW = ["127.0.0.1/32"]
SWITCHYARD_NOTIFICATION_RETRY = {
    "max_attempts": 3,
    "initial_s": 0.2,
    "backoff": 2.0,
    "max_s": 1.0,
}
