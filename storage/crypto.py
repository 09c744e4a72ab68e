"""Encryption at rest for refresh tokens and bot tokens (Fernet, with key rotation)."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class DecryptionError(Exception):
    """A stored secret could not be decrypted with any configured key."""


def _fernet_key(secret: str) -> bytes:
    """Derive a Fernet key from any secret string, so operators may use any long random value."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"recall-slackbot/encryption")
    return base64.urlsafe_b64encode(hkdf.derive(secret.encode()))


class TokenCipher:
    """Encrypts with the first key, decrypts with any; ``rotate`` re-encrypts under the first key."""

    def __init__(self, secret_keys: list[str]) -> None:
        if not secret_keys:
            raise ValueError("at least one secret key is required")
        self._fernet = MultiFernet([Fernet(_fernet_key(k)) for k in secret_keys])

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise DecryptionError("stored secret cannot be decrypted with the configured SECRET_KEY") from exc

    def rotate(self, ciphertext: str) -> str:
        try:
            return self._fernet.rotate(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise DecryptionError("stored secret cannot be decrypted with the configured SECRET_KEY") from exc


def lookup_hash(value: str) -> str:
    """A stable one-way hash used to find a random token in the database without storing it."""
    return hashlib.sha256(value.encode()).hexdigest()
