"""Calendar connections: a member's calendar at one provider, and the Recall calendar made from it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage import meetings
from storage.models import CalendarConnection, Member

DISCONNECTED = "disconnected"


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


async def connections_by_calendar(
    session: AsyncSession, calendar_ids: Sequence[str]
) -> dict[str, tuple[CalendarConnection, Member]]:
    if not calendar_ids:
        return {}
    rows = await session.execute(
        select(CalendarConnection, Member)
        .join(Member, CalendarConnection.member_id == Member.id)
        .where(CalendarConnection.recall_calendar_id.in_(list(calendar_ids)))
    )
    return {conn.recall_calendar_id: (conn, member) for conn, member in rows}


async def workspace_calendar_ids(session: AsyncSession, *, team_id: str) -> list[str]:
    rows = await session.scalars(
        select(CalendarConnection.recall_calendar_id)
        .join(Member)
        .where(Member.team_id == team_id)
        .order_by(CalendarConnection.id)
    )
    return list(rows)


async def set_status(session: AsyncSession, connection: CalendarConnection, status: str, *, now: datetime) -> None:
    """Record Recall's status for the calendar, with what it means for its meetings: Recall unschedules the bots
    of a disconnected calendar, so ours are forgotten; when the calendar comes back they are scheduled again."""
    previous = connection.status
    connection.status = status
    if status == DISCONNECTED and previous != DISCONNECTED:
        await meetings.forget_bots(session, connection_id=connection.id, now=now)
    elif previous == DISCONNECTED and status != DISCONNECTED:
        await meetings.mark_upcoming_pending(session, connection_id=connection.id, now=now)
