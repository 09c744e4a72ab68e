"""Processes stored webhook deliveries, then runs the coalesced calendar syncs they asked for."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import timedelta

from recall.models import parse_timestamp
from slackbot.meetings.sync import CLOCK_MARGIN, CalendarSyncer
from slackbot.services.calendar_status import CalendarStatusService
from slackbot.webhooks.leases import PROCESS_ID, holding
from storage import deliveries as repo
from storage import repositories as connections_repo
from storage.db import Database
from storage.models import WebhookDelivery, utcnow

logger = logging.getLogger(__name__)

HANDLED_EVENTS = frozenset({"calendar.update", "calendar.sync_events"})
MAX_ATTEMPTS = 12  # with back-off from 30 s to an hour: about seven hours of trying
# Webhooks that arrive together (one per calendar) share one listing; wait this long for stragglers.
DEFAULT_DEBOUNCE = timedelta(milliseconds=300)
# ... but never for longer than this, so a steady stream of webhooks cannot starve the syncs.
MAX_GATHER = timedelta(seconds=2)
DEFAULT_LEASE = timedelta(seconds=60)


class DeliveryProcessor:
    def __init__(
        self,
        *,
        db: Database,
        status: CalendarStatusService,
        syncer: CalendarSyncer,
        debounce: timedelta = DEFAULT_DEBOUNCE,
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        self._lease = lease
        # Work a dead process held is free again once its lease runs out; look for it this often.
        self._rescan = max(lease.total_seconds() / 4, 0.5)
        self._db = db
        self._status = status
        self._syncer = syncer
        self._debounce = debounce.total_seconds()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()

    def kick(self) -> None:
        """A delivery was stored: process it soon."""
        self._idle.clear()
        self._wake.set()

    async def run_forever(self) -> None:
        """Process deliveries as they are kicked, and rescan now and then for ones another process left."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._rescan)
            try:
                await self.drain()
            except Exception:
                logger.exception("webhooks.processor_failed")
                await asyncio.sleep(1)

    async def drain(self) -> None:
        """Process everything stored and every sync it asked for, until nothing is left."""
        loop = asyncio.get_running_loop()
        try:
            gathering_since: float | None = None
            while True:
                self._wake.clear()
                handled = await self._process_deliveries()
                if self._debounce and handled:
                    gathering_since = gathering_since or loop.time()
                    await asyncio.sleep(self._debounce)
                    if self._wake.is_set() and loop.time() - gathering_since < MAX_GATHER.total_seconds():
                        continue  # more webhooks arrived: gather them into the same listing
                gathering_since = None
                report = await self._syncer.run_pending()
                if not handled and report is None and not self._wake.is_set():
                    return
        finally:
            if not self._wake.is_set():
                self._idle.set()

    async def wait_idle(self) -> None:
        """Until every kicked delivery and the syncs it asked for are done (wrap in asyncio.timeout)."""
        await self._idle.wait()

    async def _process_deliveries(self) -> int:
        handled = 0
        while True:
            async with self._db.transaction() as session:
                batch = await repo.claim_deliveries(session, owner=PROCESS_ID, lease=self._lease)
            if not batch:
                return handled
            async with holding(self._db, model=WebhookDelivery, keys=[d.id for d in batch], lease=self._lease):
                handled += await self._process_batch(batch)

    async def _process_batch(self, batch: list[WebhookDelivery]) -> int:
        handled = 0
        for delivery in batch:
            error: str | None = None
            abandon = False
            try:
                await self._handle(delivery)
            except Exception as exc:
                logger.exception("webhooks.delivery_failed", extra={"delivery_id": delivery.id})
                error = type(exc).__name__
                if delivery.attempts >= MAX_ATTEMPTS:
                    logger.error("webhooks.delivery_abandoned", extra={"delivery_id": delivery.id})
                    abandon = True
            async with self._db.transaction() as session:
                await repo.finish_delivery(session, delivery, owner=PROCESS_ID, error=error, abandon=abandon)
            handled += 1
        return handled

    async def _handle(self, delivery: WebhookDelivery) -> None:
        payload = json.loads(delivery.payload)
        data = payload.get("data") or {}
        calendar_id = data.get("calendar_id")
        if delivery.event_type not in HANDLED_EVENTS or not isinstance(calendar_id, str):
            return
        if delivery.event_type == "calendar.update":
            await self._status.calendar_updated(calendar_id)
            return
        until = parse_timestamp(data["last_updated_ts"]) if data.get("last_updated_ts") else None
        async with self._db.transaction() as session:
            connection = await connections_repo.find_connection_by_calendar(session, calendar_id)
            if connection is None:
                logger.info("webhooks.unknown_calendar", extra={"event": delivery.event_type})
                return
            # A calendar never listed: Recall made its events after we connected it, which bounds the listing.
            since = connection.created_at - CLOCK_MARGIN
            await repo.request_sync(session, recall_calendar_id=calendar_id, until=until, since=since)

    async def cleanup(self, *, keep: timedelta = timedelta(days=7)) -> int:
        async with self._db.transaction() as session:
            return await repo.delete_processed_deliveries(session, before=utcnow() - keep)
