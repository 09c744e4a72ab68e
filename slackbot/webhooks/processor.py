"""Processes stored webhook deliveries, then runs the coalesced calendar syncs they asked for."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import timedelta

from recall.models import parse_timestamp
from slackbot.meetings.sync import CalendarSyncer
from slackbot.services.calendar_status import CalendarStatusService
from slackbot.webhooks.leases import holding
from storage import deliveries as repo
from storage import repositories as connections_repo
from storage.db import Database
from storage.models import WebhookDelivery, utcnow

logger = logging.getLogger(__name__)

HANDLED_EVENTS = frozenset({"calendar.update", "calendar.sync_events"})
MAX_ATTEMPTS = 8
# Webhooks that arrive together (one per calendar) share one listing; wait this long for stragglers.
DEFAULT_DEBOUNCE = timedelta(milliseconds=300)
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
        try:
            while True:
                self._wake.clear()
                handled = await self._process_deliveries()
                if self._debounce and handled:
                    await asyncio.sleep(self._debounce)
                    if self._wake.is_set():
                        continue  # more webhooks arrived: gather them into the same listing
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
                batch = await repo.claim_deliveries(session, lease=self._lease)
            if not batch:
                return handled
            async with holding(self._db, model=WebhookDelivery, keys=[d.id for d in batch], lease=self._lease):
                handled += await self._process_batch(batch)

    async def _process_batch(self, batch: list[WebhookDelivery]) -> int:
        handled = 0
        for delivery in batch:
            error: str | None = None
            try:
                await self._handle(delivery)
            except Exception as exc:
                logger.exception("webhooks.delivery_failed", extra={"delivery_id": delivery.id})
                error = type(exc).__name__
                if delivery.attempts >= MAX_ATTEMPTS:
                    logger.error("webhooks.delivery_abandoned", extra={"delivery_id": delivery.id})
                    error = None
            async with self._db.transaction() as session:
                await repo.finish_delivery(session, delivery.id, error=error)
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
            if await connections_repo.find_connection_by_calendar(session, calendar_id) is None:
                logger.info("webhooks.unknown_calendar", extra={"event": delivery.event_type})
                return
            await repo.request_sync(session, recall_calendar_id=calendar_id, until=until)

    async def cleanup(self, *, keep: timedelta = timedelta(days=7)) -> int:
        async with self._db.transaction() as session:
            return await repo.delete_processed_deliveries(session, before=utcnow() - keep)
