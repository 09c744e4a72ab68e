"""The delivery processor against a real database: webhooks that keep coming never starve the listing they ask
for, and every stored delivery is processed (in batches)."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from slackbot.services.calendar_sync import CLOCK_MARGIN
from slackbot.services.webhook_processor import BATCH_SIZE, MAX_GATHER, DeliveryProcessor
from storage import deliveries, leases
from storage.db import Database
from storage.lifecycle import DeliveryStatus, SyncStatus
from storage.models import CalendarConnection, CalendarSync, WebhookDelivery
from tests.storage.conftest import NOW, add_member
from tests.twins.contracts import recall_webhook_schemas

# Longer than two gatherings: a processor that waited for the stream to end would list only after it.
STREAM_SECONDS = MAX_GATHER.total_seconds() * 2 + 1.0
EVERY = 0.02


class RecordingSyncer:
    """Stands in for the calendar syncer: notes when a listing starts (the processor's side is what is tested)."""

    def __init__(self) -> None:
        self.started: list[float] = []

    async def run_pending(self) -> None:
        self.started.append(asyncio.get_running_loop().time())


def sync_events(calendar_id: str) -> str:
    stamp = datetime.now(UTC).isoformat()
    return json.dumps({"event": "calendar.sync_events", "data": {"calendar_id": calendar_id, "last_updated_ts": stamp}})


async def test_a_steady_stream_of_webhooks_does_not_starve_its_listing(db: Database) -> None:
    await add_member(db, calendar="cal-1")
    syncer = RecordingSyncer()
    processor = DeliveryProcessor(db=db, status=None, syncer=syncer)  # type: ignore[arg-type]
    loop = asyncio.get_running_loop()
    running = asyncio.create_task(processor.run_forever())
    try:
        first = loop.time()
        sent = 0
        while loop.time() - first < STREAM_SECONDS:
            async with db.transaction() as session:
                await deliveries.store_delivery(
                    session,
                    message_id=f"msg_{sent}",
                    event_type="calendar.sync_events",
                    payload=sync_events("cal-1"),
                    now=datetime.now(UTC),
                )
            processor.kick()
            sent += 1
            await asyncio.sleep(EVERY)
        async with asyncio.timeout(30):
            await processor.wait_idle()
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running

    # The stream lasted longer than a gathering: a listing started while webhooks were still arriving.
    assert MAX_GATHER.total_seconds() * 2 < STREAM_SECONDS
    assert syncer.started and syncer.started[0] - first < STREAM_SECONDS
    async with db.transaction() as session:
        statuses = dict(
            (await session.execute(select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status))).all()
        )
        sync = await session.get(CalendarSync, "cal-1")
    assert statuses == {DeliveryStatus.DONE: sent}
    assert sync is not None and sync.status is SyncStatus.DUE and sync.requests >= 1


async def test_a_delivery_a_dead_process_left_is_picked_up_by_a_rescan_without_a_kick(db: Database) -> None:
    """Another process claimed it and died: once its lease runs out, the next rescan processes it."""
    await add_member(db, calendar="cal-1")
    await store(db, "left", sync_payload("cal-1", "2026-11-30T08:00:00Z"), received=datetime.now(UTC))
    dead_lease = timedelta(seconds=0.6)
    async with db.transaction() as session:
        claimed = await deliveries.claim_deliveries(
            session, owner="dead", lease=dead_lease, now=datetime.now(UTC), limit=10
        )
    assert [d.message_id for d in claimed] == ["left"]
    lease = timedelta(seconds=1.2)  # rescans every 0.5 s
    processor = DeliveryProcessor(db=db, status=None, syncer=RecordingSyncer(), lease=lease)  # type: ignore[arg-type]
    running = asyncio.create_task(processor.run_forever())  # never kicked
    try:
        # The dead lease ends, then a rescan comes within 0.5 s; a generous bound, still well below a lease * 4.
        async with asyncio.timeout(dead_lease.total_seconds() + 2.5):
            while (await delivery_row(db, "left")).status is not DeliveryStatus.DONE:
                await asyncio.sleep(0.05)
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
    due = await listing(db, "cal-1")
    assert due is not None and due.status is SyncStatus.DUE


def processor_at(db: Database, when: datetime, status: object = None) -> DeliveryProcessor:
    """A processor on ``db`` whose clock says ``when``, with a recording syncer (and ``status`` service)."""
    return DeliveryProcessor(db=db, status=status, syncer=RecordingSyncer(), clock=lambda: when)  # type: ignore[arg-type]


async def store(db: Database, message_id: str, payload: dict, *, received: datetime = NOW) -> None:
    async with db.transaction() as session:
        await deliveries.store_delivery(
            session,
            message_id=message_id,
            event_type=str(payload.get("event")),
            payload=json.dumps(payload),
            now=received,
        )


def sync_payload(calendar_id: object, last_updated_ts: str | None) -> dict:
    data: dict = {"calendar_id": calendar_id}
    if last_updated_ts is not None:
        data["last_updated_ts"] = last_updated_ts
    return {"event": "calendar.sync_events", "data": data}


async def store_backlog(db: Database, calendar_id: str, count: int) -> None:
    """``count`` sync webhooks for one calendar, stored at once (one transaction): all of them just arrived."""
    now = datetime.now(UTC)
    async with db.transaction() as session:
        for n in range(count):
            await deliveries.store_delivery(
                session,
                message_id=f"msg_{n}",
                event_type="calendar.sync_events",
                payload=json.dumps(sync_payload(calendar_id, now.isoformat())),
                now=now,
            )


async def listing(db: Database, calendar_id: str) -> CalendarSync | None:
    async with db.transaction() as session:
        return await session.get(CalendarSync, calendar_id)


async def test_a_batch_asks_each_known_calendar_for_a_listing_from_its_webhooks(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    connection_id = await add_member(db, calendar="cal-1")
    await add_member(db, user_id="U2", calendar="cal-2")
    async with db.transaction() as session:
        connection = await session.get(CalendarConnection, connection_id)
        assert connection is not None
        connected_at = connection.created_at
    # Unknown and malformed ones first: they are passed over, not the end of the batch.
    await store(db, "m1", sync_payload(7, "2026-11-30T08:00:00Z"))
    await store(db, "m2", sync_payload("cal-unknown", "2026-11-30T08:00:00Z"))
    await store(db, "m3", sync_payload("cal-1", "2026-11-30T08:30:00Z"))
    await store(db, "m4", sync_payload("cal-1", "2026-11-30T08:10:00Z"))
    await store(db, "m5", sync_payload("cal-2", "2099-01-01T00:00:00Z"))  # from the future: capped at now
    processor = processor_at(db, NOW)
    with caplog.at_level(logging.DEBUG, logger="slackbot.services.webhook_processor"):
        assert await processor._process_batch() == 5

    first = await listing(db, "cal-1")
    assert first is not None and first.status is SyncStatus.DUE and first.requests == 2
    # Never listed: from the connection's creation (less the clock margin); then from no later than each webhook.
    assert first.cursor == connected_at - CLOCK_MARGIN
    assert (first.requested_from, first.requested_until) == (
        datetime(2026, 11, 30, 8, 10, tzinfo=UTC),
        datetime(2026, 11, 30, 8, 30, tzinfo=UTC),
    )
    second = await listing(db, "cal-2")
    assert second is not None and second.requested_until == NOW  # a first listing needs no lower bound
    assert await listing(db, "cal-unknown") is None
    assert [r.getMessage() for r in caplog.records].count("webhooks.unknown_calendar") == 1
    assert any(getattr(r, "event", None) == "calendar.sync_events" for r in caplog.records)


async def test_a_batch_reads_the_listings_it_asks_for_in_one_query(db: Database) -> None:
    for user_id, calendar_id in (("U1", "cal-1"), ("U2", "cal-2"), ("U3", "cal-3")):
        await add_member(db, user_id=user_id, calendar=calendar_id)
        await store(db, f"first-{calendar_id}", sync_payload(calendar_id, "2026-11-30T08:00:00Z"))
    processor = processor_at(db, NOW)
    assert await processor._process_batch() == 3  # each calendar now has its listing row
    for n, calendar_id in enumerate(("cal-1", "cal-2", "cal-3", "cal-1")):
        await store(db, f"again-{n}", sync_payload(calendar_id, "2026-11-30T09:00:00Z"))
    reads: list[str] = []

    def note_reads(conn, cursor, statement: str, *args: object) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT") and "FROM calendar_syncs" in statement:
            reads.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", note_reads)
    try:
        assert await processor._process_batch() == 4
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", note_reads)
    assert len(reads) == 1, [
        r.split("WHERE")[-1] for r in reads
    ]  # one query for the lot, not one per webhook or calendar
    for calendar_id in ("cal-1", "cal-2", "cal-3"):
        again = await listing(db, calendar_id)
        assert again is not None and again.requested_until == datetime(2026, 11, 30, 9, tzinfo=UTC)


async def test_a_calendar_never_listed_gets_one_listing_row_however_many_webhooks_ask(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """Two webhooks for a calendar with no listing row yet, in one batch: the first makes the row, the second
    counts on it (a second row would fail the batch's transaction on its key)."""
    await add_member(db, calendar="cal-1")
    await store(db, "first", sync_payload("cal-1", "2026-11-30T08:00:00Z"))
    await store(db, "second", sync_payload("cal-1", "2026-11-30T09:00:00Z"))
    processor = processor_at(db, NOW)
    with caplog.at_level(logging.DEBUG):
        assert await processor._process_batch() == 2
    assert "webhooks.batch_failed" not in [r.getMessage() for r in caplog.records]  # done together, not one by one
    for delivery_id in ("first", "second"):
        assert (await delivery_row(db, delivery_id)).status is DeliveryStatus.DONE
    due = await listing(db, "cal-1")
    assert due is not None
    assert (due.status, due.requests, due.requested_until) == (
        SyncStatus.DUE,
        2,
        datetime(2026, 11, 30, 9, tzinfo=UTC),
    )


async def test_a_batch_that_fails_together_is_done_one_by_one_so_a_bad_one_fails_alone(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    await add_member(db, calendar="cal-1")
    await store(db, "good", sync_payload("cal-1", "2026-11-30T08:00:00Z"))
    await store(db, "bad", sync_payload("cal-1", "not a time"))  # the intake never stores one; a test can
    processor = processor_at(db, NOW)
    with caplog.at_level(logging.WARNING, logger="slackbot.services.webhook_processor"):
        assert await processor._process_batch() == 2
    failed = [r for r in caplog.records if r.getMessage() == "webhooks.batch_failed"]
    assert [getattr(r, "count", None) for r in failed] == [2]
    good, bad = await delivery_row(db, "good"), await delivery_row(db, "bad")
    assert (good.status, good.finished_at) == (DeliveryStatus.DONE, NOW)
    assert bad.status is DeliveryStatus.PENDING and bad.last_error and bad.finished_at is None
    due = await listing(db, "cal-1")
    assert due is not None and due.requests == 1  # the good one's listing, asked for once


async def test_a_batch_done_together_is_finished_at_the_processors_time(db: Database) -> None:
    await add_member(db, calendar="cal-1")
    for n in range(3):
        await store(db, f"m{n}", sync_payload("cal-1", "2026-11-30T08:00:00Z"))
    processor = processor_at(db, NOW)
    assert await processor._process_batch() == 3
    for n in range(3):
        row = await delivery_row(db, f"m{n}")
        assert (row.status, row.finished_at) == (DeliveryStatus.DONE, NOW)  # so the weekly cleanup finds it


async def test_a_webhook_the_last_listing_covered_asks_for_nothing(db: Database) -> None:
    """Received before the last listing started, announcing changes before its cursor: nothing new to list."""
    await add_member(db, calendar="cal-1")
    async with db.transaction() as session:
        session.add(
            CalendarSync(
                recall_calendar_id="cal-1",
                status=SyncStatus.IDLE,
                cursor=NOW - timedelta(seconds=10),
                listing_started_at=NOW - timedelta(seconds=10),
                requests=1,
                attempts=0,
            )
        )
    await store(db, "old", sync_payload("cal-1", "2026-11-30T08:00:00Z"), received=NOW - timedelta(seconds=15))
    processor = processor_at(db, NOW)
    assert await processor._process_batch() == 1
    covered = await listing(db, "cal-1")
    assert covered is not None and (covered.status, covered.requests) == (SyncStatus.IDLE, 1)
    # A change exactly at the cursor, announced before that listing started, was in it too.
    at_cursor = (NOW - timedelta(seconds=10)).isoformat()
    await store(db, "at-cursor", sync_payload("cal-1", at_cursor), received=NOW - timedelta(seconds=15))
    assert await processor._process_batch() == 1
    covered = await listing(db, "cal-1")
    assert covered is not None and (covered.status, covered.requests) == (SyncStatus.IDLE, 1)
    # The same announcement received after that listing started asks for another one.
    await store(db, "new", sync_payload("cal-1", "2026-11-30T08:00:00Z"), received=NOW - timedelta(seconds=5))
    assert await processor._process_batch() == 1
    again = await listing(db, "cal-1")
    assert again is not None and again.status is SyncStatus.DUE


async def test_cleanup_deletes_what_was_finished_a_week_ago(db: Database) -> None:
    await store(db, "old", sync_payload("cal-1", None))
    await store(db, "recent", sync_payload("cal-1", None))
    async with db.transaction() as session:
        for message_id, finished in (("old", NOW - timedelta(days=8)), ("recent", NOW - timedelta(days=6))):
            row = await session.scalar(select(WebhookDelivery).where(WebhookDelivery.message_id == message_id))
            assert row is not None
            row.status, row.finished_at = DeliveryStatus.DONE, finished
    processor = processor_at(db, NOW)
    assert await processor.cleanup() == 1
    async with db.transaction() as session:
        assert list(await session.scalars(select(WebhookDelivery.message_id))) == ["recent"]


class FlakyStatus:
    """Stands in for the calendar status service: fails the first ``failures`` calls."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[str] = []

    async def calendar_updated(self, recall_calendar_id: str) -> None:
        self.calls.append(recall_calendar_id)
        if len(self.calls) <= self.failures:
            raise RuntimeError("recall is down")


async def delivery_row(db: Database, message_id: str) -> WebhookDelivery:
    async with db.transaction() as session:
        row = await session.scalar(select(WebhookDelivery).where(WebhookDelivery.message_id == message_id))
        assert row is not None
        return row


async def test_a_calendar_update_is_handled_once_and_a_failure_retried_then_abandoned(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    clock = [NOW]
    status = FlakyStatus(failures=deliveries.MAX_ATTEMPTS)
    processor = DeliveryProcessor(db=db, status=status, syncer=RecordingSyncer(), clock=lambda: clock[0])  # type: ignore[arg-type]
    await store(db, "upd", {"event": "calendar.update", "data": {"calendar_id": "cal-9"}})
    await store(db, "odd", {"event": "calendar.update", "data": {"calendar_id": 9}})  # no calendar: nothing to do

    with caplog.at_level(logging.WARNING, logger="slackbot.services.webhook_processor"):
        assert await processor._process_batch() == 2
    failed, odd = await delivery_row(db, "upd"), await delivery_row(db, "odd")
    assert (odd.status, odd.last_error) == (DeliveryStatus.DONE, None)
    assert (failed.status, failed.attempts, failed.last_error) == (DeliveryStatus.PENDING, 1, "RuntimeError")
    assert failed.due_at == NOW + deliveries.retry_delay(1) and failed.claimed_by is None
    assert [r.getMessage() for r in caplog.records] == ["webhooks.delivery_failed"]
    assert getattr(caplog.records[0], "delivery_id", None) == failed.id

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="slackbot.services.webhook_processor"):
        for _ in range(deliveries.MAX_ATTEMPTS - 1):
            clock[0] = (await delivery_row(db, "upd")).due_at
            assert await processor._process_batch() == 1
    abandoned = await delivery_row(db, "upd")
    assert (abandoned.status, abandoned.attempts) == (DeliveryStatus.ABANDONED, deliveries.MAX_ATTEMPTS)
    last = caplog.records[-1]
    assert (last.getMessage(), last.levelno) == ("webhooks.delivery_abandoned", logging.ERROR)
    assert (getattr(last, "delivery_id", None), getattr(last, "error", None)) == (abandoned.id, "RuntimeError")
    assert status.calls == ["cal-9"] * deliveries.MAX_ATTEMPTS


async def test_a_sync_webhook_handled_alone_still_asks_for_its_listing(db: Database) -> None:
    """When a batch's transaction fails, each webhook is handled alone: the listing is asked for all the same."""
    await add_member(db, calendar="cal-1")
    processor = processor_at(db, NOW, FlakyStatus(0))
    await store(db, "alone", sync_payload("cal-1", "2026-11-30T08:00:00Z"))
    async with db.transaction() as session:
        (delivery,) = await deliveries.claim_deliveries(
            session, owner=leases.PROCESS_ID, lease=timedelta(minutes=1), now=NOW, limit=1
        )
    await processor._process(delivery)
    asked = await listing(db, "cal-1")
    assert asked is not None and asked.status is SyncStatus.DUE
    assert (await delivery_row(db, "alone")).status is DeliveryStatus.DONE


async def test_a_batch_in_hand_when_the_gathering_ends_does_not_hold_the_listing(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="slackbot.services.webhook_processor")
    await add_member(db, calendar="cal-1")
    syncer = RecordingSyncer()
    processor = DeliveryProcessor(db=db, status=None, syncer=syncer)  # type: ignore[arg-type]
    real = processor._process_batch
    held = asyncio.Event()
    calls = 0

    async def second_batch_is_slow() -> int:
        nonlocal calls
        calls += 1
        if calls == 2:
            await held.wait()  # longer than what is left of the gathering
        handled = await real()
        if calls == 1:
            await asyncio.sleep(0.9)  # a slow first batch: most of the gathering is gone when the second starts
        return handled

    processor._process_batch = second_batch_is_slow  # type: ignore[method-assign]
    now = datetime.now(UTC)
    await store_backlog(db, "cal-1", BATCH_SIZE + 1)  # a full batch and one more: the gathering goes on
    running = asyncio.create_task(processor.run_forever())
    processor.kick()
    try:
        # The promise MAX_GATHER keeps: a burst's listing starts within 2 s of its first webhook, however long the
        # backlog (the gathering ends at 1.3 s).
        first = asyncio.get_running_loop().time() - (datetime.now(UTC) - now).total_seconds()
        async with asyncio.timeout(10):
            while not syncer.started:
                await asyncio.sleep(0.02)
        assert syncer.started[0] - first < 2.0
        assert calls == 2 and not held.is_set()  # the listing started with the second batch still in hand
        held.set()
        async with asyncio.timeout(30):
            await processor.wait_idle()
    finally:
        held.set()
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
    async with db.transaction() as session:
        done = await session.scalar(
            select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.status == DeliveryStatus.DONE)
        )
    assert done == BATCH_SIZE + 1
    assert len(syncer.started) == 2  # the batch held up got a listing of its own after the first, and no more
    assert "webhooks.processor_failed" not in [r.getMessage() for r in caplog.records]


def noting_processor(
    db: Database, after_batch: Callable[[DeliveryProcessor, list[int]], Awaitable[None]] | None = None
) -> tuple[DeliveryProcessor, list[int], list[int]]:
    """A processor that notes the batches it handles and, for each listing, how many were handled when it started;
    ``after_batch`` runs after each batch (to store another webhook meanwhile, say)."""
    batches: list[int] = []
    listed_after: list[int] = []

    class NotingSyncer(RecordingSyncer):
        async def run_pending(self) -> None:
            listed_after.append(len(batches))
            await super().run_pending()

    processor = DeliveryProcessor(db=db, status=None, syncer=NotingSyncer())  # type: ignore[arg-type]
    real = processor._process_batch

    async def noting() -> int:
        handled = await real()
        if handled:
            batches.append(handled)
        if after_batch is not None:
            await after_batch(processor, batches)
        return handled

    processor._process_batch = noting  # type: ignore[method-assign]
    return processor, batches, listed_after


async def batches_before_each_listing(db: Database, first_received: datetime) -> tuple[list[int], list[int]]:
    """A sync webhook for cal-1 received at ``first_received``; another, for cal-2, arrives while it is handled."""
    await add_member(db, calendar="cal-1")
    await add_member(db, user_id="U2", calendar="cal-2")
    await store(db, "first", sync_payload("cal-1", first_received.isoformat()), received=first_received)

    async def another_arrives(processor: DeliveryProcessor, batches: list[int]) -> None:
        if batches == [1]:
            fresh = datetime.now(UTC)
            await store(db, "second", sync_payload("cal-2", fresh.isoformat()), received=fresh)
            processor.kick()

    processor, batches, listed_after = noting_processor(db, another_arrives)
    processor.kick()
    async with asyncio.timeout(30):
        await processor.drain()
    return batches, listed_after


async def test_the_gathering_counts_from_the_oldest_webhooks_arrival_not_from_when_it_is_handled(db: Database) -> None:
    """A webhook that waited longer than a gathering (a backlog, a restart) gets its listing at once: one that
    arrives while it is handled goes to the next listing, not into this one."""
    batches, listed_after = await batches_before_each_listing(db, datetime.now(UTC) - MAX_GATHER * 3)
    assert batches == [1, 1]
    assert listed_after[0] == 1  # the first listing did not wait to gather the fresh one


async def test_a_webhook_arriving_within_the_debounce_shares_the_listing(db: Database) -> None:
    """Webhooks that arrive together (one per calendar) share one listing: one stored while the first is handled
    is gathered into it, however quickly the first batch was done."""
    batches, listed_after = await batches_before_each_listing(db, datetime.now(UTC))
    assert batches == [1, 1]
    assert listed_after == [2]  # one listing, after both


async def test_a_backlog_of_more_than_a_batch_shares_one_listing(db: Database) -> None:
    """Webhooks that waited together (a restart, a burst) are handled a batch at a time and listed once."""
    await add_member(db, calendar="cal-1")
    await store_backlog(db, "cal-1", BATCH_SIZE + 1)  # a full batch and one more: the gathering goes on
    processor, batches, listed_after = noting_processor(db)
    processor.kick()
    async with asyncio.timeout(30):
        await processor.drain()
    assert batches == [BATCH_SIZE, 1]
    assert listed_after == [2]  # one listing, after the whole backlog


async def test_the_debounce_gathers_a_webhook_arriving_just_after_a_batch_but_never_past_the_gathering(
    db: Database,
) -> None:
    """With a one-second debounce: a webhook stored 0.1 s after the first batch joins its listing; when the
    gathering has only 0.2 s left, the listing starts at its end, before a webhook stored 0.6 s later."""
    debounce = timedelta(seconds=1)
    for user_id, calendar_id in (("U1", "cal-1"), ("U2", "cal-2"), ("U3", "cal-3"), ("U4", "cal-4")):
        await add_member(db, user_id=user_id, calendar=calendar_id)

    async def run(first_waited: timedelta, later: float, first: str, second: str) -> list[str]:
        events: list[str] = []

        class NotingSyncer(RecordingSyncer):
            async def run_pending(self) -> None:
                events.append("listed")
                await super().run_pending()

        processor = DeliveryProcessor(db=db, status=None, syncer=NotingSyncer(), debounce=debounce)  # type: ignore[arg-type]
        real = processor._process_batch
        pending: list[asyncio.Task[None]] = []

        async def arrive() -> None:
            await asyncio.sleep(later)
            now = datetime.now(UTC)
            await store(db, second, sync_payload(second.split(":")[0], now.isoformat()), received=now)
            events.append("stored")
            processor.kick()

        async def handled_then_another_arrives() -> int:
            handled = await real()
            if handled:
                events.append("handled")
            if not pending:
                pending.append(asyncio.create_task(arrive()))
            return handled

        processor._process_batch = handled_then_another_arrives  # type: ignore[method-assign]
        arrived = datetime.now(UTC) - first_waited
        await store(db, first, sync_payload(first.split(":")[0], arrived.isoformat()), received=arrived)
        processor.kick()
        async with asyncio.timeout(30):
            await processor.drain()
            await asyncio.gather(*pending)
            await processor.drain()
        return events

    gathered = await run(timedelta(0), 0.1, "cal-1:a", "cal-2:b")
    assert gathered[: gathered.index("listed")] == ["handled", "stored", "handled"]
    ended = await run(MAX_GATHER - timedelta(seconds=0.2), 0.6, "cal-3:c", "cal-4:d")
    assert ended[:3] == ["handled", "listed", "stored"]


async def test_a_drain_without_any_webhook_still_runs_the_listings_due(db: Database) -> None:
    """A listing may be due without a delivery (the catch-up job asked for it, then kicked): a drain lists once."""
    syncer = RecordingSyncer()
    processor = DeliveryProcessor(db=db, status=None, syncer=syncer)  # type: ignore[arg-type]
    processor.kick()
    async with asyncio.timeout(10):
        await processor.drain()
    assert len(syncer.started) == 1


class RecordingBots:
    """Stands in for the bot webhook service: notes what it was given."""

    def __init__(self) -> None:
        self.applied: list[object] = []

    async def apply(self, event: object) -> list[str]:
        self.applied.append(event)
        return []


async def test_a_recording_made_without_a_bot_is_done_without_acting(db: Database) -> None:
    """The Desktop SDK's recordings have no bot (`data.bot` is null): nothing of ours to act on, and no failure."""
    bots = RecordingBots()
    payload = {"event": "recording.done", "data": {"bot": None, "recording": {"id": "rec-1"}, "data": {"code": "done"}}}
    await store(db, "desktop", payload)
    processor = DeliveryProcessor(db=db, status=None, syncer=RecordingSyncer(), bots=bots, clock=lambda: NOW)  # type: ignore[arg-type]
    assert await processor._process_batch() == 1
    row = await delivery_row(db, "desktop")
    assert (row.status, row.last_error, bots.applied) == (DeliveryStatus.DONE, None, [])


class TouchingBots(RecordingBots):
    """Every bot webhook changes meeting ``evt-1``."""

    async def apply(self, event: object) -> list[str]:
        await super().apply(event)
        return ["evt-1"]


class FailingFirstBots(RecordingBots):
    """Fails the first bot webhook it is given; the others change meeting ``evt-<bot id>``."""

    async def apply(self, event: object) -> list[str]:
        self.applied.append(event)
        if len(self.applied) == 1:
            raise RuntimeError("recall is down")
        return [f"evt-{getattr(event, 'bot_id', '')}"]


def bot_status(bot_id: str) -> dict:
    """Recall's own example of a `bot.joining_call` webhook (webhooks.json), for this bot."""
    joining = recall_webhook_schemas()["bot.joining_call"]
    payload = copy.deepcopy(joining.examples[0])
    payload["data"]["bot"]["id"] = bot_id
    joining.validate(payload)
    return payload


async def test_a_failed_bot_webhook_does_not_stop_the_rest_of_its_batch(db: Database) -> None:
    bots = FailingFirstBots()

    async def follow(event_ids: list[str]) -> None:  # acted on later, by `drain`; only what is noted matters here
        return None

    for bot_id in ("bot-1", "bot-2"):
        await store(db, bot_id, bot_status(bot_id))
    processor = DeliveryProcessor(
        db=db,
        status=None,
        syncer=RecordingSyncer(),
        bots=bots,
        follow=follow,
        clock=lambda: NOW,  # type: ignore[arg-type]
    )
    assert await processor._process_batch() == 2
    failed, done = await delivery_row(db, "bot-1"), await delivery_row(db, "bot-2")
    assert (failed.status, failed.last_error, done.status) == (
        DeliveryStatus.PENDING,
        "RuntimeError",
        DeliveryStatus.DONE,
    )
    assert list(processor._touched) == ["evt-bot-2"]  # the meeting the second one changed is acted on


class SlowBots(RecordingBots):
    """Takes ``seconds`` over each bot webhook; meanwhile another process tries to take the batch over."""

    def __init__(self, db: Database, seconds: float) -> None:
        super().__init__()
        self.db, self.seconds = db, seconds
        self.taken_over: list[WebhookDelivery] = []

    async def apply(self, event: object) -> list[str]:
        await asyncio.sleep(self.seconds)
        async with self.db.transaction() as session:
            self.taken_over = await deliveries.claim_deliveries(
                session, owner="other", lease=timedelta(minutes=1), now=datetime.now(UTC), limit=10
            )
        return []


class SlowSyncer(RecordingSyncer):
    """A listing that takes a while; notes when it ends."""

    def __init__(self) -> None:
        super().__init__()
        self.ended = 0

    async def run_pending(self) -> None:
        await super().run_pending()
        await asyncio.sleep(0.3)
        self.ended += 1


async def test_a_drain_ends_only_after_its_listing_and_follow_ups(db: Database) -> None:
    """`drain` returns when everything it started is done: the listing a webhook asked for, and acting on the
    meetings a bot webhook changed (not at the next rescan, up to a quarter of a lease later)."""
    await add_member(db, calendar="cal-1")
    await store(db, "sync", sync_payload("cal-1", datetime.now(UTC).isoformat()), received=datetime.now(UTC))
    await store(db, "status", bot_status("bot-1"), received=datetime.now(UTC))
    followed: list[list[str]] = []

    async def follow(event_ids: list[str]) -> None:
        followed.append(event_ids)

    syncer = SlowSyncer()
    processor = DeliveryProcessor(db=db, status=None, syncer=syncer, bots=TouchingBots(), follow=follow)  # type: ignore[arg-type]
    processor.kick()
    async with asyncio.timeout(30):
        await processor.drain()
    assert syncer.ended == 1 and followed == [["evt-1"]]
    assert processor._idle.is_set()


async def test_shutting_down_cancels_a_running_listing_and_is_not_idle(db: Database) -> None:
    """Cancelled mid-listing (the server stops): the listing is cancelled too (its lease lets another process take
    it over), and the processor does not claim to be idle with that work undone."""
    await add_member(db, calendar="cal-1")
    await store(db, "sync", sync_payload("cal-1", datetime.now(UTC).isoformat()), received=datetime.now(UTC))
    started = asyncio.Event()

    class EndlessSyncer(RecordingSyncer):
        async def run_pending(self) -> None:
            started.set()
            await asyncio.Event().wait()

    processor = DeliveryProcessor(db=db, status=None, syncer=EndlessSyncer())  # type: ignore[arg-type]
    processor.kick()
    draining = asyncio.create_task(processor.drain())
    async with asyncio.timeout(10):
        await started.wait()
    listing_task = processor._listing
    assert listing_task is not None
    draining.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await draining
    await asyncio.wait({listing_task}, timeout=2)  # never cancels it itself
    assert listing_task.cancelled()
    assert not processor._idle.is_set()


async def test_shutting_down_while_the_gathering_waits_on_a_batch_cancels_that_batch(db: Database) -> None:
    """A backlog keeps the gathering going; the server stops while it waits on the next batch: that batch is
    cancelled too, not left running on its own."""
    await add_member(db, calendar="cal-1")
    await store_backlog(db, "cal-1", BATCH_SIZE + 1)  # a full batch and one more: the gathering goes on
    processor = DeliveryProcessor(db=db, status=None, syncer=RecordingSyncer())  # type: ignore[arg-type]
    real = processor._process_batch
    second, cancelled = asyncio.Event(), asyncio.Event()
    calls = 0

    async def second_waits() -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            return await real()
        second.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return 0

    processor._process_batch = second_waits  # type: ignore[method-assign]
    processor.kick()
    draining = asyncio.create_task(processor.drain())
    async with asyncio.timeout(10):
        await second.wait()
    await asyncio.sleep(0.05)  # the gathering (1.3 s) is waiting on it
    draining.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await draining
    await asyncio.wait({asyncio.ensure_future(cancelled.wait())}, timeout=2)
    assert cancelled.is_set()


async def test_without_a_follow_up_bot_webhooks_are_handled_and_the_drain_ends(db: Database) -> None:
    await store(db, "status", bot_status("bot-1"), received=datetime.now(UTC))

    bots = TouchingBots()
    processor = DeliveryProcessor(db=db, status=None, syncer=RecordingSyncer(), bots=bots)  # type: ignore[arg-type]
    processor.kick()
    async with asyncio.timeout(10):
        await processor.drain()
    assert len(bots.applied) == 1 and processor._idle.is_set()


async def test_a_batch_that_outlasts_its_lease_keeps_it(db: Database) -> None:
    """The lease on a batch's deliveries is renewed while it is handled, so no other process takes them over."""
    lease = timedelta(seconds=1.2)
    bots = SlowBots(db, seconds=lease.total_seconds() * 2)
    await store(db, "slow", bot_status("bot-1"))
    processor = DeliveryProcessor(db=db, status=None, syncer=RecordingSyncer(), bots=bots, lease=lease)  # type: ignore[arg-type]
    assert await processor._process_batch() == 1
    assert bots.taken_over == []
    assert (await delivery_row(db, "slow")).status is DeliveryStatus.DONE
