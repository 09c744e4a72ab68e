"""What decides besides clicks: workspace policies, members' series choices, and the meetings a change touches."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import meetings
from storage.models import CalendarConnection, Meeting, Member, SeriesChoice, WorkspacePolicy


async def workspace_policy(session: AsyncSession, team_id: str) -> WorkspacePolicy | None:
    return await session.get(WorkspacePolicy, team_id)


async def workspace_policy_for_update(session: AsyncSession, team_id: str) -> WorkspacePolicy:
    """The workspace's policy row, created with nothing set if it did not exist."""
    policy = await session.get(WorkspacePolicy, team_id)
    if policy is None:
        policy = WorkspacePolicy(
            team_id=team_id,
            default_accepted_only=False,
            excluded_keywords=[],
            domains=[],
            enforce_external=False,
        )
        session.add(policy)
        await session.flush()
    return policy


async def delete_workspace_policy(session: AsyncSession, team_id: str) -> None:
    await session.execute(delete(WorkspacePolicy).where(WorkspacePolicy.team_id == team_id))


async def series_choice(session: AsyncSession, *, member_id: int, series_id: str) -> str | None:
    return await session.scalar(
        select(SeriesChoice.choice).where(SeriesChoice.member_id == member_id, SeriesChoice.series_id == series_id)
    )


async def set_series_choice(session: AsyncSession, *, member_id: int, series_id: str, choice: str | None) -> None:
    """Keep (or, with None, forget) the member's standing choice for a series."""
    existing = await session.scalar(
        select(SeriesChoice).where(SeriesChoice.member_id == member_id, SeriesChoice.series_id == series_id)
    )
    if choice is None:
        if existing is not None:
            await session.delete(existing)
    elif existing is None:
        session.add(SeriesChoice(member_id=member_id, series_id=series_id, choice=choice))
    else:
        existing.choice = choice


def _members_meetings(member_id: int) -> object:
    return Meeting.connection_id.in_(select(CalendarConnection.id).where(CalendarConnection.member_id == member_id))


async def upcoming_meetings(session: AsyncSession, *, member_id: int, now: datetime) -> list[Meeting]:
    """The member's meetings that have not ended, soonest first."""
    rows = await session.scalars(
        select(Meeting)
        .where(_members_meetings(member_id), Meeting.end_time > now, Meeting.is_deleted.is_(False))  # type: ignore[arg-type]
        .order_by(Meeting.start_time)
    )
    return list(rows)


async def mark_member_upcoming_pending(session: AsyncSession, *, member_id: int, now: datetime) -> list[str]:
    """The member's rule or keywords changed: every upcoming meeting is decided again."""
    return await meetings.mark_pending_where(
        session, _members_meetings(member_id), Meeting.end_time > now, Meeting.is_deleted.is_(False), now=now
    )


async def mark_series_pending(session: AsyncSession, *, member_id: int, series_id: str, now: datetime) -> list[str]:
    return await meetings.mark_pending_where(
        session,
        _members_meetings(member_id),
        Meeting.series_id == series_id,
        Meeting.end_time > now,
        Meeting.is_deleted.is_(False),
        now=now,
    )


async def mark_workspace_upcoming_pending(session: AsyncSession, *, team_id: str, now: datetime) -> list[str]:
    """The workspace's policy changed: every member's upcoming meetings are decided again."""
    return await meetings.mark_pending_where(
        session, Meeting.team_id == team_id, Meeting.end_time > now, Meeting.is_deleted.is_(False), now=now
    )


async def members_of(session: AsyncSession, team_id: str) -> list[Member]:
    return list(await session.scalars(select(Member).where(Member.team_id == team_id)))
