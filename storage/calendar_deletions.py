"""Recall calendars still to delete (after an uninstall, or a clean-up Recall did not answer), with back-off."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.lifecycle import backoff
from storage.models import PendingCalendarDeletion

FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY = timedelta(hours=6)


async def schedule_calendar_deletion(session: AsyncSession, recall_calendar_id: str, *, now: datetime) -> None:
    if await session.get(PendingCalendarDeletion, recall_calendar_id) is None:
        session.add(PendingCalendarDeletion(recall_calendar_id=recall_calendar_id, next_attempt_at=now))


async def due_calendar_deletions(session: AsyncSession, *, now: datetime, limit: int = 50) -> list[str]:
    rows = await session.scalars(
        select(PendingCalendarDeletion.recall_calendar_id)
        .where(PendingCalendarDeletion.next_attempt_at <= now)
        .order_by(PendingCalendarDeletion.next_attempt_at)
        .limit(limit)
    )
    return list(rows)


async def calendar_deletion_done(session: AsyncSession, recall_calendar_id: str) -> None:
    await session.execute(
        delete(PendingCalendarDeletion).where(PendingCalendarDeletion.recall_calendar_id == recall_calendar_id)
    )


async def calendar_deletion_failed(session: AsyncSession, recall_calendar_id: str, *, now: datetime) -> None:
    """Back off: 1, 2, 4 ... minutes, capped at six hours."""
    row = await session.get(PendingCalendarDeletion, recall_calendar_id)
    if row is not None:
        row.attempts += 1
        row.next_attempt_at = now + backoff(row.attempts, first=FIRST_RETRY, cap=MAX_RETRY)
