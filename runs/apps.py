"""App config for runs, their steps, attempts and events."""

from django.apps import AppConfig


class RunsConfig(AppConfig):
    """Runs, state machines, the event log and live streams."""

    name = "runs"
