"""App config for the workflow designer."""

from django.apps import AppConfig


class DesignerConfig(AppConfig):
    """Workflows, their versions and the editor."""

    name = "designer"
    verbose_name = "Workflow designer"
