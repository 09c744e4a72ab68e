"""Stored Recall webhooks: received (unique by message id), claimed by one process, then done or abandoned."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import leases
from storage.lifecycle import DeliveryStatus, backoff
from storage.models import WebhookDelivery

FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=1)
# With back-off from 30 s to an hour, 12 attempts ride out about seven hours of outage.
MAX_ATTEMPTS = 12


def retry_delay(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min ... capped at an hour, after 1, 2, 3 ... failed attempts."""
    return backoff(attempts, first=FIRST_RETRY, cap=MAX_RETRY)


# One statement for every webhook: compiled and cached once, executed with each webhook's values.
_STORE = insert(WebhookDelivery.__table__).returning(WebhookDelivery.__table__.c.id)


async def store_delivery(
    session: AsyncSession, *, message_id: str, event_type: str, payload: str, now: datetime
) -> int:
    """Store a verified webhook, due now; returns its id. A message id stored before raises ``IntegrityError`` (a
    redelivery). One Core INSERT, without the ORM's unit of work: this runs once per webhook."""
    result = await session.execute(
        _STORE,
        {
            "message_id": message_id,
            "event_type": event_type,
            "payload": payload,
            "received_at": now,
            "due_at": now,
            "status": DeliveryStatus.PENDING,
            "attempts": 0,
        },
    )
    return int(result.scalar_one())


async def claim_deliveries(
    session: AsyncSession, *, owner: str, lease: timedelta, now: datetime, limit: int
) -> list[WebhookDelivery]:
    """Pending deliveries that are due and that nobody holds (or whose holder died), oldest first, now leased to
    ``owner`` with their attempt counted."""
    due = (WebhookDelivery.status == DeliveryStatus.PENDING, WebhookDelivery.due_at <= now)
    candidates = list(
        await session.scalars(
            select(WebhookDelivery.id)
            .where(*due, leases.claimable(WebhookDelivery, now))
            .order_by(WebhookDelivery.id)
            .limit(limit)
        )
    )
    claimed = await leases.claim(
        session,
        WebhookDelivery,
        candidates,
        owner=owner,
        lease=lease,
        now=now,
        where=due,
        values={"attempts": WebhookDelivery.attempts + 1},
    )
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
    now: datetime,
    error: str | None = None,
) -> DeliveryStatus | None:
    """Record the outcome of the owner's attempt: DONE; or, with ``error``, PENDING again after a back-off, or
    ABANDONED once every attempt failed. Returns the new status, or None if ``owner`` no longer held it (its
    lease ran out and another process took over: that process records the outcome)."""
    if error is None:
        status, values = DeliveryStatus.DONE, {"finished_at": now, "last_error": None}
    elif delivery.attempts >= MAX_ATTEMPTS:
        status, values = DeliveryStatus.ABANDONED, {"finished_at": now, "last_error": error[:200]}
    else:
        status, values = (
            DeliveryStatus.PENDING,
            {"due_at": now + retry_delay(delivery.attempts), "last_error": error[:200]},
        )
    released = await leases.release(
        session, WebhookDelivery, delivery.id, owner=owner, values={"status": status, **values}
    )
    return status if released else None


async def finish_deliveries(session: AsyncSession, ids: Sequence[int], *, owner: str, now: datetime) -> int:
    """`finish_delivery` without an error for many at once (a batch handled in one transaction); returns how many
    ``owner`` still held (the others were taken over by another process, which records their outcome)."""
    if not ids:
        return 0
    result = await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(list(ids)), leases.held_by(WebhookDelivery, owner))
        .values(claimed_by=None, claimed_until=None, status=DeliveryStatus.DONE, finished_at=now, last_error=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


async def delete_finished_deliveries(session: AsyncSession, *, before: datetime) -> int:
    """Processed deliveries (and abandoned ones) past ``before``: a redelivery that old is outside Svix's retries."""
    result = await session.execute(
        delete(WebhookDelivery).where(
            WebhookDelivery.status.in_([DeliveryStatus.DONE, DeliveryStatus.ABANDONED]),
            WebhookDelivery.finished_at < before,
        )
    )
    return result.rowcount or 0
