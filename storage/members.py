"""Members: the Slack users of a workspace who have used the app, and the DM channel the app talks to them in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import CalendarConnection, CalendarOAuthState, Member


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


async def dm_channel(session: AsyncSession, *, team_id: str, slack_user_id: str) -> str | None:
    return await session.scalar(
        select(Member.dm_channel_id).where(Member.team_id == team_id, Member.slack_user_id == slack_user_id)
    )


async def remember_dm_channel(session: AsyncSession, *, team_id: str, slack_user_id: str, channel_id: str) -> bool:
    """Keep the member's DM channel id (Slack's `conversations.open` answer never changes for a user).
    False if the user is not a member (yet): nothing is stored for people who never used the app."""
    result = await session.execute(
        update(Member)
        .where(Member.team_id == team_id, Member.slack_user_id == slack_user_id)
        .values(dm_channel_id=channel_id)
    )
    return result.rowcount == 1


async def mark_home_due(session: AsyncSession, *, member_id: int, now: datetime) -> None:
    """Something on the member's Home tab changed: publish it again (soon, if they have it open)."""
    await session.execute(
        update(Member).where(Member.id == member_id, Member.home_due_at.is_(None)).values(home_due_at=now)
    )


async def homes_due(session: AsyncSession, *, now: datetime, limit: int = 200) -> list[Member]:
    rows = await session.scalars(
        select(Member).where(Member.home_due_at.is_not(None), Member.home_due_at <= now).limit(limit)
    )
    return list(rows)


async def members_with_calendars(session: AsyncSession) -> list[Member]:
    """Active members with at least one connected calendar (they get agendas and reminders)."""
    rows = await session.scalars(
        select(Member)
        .where(Member.active.is_(True), Member.id.in_(select(CalendarConnection.member_id)))
        .options(selectinload(Member.connections))
    )
    return list(rows)


async def delete_workspace_members(session: AsyncSession, *, team_id: str) -> int:
    """Every member of a workspace (connections and meetings cascade) and their pending connect links."""
    result = await session.execute(delete(Member).where(Member.team_id == team_id))
    await session.execute(delete(CalendarOAuthState).where(CalendarOAuthState.team_id == team_id))
    return result.rowcount or 0
