"""Webhook deliveries and calendar sync requests, claimed in the database so several processes share work.

A claim is a lease (`claimed_until`): the holder renews it while it works; if the holder dies, the lease
runs out and another process (or the restarted one) takes the work over.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import CalendarSync, WebhookDelivery, utcnow

RETRY_FAILED_AFTER = timedelta(seconds=30)
MAX_RETRY_DELAY = timedelta(hours=1)


def retry_delay(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min ... capped at an hour: a Recall or Slack outage of hours is ridden out."""
    return min(RETRY_FAILED_AFTER * (2 ** max(attempts - 1, 0)), MAX_RETRY_DELAY)


def new_delivery(*, message_id: str, event_type: str, payload: str) -> WebhookDelivery:
    return WebhookDelivery(message_id=message_id, event_type=event_type, payload=payload, received_at=utcnow())


def _claimable(column: object, now: datetime) -> object:
    return or_(column.is_(None), column < now)  # type: ignore[attr-defined]


async def claim_deliveries(
    session: AsyncSession, *, owner: str, lease: timedelta, limit: int = 100
) -> list[WebhookDelivery]:
    """Unprocessed deliveries nobody holds (or whose holder died), oldest first, now leased to the caller."""
    now = utcnow()
    candidates = list(
        await session.scalars(
            select(WebhookDelivery.id)
            .where(WebhookDelivery.processed_at.is_(None), _claimable(WebhookDelivery.claimed_until, now))
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
                _claimable(WebhookDelivery.claimed_until, now),
            )
            .values(claimed_until=now + lease, claimed_by=owner, attempts=WebhookDelivery.attempts + 1)
        )
        if result.rowcount == 1:
            claimed.append(delivery_id)
    if not claimed:
        return []
    rows = await session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.id.in_(claimed)).order_by(WebhookDelivery.id)
    )
    return list(rows)


async def finish_delivery(
    session: AsyncSession,
    delivery: WebhookDelivery,
    *,
    owner: str,
    error: str | None = None,
    abandon: bool = False,
) -> None:
    """Mark processed; with ``error``, release it for a retry with back-off (or, with ``abandon``, give up
    but keep the error on the row). Only the lease holder may finish it."""
    if error is None:
        values: dict[str, object] = {"processed_at": utcnow(), "claimed_until": None, "last_error": None}
    elif abandon:
        values = {"processed_at": utcnow(), "claimed_until": None, "last_error": f"abandoned: {error}"[:200]}
    else:
        values = {"claimed_until": utcnow() + retry_delay(delivery.attempts), "last_error": error[:200]}
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery.id, WebhookDelivery.claimed_by == owner)
        .values(**values)
    )


async def delete_processed_deliveries(session: AsyncSession, *, before: datetime) -> int:
    result = await session.execute(
        delete(WebhookDelivery).where(WebhookDelivery.processed_at.is_not(None), WebhookDelivery.processed_at < before)
    )
    return result.rowcount or 0


async def request_sync(
    session: AsyncSession, *, recall_calendar_id: str, until: datetime | None, since: datetime | None = None
) -> None:
    """Note that a calendar's events changed up to ``until``; a sync run lists them later (coalesced).

    ``since`` seeds the cursor of a calendar we have never listed (its creation time: Recall creates its
    events after the calendar, so the first listing still brings the whole window).
    """
    sync = await session.get(CalendarSync, recall_calendar_id)
    if sync is None:
        session.add(
            CalendarSync(
                recall_calendar_id=recall_calendar_id, pending=True, requested_until=until, requests=1, cursor=since
            )
        )
        return
    if until is not None and sync.cursor is not None and until <= sync.cursor and not sync.pending:
        # A finished listing started after `until` already covered every change up to it (a redelivery,
        # or Recall re-announcing a sync that changed nothing): no listing needed.
        return
    sync.pending = True
    sync.requests += 1
    if until is not None and (sync.requested_until is None or until > sync.requested_until):
        sync.requested_until = until


@dataclass(frozen=True)
class DueSync:
    calendar_id: str
    cursor: datetime | None
    requested_until: datetime | None
    requests: int


async def claim_pending_syncs(session: AsyncSession, *, owner: str, lease: timedelta) -> list[DueSync]:
    """Calendars with a pending sync that nobody holds, now leased to the caller (still pending until done)."""
    now = utcnow()
    candidates = list(
        await session.scalars(
            select(CalendarSync.recall_calendar_id).where(
                CalendarSync.pending.is_(True), _claimable(CalendarSync.claimed_until, now)
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
                _claimable(CalendarSync.claimed_until, now),
            )
            .values(claimed_until=now + lease, claimed_by=owner)
        )
        if result.rowcount == 1:
            claimed.append(calendar_id)
    if not claimed:
        return []
    rows = await session.scalars(select(CalendarSync).where(CalendarSync.recall_calendar_id.in_(claimed)))
    return [DueSync(s.recall_calendar_id, s.cursor, s.requested_until, s.requests) for s in rows]


async def renew_leases(
    session: AsyncSession, *, model: type, keys: Sequence[object], owner: str, until: datetime
) -> None:
    """Extend the caller's own leases on deliveries (ids) or syncs (calendar ids) it is still working on."""
    if not keys:
        return
    column = WebhookDelivery.id if model is WebhookDelivery else CalendarSync.recall_calendar_id
    owned = WebhookDelivery.claimed_by if model is WebhookDelivery else CalendarSync.claimed_by
    await session.execute(update(model).where(column.in_(list(keys)), owned == owner).values(claimed_until=until))


async def finish_sync(
    session: AsyncSession, *, due: DueSync, owner: str, cursor: datetime | None, succeeded: bool
) -> None:
    # Locked, so a request committed meanwhile by another process is not overwritten (PostgreSQL;
    # SQLite serialises writers anyway).
    sync = await session.scalar(
        select(CalendarSync).where(CalendarSync.recall_calendar_id == due.calendar_id).with_for_update()
    )
    if sync is None or sync.claimed_by != owner:
        return  # our lease ran out and someone else holds it now
    if not succeeded:
        sync.claimed_until = utcnow() + RETRY_FAILED_AFTER  # stays pending; retried after a pause
        return
    sync.claimed_until = None
    sync.cursor = cursor
    sync.last_synced_at = utcnow()
    if sync.requests == due.requests:
        sync.pending = False  # no webhook arrived while we listed
    if sync.requested_until is not None and cursor is not None and sync.requested_until <= cursor:
        sync.requested_until = None


async def all_syncs_due(session: AsyncSession, *, older_than: datetime) -> list[str]:
    """Connected calendars not synced since ``older_than``, or never (the catch-up job re-lists them in case
    a webhook was lost)."""
    from storage.models import CalendarConnection

    rows = await session.scalars(
        select(CalendarConnection.recall_calendar_id)
        .outerjoin(CalendarSync, CalendarSync.recall_calendar_id == CalendarConnection.recall_calendar_id)
        .where(or_(CalendarSync.last_synced_at.is_(None), CalendarSync.last_synced_at < older_than))
    )
    return list(rows)


async def forget_sync(session: AsyncSession, recall_calendar_ids: Sequence[str]) -> None:
    if recall_calendar_ids:
        await session.execute(
            delete(CalendarSync).where(CalendarSync.recall_calendar_id.in_(list(recall_calendar_ids)))
        )
