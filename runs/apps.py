"""App config for runs, their steps, attempts and events."""

from django.apps import AppConfig


class RunsConfig(AppConfig):
    """Runs, state machines, the event log and live streams."""

    name = "runs"

    def ready(self) -> None:
        from runs.access_signals import connect_signals

        connect_signals()

        from runs import receivers

        receivers.connect()
