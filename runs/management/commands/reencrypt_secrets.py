"""Encrypt every stored secret again with the newest key, after a key rotation.

1. Put a new key in front of SWITCHYARD_ENCRYPTION_KEYS (new,old) on every process.
2. python manage.py reencrypt_secrets
3. Drop the old key. A secret it alone could open fails clearly from then on.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from config.crypto import SecretUnreadable
from designer.connections import connection_reencrypt
from runs.webhooks import webhooks_reencrypt


class Command(BaseCommand):
    help = "Re-encrypt connection and webhook secrets with the newest configured key."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            connections = connection_reencrypt()
            webhooks = webhooks_reencrypt()
        except SecretUnreadable as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"re-encrypted the secrets of {connections} connections and "
            f"{webhooks} webhooks with the newest key"
        )
