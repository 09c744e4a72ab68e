"""The delivery processor against a real database: webhooks that keep coming never starve the listing they ask
for, and every stored delivery is processed (in batches)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime

from sqlalchemy import func, select

from slackbot.services.webhook_processor import MAX_GATHER, DeliveryProcessor
from storage import deliveries
from storage.db import Database
from storage.lifecycle import DeliveryStatus, SyncStatus
from storage.models import CalendarSync, WebhookDelivery
from tests.storage.conftest import add_member

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
