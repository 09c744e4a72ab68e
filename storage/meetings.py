"""Meetings (our copy of each member's calendar events): the queries and transitions the meeting service needs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import leases
from storage.lifecycle import AlertStatus, ReconcileStatus, ReminderStatus
from storage.models import CalendarConnection, Meeting, Member


async def get_meeting(session: AsyncSession, recall_event_id: str) -> Meeting | None:
    return await session.get(Meeting, recall_event_id)


async def meetings_by_ids(session: AsyncSession, ids: Sequence[str]) -> dict[str, Meeting]:
    if not ids:
        return {}
    rows = await session.scalars(select(Meeting).where(Meeting.recall_event_id.in_(list(ids))))
    return {m.recall_event_id: m for m in rows}


async def owner_of(session: AsyncSession, meeting: Meeting) -> tuple[CalendarConnection, Member] | None:
    row = await session.execute(
        select(CalendarConnection, Member)
        .join(Member, CalendarConnection.member_id == Member.id)
        .where(CalendarConnection.id == meeting.connection_id)
    )
    found = row.first()
    return (found[0], found[1]) if found else None


def mark_pending(meeting: Meeting, *, now: datetime) -> None:
    """Something about the meeting changed: act on it now, and let a run that started earlier know (version)."""
    meeting.status = ReconcileStatus.PENDING
    meeting.due_at = now
    meeting.attempts = 0
    meeting.version += 1


async def mark_pending_where(session: AsyncSession, *conditions: object, now: datetime) -> list[str]:
    """`mark_pending` for every meeting matching ``conditions``; returns their event ids."""
    result = await session.execute(
        update(Meeting)
        .where(*conditions)  # type: ignore[arg-type]
        .values(status=ReconcileStatus.PENDING, due_at=now, attempts=0, version=Meeting.version + 1)
        .returning(Meeting.recall_event_id)
        .execution_options(synchronize_session=False)
    )
    return [row[0] for row in result]


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


async def colleagues_by_key(
    session: AsyncSession, *, team_id: str, keys: Sequence[str], exclude_user_id: str
) -> dict[str, list[str]]:
    """`colleagues_with_bot` for many keys in one query."""
    if not keys:
        return {}
    rows = await session.execute(
        select(Meeting.scheduled_key, Member.slack_user_id)
        .join(CalendarConnection, CalendarConnection.member_id == Member.id)
        .join(Meeting, Meeting.connection_id == CalendarConnection.id)
        .where(
            Meeting.team_id == team_id,
            Meeting.scheduled_key.in_(list(keys)),
            Meeting.is_deleted.is_(False),
            Member.slack_user_id != exclude_user_id,
        )
        .order_by(Meeting.updated_at)
    )
    found: dict[str, list[str]] = {}
    for key, user_id in rows:
        users = found.setdefault(key, [])
        if user_id not in users:
            users.append(user_id)
    return found


async def member_meetings_between(
    session: AsyncSession, *, member_id: int, start: datetime, end: datetime
) -> list[Meeting]:
    """The member's meetings starting in [start, end), soonest first."""
    rows = await session.scalars(
        select(Meeting)
        .join(CalendarConnection, CalendarConnection.id == Meeting.connection_id)
        .where(CalendarConnection.member_id == member_id, Meeting.start_time >= start, Meeting.start_time < end)
        .order_by(Meeting.start_time)
    )
    return list(rows)


async def reminder_candidates(
    session: AsyncSession, *, now: datetime, lead: timedelta, stale_before: datetime, limit: int = 500
) -> list[str]:
    """Meetings starting within ``lead`` whose reminder is neither sent nor given up: not claimed yet, or claimed
    before ``stale_before`` by a process that never finished sending it."""
    rows = await session.scalars(
        select(Meeting.recall_event_id)
        .where(
            or_(Meeting.reminder == ReminderStatus.NONE, _stale_claim(stale_before)),
            Meeting.start_time > now,
            Meeting.start_time <= now + lead,
            Meeting.is_deleted.is_(False),
        )
        .order_by(Meeting.start_time)
        .limit(limit)
    )
    return list(rows)


def _stale_claim(stale_before: datetime) -> ColumnElement[bool]:
    return and_(Meeting.reminder == ReminderStatus.SENDING, Meeting.reminder_claimed_at < stale_before)


async def claim_reminder(
    session: AsyncSession, event_id: str, *, now: datetime, stale_before: datetime
) -> ReminderStatus | None:
    """Only one process sends a meeting's reminder. Returns what it was claimed from: NONE, or SENDING when the
    claim of a process that died (older than ``stale_before``) is taken over; None when it is not ours to send."""
    for was, condition in (
        (ReminderStatus.NONE, Meeting.reminder == ReminderStatus.NONE),
        (ReminderStatus.SENDING, _stale_claim(stale_before)),
    ):
        result = await session.execute(
            update(Meeting)
            .where(Meeting.recall_event_id == event_id, condition)
            .values(reminder=ReminderStatus.SENDING, reminder_claimed_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            return was
    return None


async def reminder_leaving(session: AsyncSession, event_id: str, *, claimed_at: datetime, now: datetime) -> bool:
    """The reminder is about to leave for Slack: whether the claim taken at ``claimed_at`` is still this process's
    (another takes over a claim that went stale meanwhile). The claim's age counts from now on."""
    result = await session.execute(
        update(Meeting)
        .where(
            Meeting.recall_event_id == event_id,
            Meeting.reminder == ReminderStatus.SENDING,
            Meeting.reminder_claimed_at == claimed_at,
        )
        .values(reminder_claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


async def finish_reminder(
    session: AsyncSession, event_id: str, *, status: ReminderStatus, channel: str | None = None, ts: str | None = None
) -> None:
    await session.execute(
        update(Meeting)
        .where(Meeting.recall_event_id == event_id)
        .values(reminder=status, reminder_channel_id=channel, reminder_ts=ts)
        .execution_options(synchronize_session=False)
    )


async def mark_sharing_key_pending(
    session: AsyncSession, *, team_id: str, keys: Sequence[str], except_event_id: str, now: datetime
) -> list[str]:
    """A bot appeared or went away under ``keys``: colleagues' meetings with that key must say so. Marks them
    PENDING; returns their event ids. Also those without a message of their own: their first message may be on
    its way right now (decided before this bot existed), and the agenda and the Home tab show them too."""
    if not keys:
        return []
    return await mark_pending_where(
        session,
        Meeting.team_id == team_id,
        Meeting.current_key.in_(list(keys)),
        Meeting.recall_event_id != except_event_id,
        now=now,
    )


async def due_meetings(
    session: AsyncSession, *, statuses: Sequence[ReconcileStatus], now: datetime, limit: int = 200
) -> list[str]:
    """Meetings in one of ``statuses`` whose time to act has come and that nobody is working on, soonest first."""
    rows = await session.scalars(
        select(Meeting.recall_event_id)
        .where(Meeting.status.in_(list(statuses)), Meeting.due_at <= now, leases.claimable(Meeting, now))
        .order_by(Meeting.start_time)
        .limit(limit)
    )
    return list(rows)


async def claim_meeting(
    session: AsyncSession,
    event_id: str,
    *,
    owner: str,
    lease: timedelta,
    now: datetime,
    only_if_due: Sequence[ReconcileStatus] | None = None,
) -> bool:
    """Only one process acts on a meeting at a time (so only one posts its first message). ``only_if_due``: a job
    picking up due meetings claims one only if it is still due (another process may just have settled it)."""
    where = [Meeting.status.in_(list(only_if_due)), Meeting.due_at <= now] if only_if_due else []
    return bool(await leases.claim(session, Meeting, [event_id], owner=owner, lease=lease, now=now, where=where))


async def note_post_sent(session: AsyncSession, event_id: str, *, owner: str, at: datetime, channel: str) -> None:
    """A first message for the meeting is leaving now for ``channel`` (see `Meeting.post_sent_at`); only while
    ``owner`` holds the meeting."""
    await session.execute(
        update(Meeting)
        .where(Meeting.recall_event_id == event_id, Meeting.claimed_by == owner, Meeting.message_ts.is_(None))
        .values(post_sent_at=at, channel_id=channel)
        .execution_options(synchronize_session=False)
    )


async def forget_bots(session: AsyncSession, *, connection_id: int, now: datetime) -> list[str]:
    """Recall unscheduled a disconnected calendar's bots: forget ours, so they are scheduled again on reconnect."""
    result = await session.execute(
        update(Meeting)
        .where(Meeting.connection_id == connection_id, Meeting.end_time > now, Meeting.scheduled_key.is_not(None))
        .values(scheduled_key=None, version=Meeting.version + 1)
        .returning(Meeting.recall_event_id)
        .execution_options(synchronize_session=False)
    )
    return [row[0] for row in result]


async def forget_connection_meetings(session: AsyncSession, *, connection_id: int) -> None:
    """The connection now follows another Recall calendar: the meetings of the one it replaced go (that calendar is
    deleted, with its bots), so no list shows them and their old buttons say the meeting is no longer known."""
    await session.execute(delete(Meeting).where(Meeting.connection_id == connection_id))


async def mark_upcoming_pending(session: AsyncSession, *, connection_id: int, now: datetime) -> list[str]:
    """A calendar came back: act again on its upcoming meetings (bots it lost are scheduled again)."""
    return await mark_pending_where(
        session, Meeting.connection_id == connection_id, Meeting.end_time > now, Meeting.is_deleted.is_(False), now=now
    )


async def delete_ended_meetings(session: AsyncSession, *, before: datetime) -> int:
    """Meetings long over: their messages can no longer change."""
    result = await session.execute(delete(Meeting).where(Meeting.end_time < before))
    return result.rowcount or 0


async def event_ids_sharing_key(session: AsyncSession, *, team_id: str, key: str) -> list[str]:
    """The workspace's meetings whose bot is scheduled under ``key`` (they share one bot)."""
    rows = await session.scalars(
        select(Meeting.recall_event_id).where(Meeting.team_id == team_id, Meeting.scheduled_key == key)
    )
    return sorted(rows)


async def claim_admit_alert(session: AsyncSession, event_id: str) -> bool:
    """Compare-and-set NONE -> SENDING: only one process sends the waiting-room alert, once."""
    result = await session.execute(
        update(Meeting)
        .where(Meeting.recall_event_id == event_id, Meeting.admit_alert == AlertStatus.NONE)
        .values(admit_alert=AlertStatus.SENDING)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


async def release_admit_alert(session: AsyncSession, event_id: str) -> None:
    """Slack refused the alert: it may be sent again (if the bot still waits when the meeting is retried)."""
    await session.execute(
        update(Meeting)
        .where(Meeting.recall_event_id == event_id, Meeting.admit_alert == AlertStatus.SENDING)
        .values(admit_alert=AlertStatus.NONE)
        .execution_options(synchronize_session=False)
    )


async def finish_admit_alert(session: AsyncSession, event_id: str) -> None:
    """The waiting-room alert was sent."""
    await session.execute(
        update(Meeting)
        .where(Meeting.recall_event_id == event_id, Meeting.admit_alert == AlertStatus.SENDING)
        .values(admit_alert=AlertStatus.SENT)
        .execution_options(synchronize_session=False)
    )
