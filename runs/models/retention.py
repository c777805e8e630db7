"""What the retention job has pruned, per workflow (runs/retention.py keeps it)."""

from django.db import models


class PruneTally(models.Model):
    """How many finished runs of a workflow retention deleted, and when last."""

    workflow = models.OneToOneField(
        "designer.Workflow", on_delete=models.CASCADE, related_name="+"
    )
    pruned_total = models.PositiveBigIntegerField(default=0)
    archived_total = models.PositiveBigIntegerField(default=0)
    last_pruned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "runs"

    def __str__(self) -> str:
        return f"workflow {self.workflow_id}: {self.pruned_total} pruned"
