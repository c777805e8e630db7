"""Read the process environment in one place and derive deployment settings."""

import os
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Environment:
    """Deployment choices read from environment variables."""

    database_url: str | None
    redis_url: str | None
    secret_key: str | None
    debug: bool
    allowed_hosts: list[str]
    var_dir: Path
    # CIDRs and host names that actions may reach beyond the public internet.
    egress_allow: list[str]
    # Fernet keys that encrypt stored secrets, newest first (config/crypto.py).
    encryption_keys: list[str]
    # Where people reach this deployment: the links notifications carry.
    base_url: str

    @property
    def embedded(self) -> bool:
        """Say whether this is the embedded default (no external services)."""
        return self.redis_url is None


def read_environment() -> Environment:
    """Return the environment as typed values."""
    hosts = os.environ.get("SWITCHYARD_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
    return Environment(
        database_url=os.environ.get("DATABASE_URL") or None,
        redis_url=os.environ.get("REDIS_URL") or None,
        secret_key=os.environ.get("SWITCHYARD_SECRET_KEY") or None,
        debug=os.environ.get("SWITCHYARD_DEBUG", "") in {"1", "true", "yes"},
        allowed_hosts=[h.strip() for h in hosts.split(",") if h.strip()],
        var_dir=Path(os.environ.get("SWITCHYARD_VAR_DIR", BASE_DIR / "var")),
        egress_allow=[
            entry.strip()
            for entry in os.environ.get("SWITCHYARD_EGRESS_ALLOW", "").split(",")
            if entry.strip()
        ],
        encryption_keys=[
            key.strip()
            for key in os.environ.get("SWITCHYARD_ENCRYPTION_KEYS", "").split(",")
            if key.strip()
        ],
        base_url=os.environ.get("SWITCHYARD_BASE_URL", "http://127.0.0.1:8000"),
    )
