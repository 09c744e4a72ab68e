"""Fernet encryption at rest with key rotation, and the lookup hash."""

from __future__ import annotations

import base64

import pytest

from storage.crypto import DecryptionError, TokenCipher, lookup_hash

KEY_A = "key-a-0123456789abcdef0123456789abcdef"
KEY_B = "key-b-fedcba9876543210fedcba9876543210"
SECRETS = [
    "1//0gRefreshTokenFromGoogle-abcdefghijklmnopqrstuvwxyz",
    "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "",
    "é ü 😀 unicode",
    "x" * 10_000,
]


@pytest.mark.parametrize("secret", SECRETS, ids=["google", "slack", "empty", "unicode", "long"])
def test_roundtrip(secret: str) -> None:
    cipher = TokenCipher([KEY_A])
    ciphertext = cipher.encrypt(secret)
    assert isinstance(ciphertext, str)
    assert ciphertext != secret
    assert cipher.decrypt(ciphertext) == secret
    # A fresh cipher from the same key (another process, after a restart) decrypts too.
    assert TokenCipher([KEY_A]).decrypt(ciphertext) == secret


@pytest.mark.parametrize("secret", [s for s in SECRETS if s], ids=["google", "slack", "unicode", "long"])
def test_ciphertext_never_contains_the_plaintext(secret: str) -> None:
    ciphertext = TokenCipher([KEY_A]).encrypt(secret)
    assert secret not in ciphertext
    # Nor any recognisable piece of it (the interesting prefixes of real tokens).
    assert "xoxb-" not in ciphertext
    assert "1//" not in ciphertext
    decoded = base64.urlsafe_b64decode(ciphertext.encode())
    assert secret.encode()[:16] not in decoded


def test_ciphertext_is_randomised() -> None:
    cipher = TokenCipher([KEY_A])
    assert cipher.encrypt("same") != cipher.encrypt("same")


def test_ciphertext_is_ascii_and_fits_a_text_column() -> None:
    ciphertext = TokenCipher([KEY_A]).encrypt("xoxb-" + "a" * 60)
    assert ciphertext.isascii()
    assert ciphertext.startswith("gAAAA")  # a Fernet token


def test_wrong_key_raises_decryption_error() -> None:
    ciphertext = TokenCipher([KEY_A]).encrypt("secret")
    with pytest.raises(DecryptionError) as info:
        TokenCipher([KEY_B]).decrypt(ciphertext)
    assert "secret" not in str(info.value).replace("stored secret", "")  # no plaintext in the message
    assert "SECRET_KEY" in str(info.value)


@pytest.mark.parametrize("garbage", ["", "not a token", "gAAAAA", "xoxb-plaintext-left-over"])
def test_garbage_raises_decryption_error(garbage: str) -> None:
    with pytest.raises(DecryptionError):
        TokenCipher([KEY_A]).decrypt(garbage)


def test_tampered_ciphertext_raises_decryption_error() -> None:
    cipher = TokenCipher([KEY_A])
    ciphertext = cipher.encrypt("secret")
    raw = bytearray(base64.urlsafe_b64decode(ciphertext))
    raw[-1] ^= 0x01
    with pytest.raises(DecryptionError):
        cipher.decrypt(base64.urlsafe_b64encode(bytes(raw)).decode())


def test_key_rotation() -> None:
    old_cipher = TokenCipher([KEY_A])
    under_a = old_cipher.encrypt("refresh-token")

    during = TokenCipher([KEY_B, KEY_A])
    assert during.decrypt(under_a) == "refresh-token"  # old values still readable
    new_value = during.encrypt("new-token")
    rotated = during.rotate(under_a)
    assert rotated != under_a
    assert during.decrypt(rotated) == "refresh-token"

    after = TokenCipher([KEY_B])
    assert after.decrypt(rotated) == "refresh-token"
    assert after.decrypt(new_value) == "new-token"  # the first key encrypts
    with pytest.raises(DecryptionError):
        after.decrypt(under_a)
    # The old key alone cannot read what was encrypted or rotated under the new one.
    with pytest.raises(DecryptionError):
        old_cipher.decrypt(rotated)


def test_rotate_is_idempotent_in_effect() -> None:
    cipher = TokenCipher([KEY_B, KEY_A])
    once = cipher.rotate(TokenCipher([KEY_A]).encrypt("v"))
    twice = cipher.rotate(once)
    assert TokenCipher([KEY_B]).decrypt(twice) == "v"


def test_rotate_of_an_unknown_value_raises() -> None:
    from cryptography.fernet import InvalidToken

    with pytest.raises((DecryptionError, InvalidToken)):
        TokenCipher([KEY_B]).rotate(TokenCipher([KEY_A]).encrypt("v"))


def test_rotate_of_an_unknown_value_raises_decryption_error() -> None:
    with pytest.raises(DecryptionError):
        TokenCipher([KEY_B]).rotate(TokenCipher([KEY_A]).encrypt("v"))


def test_at_least_one_key() -> None:
    with pytest.raises(ValueError, match="at least one"):
        TokenCipher([])


def test_any_secret_string_works_as_a_key() -> None:
    for key in ("short", "with spaces and ünïcode", "x" * 500):
        cipher = TokenCipher([key])
        assert cipher.decrypt(cipher.encrypt("v")) == "v"


def test_lookup_hash_is_stable_and_one_way() -> None:
    value = "link-token-abc123"
    digest = lookup_hash(value)
    assert digest == lookup_hash(value)
    assert digest == lookup_hash("link-token-abc123")
    assert len(digest) == 64
    assert int(digest, 16) >= 0  # lowercase hex
    assert digest == digest.lower()
    assert value not in digest
    assert lookup_hash(value + "x") != digest
    assert lookup_hash("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"  # SHA-256
    # Independent of any SECRET_KEY: rotating keys never orphans stored lookups.
    TokenCipher([KEY_B])
    assert lookup_hash(value) == digest
