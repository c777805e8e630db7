"""App config for the workflow designer."""

from django.apps import AppConfig


class DesignerConfig(AppConfig):
    """Workflows, their versions and the editor."""

    name = "designer"
    verbose_name = "Workflow designer"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from designer.access import ensure_roles

        post_migrate.connect(ensure_roles, dispatch_uid="switchyard-roles")

        from config import login_throttle

        login_throttle.connect_signals()
