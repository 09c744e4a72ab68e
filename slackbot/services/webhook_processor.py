"""Processes stored webhook deliveries, then runs the coalesced calendar listings they asked for."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from recall.models import parse_timestamp
from slackbot.services.calendar_status import CalendarStatusService
from slackbot.services.calendar_sync import CLOCK_MARGIN, CalendarSyncer
from storage import connections, leases
from storage import deliveries as repo
from storage import syncs as syncs_repo
from storage.db import Database
from storage.lifecycle import DeliveryStatus
from storage.models import WebhookDelivery, utcnow

logger = logging.getLogger(__name__)

HANDLED_EVENTS = frozenset({"calendar.update", "calendar.sync_events"})
# Webhooks that arrive together (one per calendar) share one listing; wait this long for stragglers.
DEFAULT_DEBOUNCE = timedelta(milliseconds=300)
# ... but never for longer than this, so a steady stream of webhooks cannot starve the listings.
MAX_GATHER = timedelta(seconds=2)


class DeliveryProcessor:
    def __init__(
        self,
        *,
        db: Database,
        status: CalendarStatusService,
        syncer: CalendarSyncer,
        debounce: timedelta = DEFAULT_DEBOUNCE,
        lease: timedelta = leases.DEFAULT_LEASE,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._lease = lease
        # Work a dead process held is free again once its lease runs out; look for it this often.
        self._rescan = max(lease.total_seconds() / 4, 0.5)
        self._db = db
        self._status = status
        self._syncer = syncer
        self._clock = clock
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
        """Process everything stored and every listing it asked for, until nothing is left."""
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
        """Until every kicked delivery and the listings it asked for are done (wrap in asyncio.timeout)."""
        await self._idle.wait()

    async def _process_deliveries(self) -> int:
        handled = 0
        while True:
            async with self._db.transaction() as session:
                batch = await repo.claim_deliveries(
                    session, owner=leases.PROCESS_ID, lease=self._lease, now=self._clock()
                )
            if not batch:
                return handled
            async with leases.holding(self._db, WebhookDelivery, [d.id for d in batch], lease=self._lease):
                for delivery in batch:
                    await self._process(delivery)
                    handled += 1

    async def _process(self, delivery: WebhookDelivery) -> None:
        error: str | None = None
        try:
            await self._handle(delivery)
        except Exception as exc:
            logger.exception("webhooks.delivery_failed", extra={"delivery_id": delivery.id})
            error = type(exc).__name__
        async with self._db.transaction() as session:
            status = await repo.finish_delivery(
                session, delivery, owner=leases.PROCESS_ID, now=self._clock(), error=error
            )
        if status is DeliveryStatus.ABANDONED:
            logger.error("webhooks.delivery_abandoned", extra={"delivery_id": delivery.id, "error": error})

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
        if until is not None:
            # A `last_updated_ts` from the future (a skewed clock, a forged body) must never move a cursor past now.
            until = min(until, self._clock())
        async with self._db.transaction() as session:
            connection = await connections.find_connection_by_calendar(session, calendar_id)
            if connection is None:
                logger.info("webhooks.unknown_calendar", extra={"event": delivery.event_type})
                return
            # A calendar never listed: Recall made its events after we connected it, which bounds the listing.
            since = connection.created_at - CLOCK_MARGIN
            await syncs_repo.request_sync(
                session, recall_calendar_id=calendar_id, until=until, since=since, received_at=delivery.received_at
            )

    async def cleanup(self, *, keep: timedelta = timedelta(days=7)) -> int:
        async with self._db.transaction() as session:
            return await repo.delete_finished_deliveries(session, before=self._clock() - keep)
