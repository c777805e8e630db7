"""Settings for the test suite: real PostgreSQL and Redis, fast password hashing."""

import os

from config.settings.base import *  # noqa: F403
from config.settings.base import (
    VAR_DIR,
    broker_config,
    channel_layer_config,
    database_config,
)

TEST_DATABASE_URL = os.environ.get(
    "SWITCHYARD_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/switchyard"
)
TEST_REDIS_URL = os.environ.get("SWITCHYARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")

DATABASES = {"default": database_config(TEST_DATABASE_URL, VAR_DIR)}
# Separate names let two checkouts (or people) run the suite side by side.
DATABASES["default"]["TEST"] = {
    "NAME": os.environ.get("SWITCHYARD_TEST_DB_NAME", "test_switchyard")
}
DATABASES["default"]["CONN_MAX_AGE"] = 0
SWITCHYARD_REDIS_URL = TEST_REDIS_URL
CHANNEL_LAYERS = channel_layer_config(TEST_REDIS_URL)
CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS = broker_config(
    TEST_REDIS_URL, VAR_DIR
)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEBUG = False
# The retry storm test runs one queue with a small budget floor and one without a
# budget; every test process (and worker) reads the same settings.
SWITCHYARD_RETRY_BUDGET = {
    "queues": {
        "storm-budget": {"ratio": 0.2, "min_retries_per_s": 2, "window_s": 10},
        "storm-unbounded": {"enabled": False},
    }
}
# Browser tests validate on every edit; tests/designer/test_simulation_budget.py sets
# its own rate and seconds per user.
SWITCHYARD_SIMULATION_RATE = "100000/min"
SWITCHYARD_SIMULATION_BUDGET = {
    "steps": 1_000_000,
    "seconds": 3.0,
    "user_seconds_per_minute": 100_000.0,
}
