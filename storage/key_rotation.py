"""Re-encrypt every stored secret under the first SECRET_KEY (after a new key was put in front of the old)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.crypto import TokenCipher
from storage.models import CalendarConnection, CalendarOAuthState
from storage.slack_tables import ENCRYPTED_COLUMNS, slack_bots, slack_installations


@dataclass(frozen=True)
class RotationReport:
    refresh_tokens: int
    code_verifiers: int
    slack_tokens: int


async def _rotate_column(session: AsyncSession, cipher: TokenCipher, table: Table, column: str) -> int:
    key = table.c.id
    rows = (await session.execute(select(key, table.c[column]).where(table.c[column].is_not(None)))).all()
    rotated = 0
    for row_id, ciphertext in rows:
        # Compare-and-set: a secret the running app replaced meanwhile (a reconnect's new refresh token, already
        # under the first key) is newer than ours and is left alone. Safe to run while the app serves.
        result = await session.execute(
            update(table)
            .where(key == row_id, table.c[column] == ciphertext)
            .values({column: cipher.rotate(ciphertext)})
        )
        rotated += result.rowcount or 0
    return rotated


async def rotate_secrets(session: AsyncSession, cipher: TokenCipher) -> RotationReport:
    """Every secret decryptable by any configured key is re-encrypted by the first one; one that no key opens
    raises DecryptionError and, the caller's transaction rolling back, nothing is changed."""
    refresh = await _rotate_column(session, cipher, CalendarConnection.__table__, "refresh_token_encrypted")
    verifiers = await _rotate_column(session, cipher, CalendarOAuthState.__table__, "code_verifier_encrypted")
    slack = 0
    for table in (slack_bots, slack_installations):
        for column in ENCRYPTED_COLUMNS:
            if column in table.c:
                slack += await _rotate_column(session, cipher, table, column)
    return RotationReport(refresh_tokens=refresh, code_verifiers=verifiers, slack_tokens=slack)
