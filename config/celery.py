"""Celery application shared by workers, beat and the web processes."""

import os
from typing import Any

from celery import Celery
from celery.signals import (
    beat_init,
    task_prerun,
    worker_init,
    worker_process_shutdown,
)

from config import broker, tracing

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
broker.register()

app = Celery("switchyard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["engine"])


@task_prerun.connect
def _drop_unusable_connections(**kwargs: Any) -> None:
    """Close connections that broke or outlived CONN_MAX_AGE before each task.

    Celery's Django fixup closes every connection around every task unless
    CELERY_DB_REUSE_MAX is set (settings set it), which costs a new PostgreSQL
    connection per step; this keeps healthy connections and still heals after a
    database restart.
    """
    from django.db import close_old_connections

    close_old_connections()


@worker_init.connect
def _trace_worker(**kwargs: Any) -> None:
    """Tracing from OTEL_* (off by default), before the pool forks its children."""
    tracing.setup("worker")


@beat_init.connect
def _trace_beat(**kwargs: Any) -> None:
    tracing.setup("beat")


@worker_process_shutdown.connect
def _flush_spans(**kwargs: Any) -> None:
    """Export the spans a pool child still buffers before it exits."""
    tracing.flush()
