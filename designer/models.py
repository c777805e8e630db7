"""Workflows and their immutable published versions."""

from collections.abc import Collection
from typing import Any, Self

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from engine.errors import DomainError


class ImmutableVersionError(DomainError):
    """Raised when code tries to change a published workflow version (409)."""

    def __init__(self, message: str) -> None:
        super().__init__("version_immutable", message)


class PublishGate(models.TextChoices):
    OFF = "off"
    WARN = "warn"
    BLOCK = "block"


class ReleaseState(models.TextChoices):
    """Which versions new runs start on: none yet, the live one, or live and canary."""

    UNRELEASED = "unreleased", "Unreleased"
    LIVE = "live", "Live"
    CANARY = "canary", "Canary"


class Workflow(ConcurrentTransitionMixin, models.Model):
    """A named workflow; its behaviour lives in versions."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    owner_group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    live_version = models.ForeignKey(
        "WorkflowVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Change safety (docs/change-safety.md).
    # Publishing needs the test cases to pass and branch coverage (by the cases) to
    # reach `coverage_threshold` percent: not checked, reported, or enforced.
    publish_gate = models.CharField(
        max_length=8, choices=PublishGate.choices, default=PublishGate.OFF
    )
    coverage_threshold = models.PositiveSmallIntegerField(default=0)
    # The release: its state names which of the fields below hold, and only its
    # transitions (runs.releases) change them, each with an Event.
    release_state = FSMField(
        max_length=16, choices=ReleaseState.choices, default=ReleaseState.UNRELEASED
    )
    # A canary gets `canary_percent` of new runs while the live version keeps the rest.
    canary_version = models.ForeignKey(
        "WorkflowVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    canary_percent = models.PositiveSmallIntegerField(default=0)
    canary_started_at = models.DateTimeField(null=True, blank=True)
    # The version that was live before the current one, and since when it is live:
    # a newly live version that breaks the criteria goes back to it.
    previous_live_version = models.ForeignKey(
        "WorkflowVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    live_since = models.DateTimeField(null=True, blank=True)
    # {"min_success_rate": 0.9, "max_retry_burden": 0.3, "max_queue_delay_p95_s": 30,
    #  "min_runs": 20, "window_s": 3600}; empty: no automatic rollback.
    rollback_criteria = models.JSONField(default=dict, blank=True)
    # What runs ask for (designer.run_settings): a JSON Schema new runs' input must
    # hold ({}: any object), named sample inputs for the Run dialog, an expression
    # naming each run's business key (stored on the run at start, searchable), and
    # how many days finished runs are kept (None: forever), archived first or not.
    input_schema = models.JSONField(default=dict, blank=True)
    sample_inputs = models.JSONField(default=list, blank=True)
    business_key = models.CharField(max_length=500, blank=True, default="")
    retention_days = models.PositiveIntegerField(null=True, blank=True)
    retention_archive = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        permissions = [
            ("edit_workflow", "Can change drafts, publish and roll back workflows"),
            ("manage_workflow", "Can see and manage the workflows of every team"),
        ]

    def __str__(self) -> str:
        return self.slug

    # -- release transitions (called by runs.releases, which records the events)

    @transition(
        field=release_state,
        source=[ReleaseState.UNRELEASED, ReleaseState.LIVE, ReleaseState.CANARY],
        target=ReleaseState.LIVE,
    )
    def go_live(self, version: "WorkflowVersion", *, at: Any) -> None:
        """Make a published version live (ending any canary), remembering the one
        it replaces."""
        if self.live_version_id != version.pk:
            self.previous_live_version_id = self.live_version_id
        self.live_version = version
        self.live_since = at
        self._clear_canary()

    @transition(
        field=release_state,
        source=[ReleaseState.LIVE, ReleaseState.CANARY],
        target=ReleaseState.CANARY,
    )
    def start_canary(
        self, version: "WorkflowVersion", *, percent: int, at: Any
    ) -> None:
        """Route `percent` of new runs to a published version; the live one keeps
        the rest."""
        self.canary_version = version
        self.canary_percent = percent
        self.canary_started_at = at

    @transition(
        field=release_state, source=ReleaseState.CANARY, target=ReleaseState.LIVE
    )
    def abort_canary(self) -> None:
        """Stop routing new runs to the canary."""
        self._clear_canary()

    @transition(
        field=release_state,
        source=[ReleaseState.LIVE, ReleaseState.CANARY],
        target=RETURN_VALUE(ReleaseState.LIVE, ReleaseState.CANARY),
    )
    def restore_live(self, version: "WorkflowVersion", *, at: Any) -> str:
        """Make an earlier version live again (a rollback). It is not a new version
        to watch, so nothing is remembered to roll back to; a canary goes on."""
        self.live_version = version
        self.previous_live_version = None
        self.live_since = at
        return str(self.release_state)

    def _clear_canary(self) -> None:
        self.canary_version = None
        self.canary_percent = 0
        self.canary_started_at = None


class VersionStatus(models.TextChoices):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"
    # A frozen copy of a draft that a test run ("run from here") runs on: immutable
    # like a published version, never live, and hidden from `WorkflowVersion.objects`.
    TEST = "test"


class VersionManager(models.Manager["WorkflowVersion"]):
    """The versions people work with: drafts, published and archived ones.

    A test snapshot (status `test`) shares its draft's number, so every lookup by
    number, list and "latest" would trip over it; it is read only through the runs
    that ran on it (a foreign key uses the base manager) or `WorkflowVersion.snapshots`.
    """

    def get_queryset(self) -> models.QuerySet["WorkflowVersion"]:
        return super().get_queryset().exclude(status=VersionStatus.TEST)


class SnapshotManager(models.Manager["WorkflowVersion"]):
    """Test snapshots only (see `VersionManager`)."""

    def get_queryset(self) -> models.QuerySet["WorkflowVersion"]:
        return super().get_queryset().filter(status=VersionStatus.TEST)


class WorkflowVersion(ConcurrentTransitionMixin, models.Model):
    """One graph of a workflow: an editable draft, or an immutable published version."""

    workflow = models.ForeignKey(
        Workflow, on_delete=models.CASCADE, related_name="versions"
    )
    # Assigned at creation so drafts are addressable too; publishing keeps it.
    number = models.PositiveIntegerField()
    graph = models.JSONField()
    checksum = models.CharField(max_length=64)
    status = FSMField(
        max_length=16,
        choices=VersionStatus.choices,
        default=VersionStatus.DRAFT,
        protected=True,
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)

    objects = VersionManager()
    snapshots = SnapshotManager()

    class Meta:
        ordering = ["workflow", "-number", "-id"]
        constraints = [
            # A test snapshot takes its draft's number ("a test of draft v7").
            models.UniqueConstraint(
                fields=["workflow", "number"],
                name="version_number_unique",
                condition=~models.Q(status="test"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.workflow_id}:v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A published row may only change its status (archive); the database trigger
        # enforces the same rule for writes that bypass this method.
        stored = getattr(self, "_stored_status", None)
        if stored in (
            VersionStatus.PUBLISHED,
            VersionStatus.ARCHIVED,
            VersionStatus.TEST,
        ):
            fields = kwargs.get("update_fields")
            allowed = {"status", "updated_at"}
            if fields is None or not set(fields) <= allowed:
                raise ImmutableVersionError(
                    f"version {self.number} is {stored} and cannot be changed"
                )
        super().save(*args, **kwargs)
        self._stored_status = self.status

    @classmethod
    def from_db(
        cls,
        db: str | None,
        field_names: Collection[str],
        values: Collection[Any],
        **kwargs: Any,
    ) -> Self:
        instance = super().from_db(db, field_names, values, **kwargs)
        instance._stored_status = instance.__dict__.get("status")
        return instance

    @property
    def is_editable(self) -> bool:
        return self.status == VersionStatus.DRAFT

    @transition(
        field=status, source=VersionStatus.DRAFT, target=VersionStatus.PUBLISHED
    )
    def publish(self, *, at: Any) -> None:
        self.published_at = at

    @transition(
        field=status, source=VersionStatus.PUBLISHED, target=VersionStatus.ARCHIVED
    )
    def archive(self) -> None:
        pass


class WorkflowTestCase(models.Model):
    """An input, mocked task results and handoff outcomes, and what should happen.

    `mocks`: {task node id: {"output": ...} or {"error": "HttpError", "message": ...,
    "retryable": false}}; `outcomes`: {handoff node id: outcome}; `expect`: {"end":
    node id, "state": run state, "path": [node ids]} (each optional).
    """

    workflow = models.ForeignKey(
        Workflow, on_delete=models.CASCADE, related_name="test_cases"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    input = models.JSONField(default=dict, blank=True)
    mocks = models.JSONField(default=dict, blank=True)
    outcomes = models.JSONField(default=dict, blank=True)
    expect = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["workflow", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["workflow", "name"], name="test_case_name_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.workflow_id}:{self.name}"


class SecretSource(models.TextChoices):
    STORED = "stored", "Stored here, encrypted"
    ENV = "env", "Environment variables of the workers"
    VAULT = "vault", "HashiCorp Vault (KV v2)"


class Connection(models.Model):
    """Settings for reaching an outside system (engine.connections.KINDS): fields in
    the clear, secrets encrypted at rest (config.crypto) or read from a secret backend
    on the worker. Team-scoped like workflows: a workflow may use its team's
    connections and those of no team."""

    name = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=16)
    description = models.CharField(max_length=500, blank=True, default="")
    owner_group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    fields = models.JSONField(default=dict, blank=True)
    secret_source = models.CharField(
        max_length=8, choices=SecretSource.choices, default=SecretSource.STORED
    )
    # SecretSource.STORED: a Fernet token of {"field": "value"}; never plain text.
    secrets_encrypted = models.TextField(blank=True, default="")
    # Which secret fields are set (names only), so pages can say "set" or "not set".
    secret_names = models.JSONField(default=list, blank=True)
    # ENV: a prefix (SWITCHYARD_SECRET_<PREFIX>_<FIELD>); VAULT: the KV v2 path.
    secret_path = models.CharField(max_length=200, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"
