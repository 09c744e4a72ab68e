"""Webhook deliveries and calendar sync cursors: claimed in the database so several processes can share work."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import CalendarSync, WebhookDelivery, utcnow

CLAIM_FOR = timedelta(minutes=5)


def new_delivery(*, message_id: str, event_type: str, payload: str) -> WebhookDelivery:
    return WebhookDelivery(message_id=message_id, event_type=event_type, payload=payload, received_at=utcnow())


async def claim_deliveries(session: AsyncSession, *, limit: int = 100) -> list[WebhookDelivery]:
    """Unprocessed deliveries nobody holds (or whose holder died), oldest first, now held by the caller."""
    now = utcnow()
    candidates = list(
        await session.scalars(
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.processed_at.is_(None),
                or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < now),
            )
            .order_by(WebhookDelivery.id)
            .limit(limit)
        )
    )
    claimed = []
    for delivery_id in candidates:
        result = await session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.processed_at.is_(None),
                or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < now),
            )
            .values(claimed_until=now + CLAIM_FOR, attempts=WebhookDelivery.attempts + 1)
        )
        if result.rowcount == 1:
            claimed.append(delivery_id)
    if not claimed:
        return []
    rows = await session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.id.in_(claimed)).order_by(WebhookDelivery.id)
    )
    return list(rows)


async def finish_delivery(session: AsyncSession, delivery_id: int, *, error: str | None = None) -> None:
    """Mark processed; with ``error``, release it for a later retry instead."""
    if error is None:
        values = {"processed_at": utcnow(), "claimed_until": None, "last_error": None}
    else:
        values = {"claimed_until": utcnow() + timedelta(seconds=30), "last_error": error[:200]}
    await session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id).values(**values))


async def delete_processed_deliveries(session: AsyncSession, *, before: datetime) -> int:
    from sqlalchemy import delete

    result = await session.execute(
        delete(WebhookDelivery).where(WebhookDelivery.processed_at.is_not(None), WebhookDelivery.processed_at < before)
    )
    return result.rowcount or 0


async def request_sync(session: AsyncSession, *, recall_calendar_id: str, until: datetime | None) -> None:
    """Note that a calendar's events changed up to ``until``; a sync run lists them later (coalesced)."""
    sync = await session.get(CalendarSync, recall_calendar_id)
    if sync is None:
        session.add(CalendarSync(recall_calendar_id=recall_calendar_id, pending=True, requested_until=until))
        return
    sync.pending = True
    if until is not None and (sync.requested_until is None or until > sync.requested_until):
        sync.requested_until = until


async def claim_pending_syncs(session: AsyncSession) -> list[CalendarSync]:
    now = utcnow()
    candidates = list(
        await session.scalars(
            select(CalendarSync.recall_calendar_id).where(
                CalendarSync.pending.is_(True),
                or_(CalendarSync.claimed_until.is_(None), CalendarSync.claimed_until < now),
            )
        )
    )
    claimed = []
    for calendar_id in candidates:
        result = await session.execute(
            update(CalendarSync)
            .where(
                CalendarSync.recall_calendar_id == calendar_id,
                CalendarSync.pending.is_(True),
                or_(CalendarSync.claimed_until.is_(None), CalendarSync.claimed_until < now),
            )
            .values(claimed_until=now + CLAIM_FOR, pending=False)
        )
        if result.rowcount == 1:
            claimed.append(calendar_id)
    if not claimed:
        return []
    return list(await session.scalars(select(CalendarSync).where(CalendarSync.recall_calendar_id.in_(claimed))))


async def finish_sync(
    session: AsyncSession, *, recall_calendar_id: str, cursor: datetime | None, succeeded: bool
) -> None:
    sync = await session.get(CalendarSync, recall_calendar_id)
    if sync is None:
        return
    sync.claimed_until = None
    if succeeded:
        sync.cursor = cursor
        sync.last_synced_at = utcnow()
        if sync.requested_until is not None and cursor is not None and sync.requested_until <= cursor:
            sync.requested_until = None
    else:
        sync.pending = True


async def all_syncs_due(session: AsyncSession, *, older_than: datetime) -> list[str]:
    """Calendars not synced since ``older_than`` (the catch-up job re-lists them in case a webhook was lost)."""
    rows = await session.scalars(
        select(CalendarSync.recall_calendar_id).where(
            or_(CalendarSync.last_synced_at.is_(None), CalendarSync.last_synced_at < older_than)
        )
    )
    return list(rows)
