"""Connect links and the provider round trips they start (only hashes of their random tokens are stored)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import CalendarOAuthState


async def find_state_by_link(session: AsyncSession, link_token_hash: str) -> CalendarOAuthState | None:
    return await session.scalar(select(CalendarOAuthState).where(CalendarOAuthState.link_token_hash == link_token_hash))


async def find_state_by_oauth_state(session: AsyncSession, oauth_state_hash: str) -> CalendarOAuthState | None:
    return await session.scalar(
        select(CalendarOAuthState).where(CalendarOAuthState.oauth_state_hash == oauth_state_hash)
    )


async def claim_link(
    session: AsyncSession,
    *,
    state_id: int,
    oauth_state_hash: str,
    browser_nonce_hash: str,
    code_verifier_encrypted: str,
    now: datetime,
) -> bool:
    """Mark a link opened exactly once; False if somebody else opened it first."""
    result = await session.execute(
        update(CalendarOAuthState)
        .where(CalendarOAuthState.id == state_id, CalendarOAuthState.opened_at.is_(None))
        .values(
            opened_at=now,
            oauth_state_hash=oauth_state_hash,
            browser_nonce_hash=browser_nonce_hash,
            code_verifier_encrypted=code_verifier_encrypted,
        )
    )
    return result.rowcount == 1


async def consume_state(session: AsyncSession, *, state_id: int, now: datetime) -> bool:
    """Mark a provider round trip used exactly once; False if it was already used."""
    result = await session.execute(
        update(CalendarOAuthState)
        .where(CalendarOAuthState.id == state_id, CalendarOAuthState.used_at.is_(None))
        .values(used_at=now)
    )
    return result.rowcount == 1


async def delete_expired_states(session: AsyncSession, *, before: datetime) -> int:
    result = await session.execute(delete(CalendarOAuthState).where(CalendarOAuthState.expires_at < before))
    return result.rowcount or 0
