"""Secrets at rest: encrypted, rotated with two keys, refused when unreadable."""

from typing import Any

import pytest
from cryptography.fernet import Fernet

from config import crypto


def test_a_secret_is_not_stored_in_plain_text() -> None:
    token = crypto.encrypt("whsec_plain")
    assert "whsec_plain" not in token
    assert crypto.decrypt(token) == "whsec_plain"


def test_rotation_with_two_keys(settings: Any) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.SWITCHYARD_ENCRYPTION_KEYS = [old]
    token = crypto.encrypt("s3cret")
    settings.SWITCHYARD_ENCRYPTION_KEYS = [new, old]
    assert crypto.decrypt(token) == "s3cret"
    rotated = crypto.reencrypt(token)
    settings.SWITCHYARD_ENCRYPTION_KEYS = [new]
    assert crypto.decrypt(rotated) == "s3cret"
    with pytest.raises(crypto.SecretUnreadable, match="rotated out"):
        crypto.decrypt(token)


def test_a_bad_key_is_named(settings: Any) -> None:
    settings.SWITCHYARD_ENCRYPTION_KEYS = ["not-a-fernet-key"]
    with pytest.raises(ValueError, match="Fernet keys"):
        crypto.encrypt("x")
