"""Meetings (our copy of each member's calendar events) and the queries the meeting service needs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import CalendarConnection, Meeting, Member


async def get_meeting(session: AsyncSession, recall_event_id: str) -> Meeting | None:
    return await session.get(Meeting, recall_event_id)


async def meetings_by_ids(session: AsyncSession, ids: Sequence[str]) -> dict[str, Meeting]:
    if not ids:
        return {}
    rows = await session.scalars(select(Meeting).where(Meeting.recall_event_id.in_(list(ids))))
    return {m.recall_event_id: m for m in rows}


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


async def owner_of(session: AsyncSession, meeting: Meeting) -> tuple[CalendarConnection, Member] | None:
    row = await session.execute(
        select(CalendarConnection, Member)
        .join(Member, CalendarConnection.member_id == Member.id)
        .where(CalendarConnection.id == meeting.connection_id)
    )
    found = row.first()
    return (found[0], found[1]) if found else None


async def colleagues_with_bot(session: AsyncSession, *, team_id: str, key: str, exclude_user_id: str) -> list[str]:
    """Slack user ids of other members of the workspace whose scheduled bot has dedup ``key``."""
    rows = await session.scalars(
        select(Member.slack_user_id)
        .join(CalendarConnection, CalendarConnection.member_id == Member.id)
        .join(Meeting, Meeting.connection_id == CalendarConnection.id)
        .where(
            Meeting.team_id == team_id,
            Meeting.scheduled_key == key,
            Meeting.is_deleted.is_(False),
            Member.slack_user_id != exclude_user_id,
        )
        .order_by(Meeting.updated_at)
    )
    seen: list[str] = []
    for user_id in rows:
        if user_id not in seen:
            seen.append(user_id)
    return seen


async def meetings_sharing_key(session: AsyncSession, *, team_id: str, keys: Sequence[str]) -> list[str]:
    """Event ids of meetings in the workspace whose current meeting matches one of ``keys`` and have a message."""
    if not keys:
        return []
    rows = await session.scalars(
        select(Meeting.recall_event_id).where(
            Meeting.team_id == team_id, Meeting.message_ts.is_not(None), Meeting.current_key.in_(list(keys))
        )
    )
    return list(rows)


async def ended_with_live_message(session: AsyncSession, *, now: datetime, limit: int = 200) -> list[str]:
    """Meetings that ended while their message still offers buttons."""
    rows = await session.scalars(
        select(Meeting.recall_event_id)
        .where(
            Meeting.end_time <= now,
            Meeting.message_ts.is_not(None),
            Meeting.rendered_state.in_(["ask", "covered", "scheduled", "skipped"]),
            or_(Meeting.retry_after.is_(None), Meeting.retry_after <= now),
        )
        .limit(limit)
    )
    return list(rows)


async def meetings_needing_repair(session: AsyncSession, *, now: datetime, limit: int = 200) -> list[str]:
    """Live meetings whose state lags and are due for another try: stored changes never acted on (a crash, a
    failure), a wanted bot not scheduled under the current key, or a message that should exist but does not."""
    live = and_(Meeting.end_time > now, Meeting.is_deleted.is_(False))
    due = or_(Meeting.retry_after.is_(None), Meeting.retry_after <= now)
    not_declined = or_(Meeting.self_response.is_(None), Meeting.self_response != "declined")
    bot_lags = and_(
        Meeting.choice == "schedule",
        Meeting.current_key.is_not(None),
        or_(Meeting.scheduled_key.is_(None), Meeting.scheduled_key != Meeting.current_key),
        not_declined,
        CalendarConnection.status != "disconnected",
    )
    message_missing = and_(Meeting.message_ts.is_(None), Meeting.current_key.is_not(None), not_declined)
    rows = await session.scalars(
        select(Meeting.recall_event_id)
        .join(CalendarConnection, CalendarConnection.id == Meeting.connection_id)
        .where(due, or_(Meeting.needs_reconcile.is_(True), and_(live, or_(bot_lags, message_missing))))
        .order_by(Meeting.start_time)
        .limit(limit)
    )
    return list(rows)


async def claim_first_post(session: AsyncSession, event_id: str, *, now: datetime, until: datetime) -> bool:
    """Only one process posts a meeting's first message: True for the one that got the claim."""
    result = await session.execute(
        update(Meeting)
        .where(
            Meeting.recall_event_id == event_id,
            Meeting.message_ts.is_(None),
            or_(Meeting.posting_until.is_(None), Meeting.posting_until < now),
        )
        .values(posting_until=until)
    )
    return result.rowcount == 1


async def forget_bots(session: AsyncSession, *, connection_id: int, now: datetime) -> int:
    """Recall unscheduled a disconnected calendar's bots: forget ours so they are scheduled again on reconnect."""
    result = await session.execute(
        update(Meeting)
        .where(Meeting.connection_id == connection_id, Meeting.end_time > now, Meeting.scheduled_key.is_not(None))
        .values(scheduled_key=None, needs_reconcile=True)
    )
    return result.rowcount or 0


async def delete_ended_meetings(session: AsyncSession, *, before: datetime) -> int:
    """Meetings long over: their messages can no longer change."""
    from sqlalchemy import delete

    result = await session.execute(delete(Meeting).where(Meeting.end_time < before))
    return result.rowcount or 0
