"""Stored webhooks: claimed by one process with the attempt counted, finished only by the holder, retried with
back-off, abandoned after the last attempt, and cleaned up once finished."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from storage import deliveries
from storage.db import Database
from storage.lifecycle import DeliveryStatus
from storage.models import WebhookDelivery
from tests.storage.conftest import NOW

LEASE = timedelta(seconds=60)


def test_delivery_retry_backs_off_to_an_hour() -> None:
    assert [deliveries.retry_delay(n) for n in (1, 2, 3)] == [
        timedelta(seconds=30),
        timedelta(minutes=1),
        timedelta(minutes=2),
    ]
    assert deliveries.retry_delay(7) == timedelta(minutes=32)
    assert deliveries.retry_delay(8) == timedelta(hours=1)
    assert deliveries.retry_delay(20) == timedelta(hours=1)
    assert deliveries.retry_delay(0) == timedelta(0)


async def store(db: Database, message_id: str = "msg_1") -> int:
    async with db.transaction() as session:
        return await deliveries.store_delivery(
            session, message_id=message_id, event_type="calendar.update", payload="{}", now=NOW
        )


async def row(db: Database, delivery_id: int) -> WebhookDelivery:
    async with db.transaction() as session:
        found = await session.get(WebhookDelivery, delivery_id)
        assert found is not None
        return found


async def claim(db: Database, owner: str, now=NOW) -> list[WebhookDelivery]:  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        return await deliveries.claim_deliveries(session, owner=owner, lease=LEASE, now=now, limit=100)


async def test_claimed_once_with_the_attempt_counted(db: Database) -> None:
    first, second = await store(db, "msg_1"), await store(db, "msg_2")
    claimed = await claim(db, "a")
    assert [d.id for d in claimed] == [first, second]  # oldest first
    assert [d.attempts for d in claimed] == [1, 1]
    assert await claim(db, "b") == []  # held


async def test_a_stored_webhook_is_pending_and_due_from_when_it_came(db: Database) -> None:
    stored = await row(db, await store(db))
    assert (stored.status, stored.attempts, stored.received_at, stored.due_at) == (DeliveryStatus.PENDING, 0, NOW, NOW)
    assert (stored.claimed_by, stored.finished_at, stored.last_error) == (None, None, None)


async def test_a_batch_is_finished_at_once_and_only_what_the_owner_still_holds(db: Database) -> None:
    ours = [await store(db, f"msg_{i}") for i in range(4)]
    await claim(db, "a")
    async with db.transaction() as session:
        # The third one's lease ran out and another process holds it now; the first had failed once before.
        taken = await session.get(WebhookDelivery, ours[2])
        earlier = await session.get(WebhookDelivery, ours[0])
        assert taken is not None and earlier is not None
        taken.claimed_by, earlier.last_error = "b", "RecallUnavailable"
    async with db.transaction() as session:
        assert await deliveries.finish_deliveries(session, ours[:3], owner="a", now=NOW) == 2
        assert await deliveries.finish_deliveries(session, [], owner="a", now=NOW) == 0
        assert await deliveries.finish_deliveries(session, [ours[2]], owner="a", now=NOW) == 0
    rows = [await row(db, i) for i in ours]
    assert [(r.status, r.claimed_by, r.finished_at, r.last_error) for r in rows] == [
        (DeliveryStatus.DONE, None, NOW, None),
        (DeliveryStatus.DONE, None, NOW, None),
        (DeliveryStatus.PENDING, "b", None, None),
        (DeliveryStatus.PENDING, "a", None, None),  # held by "a" but not in the batch: left alone
    ]
    assert rows[0].claimed_until is None and rows[3].claimed_until is not None


async def test_only_the_holder_finishes_it(db: Database) -> None:
    delivery_id = await store(db)
    (delivery,) = await claim(db, "a")
    async with db.transaction() as session:
        assert await deliveries.finish_delivery(session, delivery, owner="b", now=NOW) is None
    assert (await row(db, delivery_id)).status is DeliveryStatus.PENDING
    async with db.transaction() as session:
        assert await deliveries.finish_delivery(session, delivery, owner="a", now=NOW) is DeliveryStatus.DONE
    done = await row(db, delivery_id)
    assert (done.status, done.finished_at, done.claimed_by, done.last_error) == (DeliveryStatus.DONE, NOW, None, None)
    assert await claim(db, "c", now=NOW + timedelta(days=1)) == []  # done is never processed again


async def test_a_failure_is_retried_after_its_back_off(db: Database) -> None:
    delivery_id = await store(db)
    (delivery,) = await claim(db, "a")
    async with db.transaction() as session:
        status = await deliveries.finish_delivery(session, delivery, owner="a", now=NOW, error="RecallUnavailable")
    assert status is DeliveryStatus.PENDING
    failed = await row(db, delivery_id)
    assert (failed.due_at, failed.last_error, failed.claimed_by) == (
        NOW + timedelta(seconds=30),
        "RecallUnavailable",
        None,
    )
    assert await claim(db, "b", now=NOW + timedelta(seconds=29)) == []
    (again,) = await claim(db, "b", now=NOW + timedelta(seconds=30))
    assert again.attempts == 2


async def test_abandoned_after_the_last_attempt_and_never_claimed_again(db: Database) -> None:
    delivery_id = await store(db)
    now = NOW
    for attempt in range(1, deliveries.MAX_ATTEMPTS + 1):
        (delivery,) = await claim(db, "a", now=now)
        assert delivery.attempts == attempt
        async with db.transaction() as session:
            status = await deliveries.finish_delivery(session, delivery, owner="a", now=now, error="Boom" * 100)
        expected = DeliveryStatus.ABANDONED if attempt == deliveries.MAX_ATTEMPTS else DeliveryStatus.PENDING
        assert status is expected
        now += timedelta(hours=2)
    abandoned = await row(db, delivery_id)
    assert abandoned.status is DeliveryStatus.ABANDONED
    assert abandoned.finished_at == now - timedelta(hours=2)
    assert abandoned.last_error == ("Boom" * 100)[:200]
    assert await claim(db, "a", now=now + timedelta(days=1)) == []


@pytest.mark.parametrize("status", [DeliveryStatus.DONE, DeliveryStatus.ABANDONED])
async def test_finished_deliveries_are_cleaned_up_after_a_while(db: Database, status: DeliveryStatus) -> None:
    old, recent, pending = await store(db, "old"), await store(db, "recent"), await store(db, "pending")
    async with db.transaction() as session:
        for delivery_id, finished in ((old, NOW - timedelta(days=8)), (recent, NOW - timedelta(days=1))):
            delivery = await session.get(WebhookDelivery, delivery_id)
            delivery.status, delivery.finished_at = status, finished
        (await session.get(WebhookDelivery, pending)).received_at = NOW - timedelta(days=30)
    async with db.transaction() as session:
        assert await deliveries.delete_finished_deliveries(session, before=NOW - timedelta(days=7)) == 1
    async with db.transaction() as session:
        left = {d.message_id for d in await session.scalars(select(WebhookDelivery))}
    assert left == {"recent", "pending"}


async def test_only_finished_deliveries_older_than_the_cut_are_deleted(db: Database) -> None:
    cut = NOW + timedelta(days=7)
    old_done, at_cut, pending = await store(db, "msg_old"), await store(db, "msg_cut"), await store(db, "msg_pending")
    async with db.transaction() as session:
        for delivery_id, finished in ((old_done, NOW), (at_cut, cut)):
            delivery = await session.get(WebhookDelivery, delivery_id)
            assert delivery is not None
            delivery.status, delivery.finished_at = DeliveryStatus.DONE, finished
    async with db.transaction() as session:
        assert await deliveries.delete_finished_deliveries(session, before=cut) == 1
        assert await deliveries.delete_finished_deliveries(session, before=cut) == 0
    async with db.transaction() as session:
        left = set(await session.scalars(select(WebhookDelivery.id)))
    assert left == {at_cut, pending}  # finished exactly at the cut is kept; unfinished never goes


async def test_claims_are_batched_and_a_retry_keeps_the_error_short(db: Database) -> None:
    ids = [await store(db, f"msg_{i}") for i in range(3)]
    async with db.transaction() as session:
        first = await deliveries.claim_deliveries(session, owner="a", lease=LEASE, now=NOW, limit=2)
    assert [d.id for d in first] == ids[:2]
    async with db.transaction() as session:
        await deliveries.finish_delivery(session, first[0], owner="a", now=NOW, error="Boom" * 100)
    retried = await row(db, ids[0])
    assert (retried.status, retried.last_error) == (DeliveryStatus.PENDING, ("Boom" * 100)[:200])


async def test_a_claim_takes_the_oldest_due_deliveries_first(db: Database) -> None:
    """Oldest (stored first) first, whatever their due times; finished ones and ones not due yet never fill a batch."""
    done, later, *due = [await store(db, f"msg_{i}") for i in range(5)]
    async with db.transaction() as session:
        for delivery_id, status, due_at in (
            (done, DeliveryStatus.DONE, NOW - timedelta(hours=1)),
            (later, DeliveryStatus.PENDING, NOW + timedelta(minutes=5)),
            # Retried ones come due in the opposite order to the one they were stored in.
            *((delivery_id, DeliveryStatus.PENDING, NOW - timedelta(minutes=n)) for n, delivery_id in enumerate(due)),
        ):
            delivery = await session.get(WebhookDelivery, delivery_id)
            assert delivery is not None
            delivery.status, delivery.due_at = status, due_at
    async with db.transaction() as session:
        first = await deliveries.claim_deliveries(session, owner="a", lease=LEASE, now=NOW, limit=2)
    assert [d.id for d in first] == due[:2]


async def test_a_delivery_another_process_holds_does_not_fill_the_batch(db: Database) -> None:
    held, free = await store(db, "msg_held"), await store(db, "msg_free")
    async with db.transaction() as session:
        assert [d.id for d in await deliveries.claim_deliveries(session, owner="a", lease=LEASE, now=NOW, limit=1)] == [
            held
        ]
    async with db.transaction() as session:
        taken = await deliveries.claim_deliveries(session, owner="b", lease=LEASE, now=NOW, limit=1)
    assert [d.id for d in taken] == [free]


async def test_a_delivery_finished_between_choosing_and_claiming_is_not_claimed(db: Database) -> None:
    """PostgreSQL re-checks the claim's condition on a row another process changed meanwhile: a delivery finished
    after this claim chose it is not claimed again. (SQLite runs one writer at a time, so it cannot happen there.)"""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a race between two writers needs PostgreSQL")
    import asyncio
    import threading

    import asyncpg

    finished, due = await store(db, "msg_finished"), await store(db, "msg_due")
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)

    async def finish_elsewhere() -> None:
        other = await asyncpg.connect(url)
        try:
            await other.execute(
                "UPDATE webhook_deliveries SET status = 'done', finished_at = now() WHERE id = $1", finished
            )
        finally:
            await other.close()

    def before_claiming(conn, cursor, statement: str, *args: object) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("UPDATE WEBHOOK_DELIVERIES") and not raced:
            raced.append(statement)
            racer = threading.Thread(target=lambda: asyncio.run(finish_elsewhere()))
            racer.start()
            racer.join(timeout=10)

    raced: list[str] = []
    event.listen(db.engine.sync_engine, "before_cursor_execute", before_claiming)
    try:
        async with db.transaction() as session:
            claimed = await deliveries.claim_deliveries(session, owner="a", lease=LEASE, now=NOW, limit=2)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", before_claiming)
    assert raced and [d.id for d in claimed] == [due]
    assert (await row(db, finished)).status is DeliveryStatus.DONE
