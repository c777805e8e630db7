"""App config for the engine: loads built-in and user actions."""

from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class EngineConfig(AppConfig):
    """Graph interpreter, retry policy, actions and Celery tasks."""

    name = "engine"

    def ready(self) -> None:
        import engine.builtins  # noqa: F401 - registers the built-in actions
        import engine.connectors  # noqa: F401 - registers http, email, sql, ...

        # Users register actions with @action in an `actions.py` of any installed app.
        autodiscover_modules("actions")
