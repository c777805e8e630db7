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

        # The delivery task is registered wherever Django starts (workers included);
        # the admin pages of rules and deliveries are in their own module.
        from runs import notifications

        notifications.connect()
        import runs.notification_admin  # noqa: F401
        import runs.notification_tasks  # noqa: F401
