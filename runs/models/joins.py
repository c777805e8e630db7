"""Join arrival counters (runs/joins.py keeps them)."""

from django.db import models

from runs.models.execution import Run


class JoinProgress(models.Model):
    """How many incoming edges of a join resolved in one run, and how many taken."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="+")
    node_id = models.CharField(max_length=64)
    arrived = models.PositiveIntegerField(default=0)
    taken = models.PositiveIntegerField(default=0)

    class Meta:
        app_label = "runs"
        constraints = [
            models.UniqueConstraint(
                fields=["run", "node_id"], name="joinprogress_run_node"
            )
        ]

    def __str__(self) -> str:
        return f"run {self.run_id} join {self.node_id}: {self.arrived} arrived"
