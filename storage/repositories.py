"""Queries over our tables. Functions take the session and never commit: the caller owns the transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import CalendarConnection, CalendarOAuthState, Member, PendingCalendarDeletion, utcnow
from storage.slack_tables import slack_bots, slack_installations


async def find_member(session: AsyncSession, *, team_id: str, slack_user_id: str) -> Member | None:
    return await session.scalar(
        select(Member)
        .where(Member.team_id == team_id, Member.slack_user_id == slack_user_id)
        .options(selectinload(Member.connections))
    )


async def get_or_create_member(
    session: AsyncSession, *, team_id: str, slack_user_id: str, enterprise_id: str | None = None
) -> Member:
    member = await find_member(session, team_id=team_id, slack_user_id=slack_user_id)
    if member is None:
        member = Member(team_id=team_id, slack_user_id=slack_user_id, enterprise_id=enterprise_id)
        member.connections = []
        session.add(member)
        await session.flush()
    return member


async def find_connection(session: AsyncSession, *, member_id: int, provider: str) -> CalendarConnection | None:
    return await session.scalar(
        select(CalendarConnection).where(
            CalendarConnection.member_id == member_id, CalendarConnection.provider == provider
        )
    )


async def find_connection_by_calendar(session: AsyncSession, recall_calendar_id: str) -> CalendarConnection | None:
    return await session.scalar(
        select(CalendarConnection)
        .where(CalendarConnection.recall_calendar_id == recall_calendar_id)
        .options(selectinload(CalendarConnection.member))
    )


async def workspace_connections(session: AsyncSession, *, team_id: str) -> list[CalendarConnection]:
    rows = await session.scalars(
        select(CalendarConnection).join(Member).where(Member.team_id == team_id).order_by(CalendarConnection.id)
    )
    return list(rows)


async def delete_workspace(session: AsyncSession, *, team_id: str, enterprise_id: str | None) -> int:
    """Remove every row we hold for a workspace (members cascade to connections). Returns members removed."""
    result = await session.execute(delete(Member).where(Member.team_id == team_id))
    await session.execute(delete(CalendarOAuthState).where(CalendarOAuthState.team_id == team_id))
    for table in (slack_installations, slack_bots):
        condition = table.c.team_id == team_id
        if enterprise_id is not None:
            condition = condition & (table.c.enterprise_id == enterprise_id)
        await session.execute(delete(table).where(condition))
    return result.rowcount or 0


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
) -> bool:
    """Mark a link opened exactly once; False if somebody else opened it first."""
    result = await session.execute(
        update(CalendarOAuthState)
        .where(CalendarOAuthState.id == state_id, CalendarOAuthState.opened_at.is_(None))
        .values(
            opened_at=utcnow(),
            oauth_state_hash=oauth_state_hash,
            browser_nonce_hash=browser_nonce_hash,
            code_verifier_encrypted=code_verifier_encrypted,
        )
    )
    return result.rowcount == 1


async def consume_state(session: AsyncSession, *, state_id: int) -> bool:
    """Mark a provider round trip used exactly once; False if it was already used."""
    result = await session.execute(
        update(CalendarOAuthState)
        .where(CalendarOAuthState.id == state_id, CalendarOAuthState.used_at.is_(None))
        .values(used_at=utcnow())
    )
    return result.rowcount == 1


async def delete_expired_states(session: AsyncSession, *, before: datetime) -> int:
    result = await session.execute(delete(CalendarOAuthState).where(CalendarOAuthState.expires_at < before))
    return result.rowcount or 0


async def schedule_calendar_deletion(session: AsyncSession, recall_calendar_id: str) -> None:
    if await session.get(PendingCalendarDeletion, recall_calendar_id) is None:
        session.add(PendingCalendarDeletion(recall_calendar_id=recall_calendar_id))


async def due_calendar_deletions(session: AsyncSession, *, limit: int = 50) -> list[PendingCalendarDeletion]:
    rows = await session.scalars(
        select(PendingCalendarDeletion)
        .where(PendingCalendarDeletion.next_attempt_at <= utcnow())
        .order_by(PendingCalendarDeletion.next_attempt_at)
        .limit(limit)
    )
    return list(rows)


async def calendar_deletion_done(session: AsyncSession, recall_calendar_id: str) -> None:
    await session.execute(
        delete(PendingCalendarDeletion).where(PendingCalendarDeletion.recall_calendar_id == recall_calendar_id)
    )


async def calendar_deletion_failed(session: AsyncSession, recall_calendar_id: str) -> None:
    """Back off: 1, 2, 4 ... minutes, capped at six hours."""
    row = await session.get(PendingCalendarDeletion, recall_calendar_id)
    if row is not None:
        row.attempts += 1
        row.next_attempt_at = utcnow() + timedelta(minutes=min(2 ** (row.attempts - 1), 360))
