"""Secrets at rest: encrypted with Fernet (AES-128-CBC + HMAC-SHA256), never stored
in plain text.

Keys come from SWITCHYARD_ENCRYPTION_KEYS (comma-separated Fernet keys, newest first):
the first encrypts, every one decrypts, so a key is rotated by putting a new one in
front, re-encrypting (`reencrypt`), then dropping the old one. Without it, one key is
derived from SECRET_KEY (HKDF-SHA256), which is enough for the embedded default.
"""

import base64
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


class SecretUnreadable(Exception):
    """A stored secret no configured key can decrypt (a key was rotated out)."""


@cache
def _box(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if keys:
        try:
            return MultiFernet([Fernet(key.encode()) for key in keys])
        except ValueError as exc:
            raise ValueError(
                "SWITCHYARD_ENCRYPTION_KEYS must hold Fernet keys (32 url-safe "
                "base64-encoded bytes each; cryptography.fernet.Fernet.generate_key())"
            ) from exc
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"switchyard secrets"
    ).derive(secret_key.encode())
    return MultiFernet([Fernet(base64.urlsafe_b64encode(derived))])


def box() -> MultiFernet:
    return _box(
        tuple(getattr(settings, "SWITCHYARD_ENCRYPTION_KEYS", ()) or ()),
        settings.SECRET_KEY,
    )


def encrypt(plain: str) -> str:
    """Return the token to store for a secret."""
    return box().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    """Return a stored secret; raise SecretUnreadable if no key opens it."""
    try:
        return box().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "a stored secret cannot be decrypted with the configured "
            "SWITCHYARD_ENCRYPTION_KEYS (was its key rotated out?)"
        ) from None


def reencrypt(token: str) -> str:
    """Return the token encrypted with the newest key (for key rotation)."""
    try:
        return box().rotate(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("a stored secret cannot be decrypted") from None


def reencrypt_rows(model: Any, field: str) -> int:
    """Encrypt `field` of every row of `model` again with the newest key, one row per
    transaction (locked while rewritten); return how many rows. Empty values are
    skipped. Raise SecretUnreadable if one cannot be decrypted."""
    from django.db import transaction

    count = 0
    ids = model.objects.exclude(**{field: ""}).values_list("pk", flat=True)
    for pk in list(ids):
        with transaction.atomic():
            row = model.objects.select_for_update().get(pk=pk)
            setattr(row, field, reencrypt(getattr(row, field)))
            row.save(update_fields=[field])
            count += 1
    return count
