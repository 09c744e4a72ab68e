"""Processes stored webhook deliveries, then runs the coalesced calendar listings they asked for."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from recall.bot_events import BOT_EVENT_TYPES, parse_bot_event
from recall.models import parse_timestamp
from slackbot.services.bot_webhooks import BotWebhooks
from slackbot.services.calendar_status import CalendarStatusService
from slackbot.services.calendar_sync import CLOCK_MARGIN, CalendarSyncer
from storage import connections, leases
from storage import deliveries as repo
from storage import syncs as syncs_repo
from storage.db import Database
from storage.lifecycle import DeliveryStatus
from storage.models import WebhookDelivery, utcnow

logger = logging.getLogger(__name__)

CALENDAR_EVENTS = frozenset({"calendar.update", "calendar.sync_events"})
HANDLED_EVENTS = CALENDAR_EVENTS | BOT_EVENT_TYPES
# Webhooks that arrive together (one per calendar) share one listing; wait this long for stragglers.
DEFAULT_DEBOUNCE = timedelta(milliseconds=300)
# ... but never for longer than this after the first of them arrived, so a steady stream of webhooks cannot starve
# the listings: a burst's listing starts within 2 s of its first webhook (the rest of the 2 s is for claiming the
# listing behind the intake's writes; a batch in hand when the time is up does not hold it). Shorter would split a
# burst that takes a second to arrive (200 calendars' webhooks) into two listings: a webhook stored after a listing
# started asks for another one from its own `last_updated_ts`, which lists the whole burst's events again.
MAX_GATHER = timedelta(seconds=1.3)
# Deliveries claimed (and, for listings, settled) at once.
BATCH_SIZE = 100
# Meetings a bot webhook changed are acted on once every stored delivery is handled and the intake has been quiet
# for FOLLOW_QUIET, so a burst of statuses (200 meetings starting at once) makes one update per message, not one per
# status. A steady trickle (fewer than FOLLOW_BUSY_AT webhooks a second) never pauses that long: its meetings go
# FOLLOW_SETTLE after their first change. Nothing waits longer than MAX_FOLLOW_WAIT, however long a burst lasts.
FOLLOW_QUIET = timedelta(seconds=1)
FOLLOW_SETTLE = timedelta(seconds=3)
FOLLOW_BUSY_AT = 30
MAX_FOLLOW_WAIT = timedelta(seconds=30)
# Rescans for work a dead process left never come more often than this.
MIN_RESCAN = timedelta(milliseconds=500)


def rescan_every(lease: timedelta) -> float:
    """Seconds between looks for work a dead process held: it is free again once its lease runs out, so a quarter
    of the lease after that at most (never more often than MIN_RESCAN)."""
    return max(lease.total_seconds() / 4, MIN_RESCAN.total_seconds())


def follow_due(
    *,
    now: float,
    first_touched: float,
    last_stored: float | None,
    drained: bool,
    busy: bool,
    quiet: float,
    settle: float,
    longest: float,
) -> float:
    """Seconds until the meetings bot webhooks changed are acted on (0: now). Times on one monotonic clock;
    ``drained``: no stored delivery is left to handle; ``busy``: the intake is in a burst."""
    give_up = first_touched + longest - now
    if give_up <= 0:
        return 0.0
    if not drained:
        return give_up
    calm = (last_stored + quiet - now) if last_stored is not None else 0.0
    settled = give_up if busy else first_touched + settle - now
    return max(0.0, min(calm, settled, give_up))


class DeliveryProcessor:
    def __init__(
        self,
        *,
        db: Database,
        status: CalendarStatusService,
        syncer: CalendarSyncer,
        bots: BotWebhooks | None = None,
        follow: Callable[[list[str]], Awaitable[object]] | None = None,
        debounce: timedelta = DEFAULT_DEBOUNCE,
        lease: timedelta = leases.DEFAULT_LEASE,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._lease = lease
        self._rescan = rescan_every(lease)
        self._db = db
        self._status = status
        self._syncer = syncer
        # Bot webhooks change meetings' messages: ``follow`` acts on those meetings, once for a batch.
        self._bots = bots
        self._follow = follow
        self._clock = clock
        self._debounce = debounce.total_seconds()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._listing: asyncio.Task[None] | None = None
        self._oldest_received: datetime | None = None
        # Meetings bot webhooks changed, not acted on yet; since when; and the task acting on the previous lot.
        self._touched: dict[str, None] = {}
        self._touched_since: float | None = None
        self._following: set[asyncio.Task[None]] = set()
        self._stored: deque[float] = deque(maxlen=FOLLOW_BUSY_AT)  # when the intake stored the last few webhooks

    def kick(self) -> None:
        """A delivery was stored: process it soon."""
        with contextlib.suppress(RuntimeError):  # no running loop: a caller outside the server
            self._stored.append(asyncio.get_running_loop().time())
        self._idle.clear()
        self._wake.set()

    async def run_forever(self) -> None:
        """Process deliveries as they are kicked, and rescan now and then for ones another process left."""
        while True:
            # `asyncio.timeout`, not `wait_for`: on Python 3.11 `wait_for` swallows a cancel that arrives as the
            # wake does, and shutting down would hang.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._rescan):
                    await self._wake.wait()
            try:
                await self.drain()
            except Exception:
                logger.exception("webhooks.processor_failed")
                await asyncio.sleep(1)

    async def drain(self) -> None:
        """Process everything stored and every listing it asked for, until nothing is left. Deliveries go a batch
        at a time and keep going while a listing runs beside them (a listing acts on meetings and may take
        minutes); webhooks that arrive together share one listing, which starts at most MAX_GATHER after the
        first of them however long the backlog is. Webhooks handled while a listing runs get the next one."""
        loop = asyncio.get_running_loop()
        gather = MAX_GATHER.total_seconds()
        batch: asyncio.Future[int] | None = None
        try:
            gathering_since: float | None = None
            listed = False  # every drain lists at least once: a listing may be due without a delivery (a rescan)
            while True:
                self._wake.clear()
                batch = asyncio.ensure_future(self._process_batch())
                if gathering_since is not None and not self._listing_running():
                    # The gathering ends on time even with a batch in hand: that batch's webhooks get the next
                    # listing if this one does not cover them.
                    left = gather - (loop.time() - gathering_since)
                    if left <= 0 or not (await asyncio.wait({batch}, timeout=left))[0]:
                        self._start_listing()
                        gathering_since, listed = None, True
                handled = await batch
                self._maybe_follow(drained=handled == 0)
                if handled and gathering_since is None:
                    # From the moment the oldest of them arrived, not from when we got to it.
                    waited = (self._clock() - self._oldest_received).total_seconds() if self._oldest_received else 0.0
                    gathering_since = loop.time() - min(max(waited, 0.0), gather)
                if handled and gathering_since is not None and loop.time() - gathering_since < gather:
                    if handled >= BATCH_SIZE:
                        continue  # a backlog: keep gathering it into the same listing
                    if self._debounce:
                        # Never past the end of the gathering.
                        await asyncio.sleep(min(self._debounce, gather - (loop.time() - gathering_since)))
                        if self._wake.is_set() and loop.time() - gathering_since < gather:
                            continue  # more webhooks arrived: gather them into the same listing
                if not self._listing_running() and (gathering_since is not None or not listed):
                    self._start_listing()
                    gathering_since, listed = None, True
                if handled:
                    continue  # on with the backlog while the listing runs
                if self._listing_running() or self._following_running():
                    await self._until_done_or_woken()
                    continue
                self._raise_if_listing_failed()
                if self._touched:
                    await self._until_follow_due_or_woken()
                    continue
                if not self._wake.is_set():
                    return
        except asyncio.CancelledError:
            if batch is not None:
                batch.cancel()
            if self._listing is not None:
                self._listing.cancel()  # shutting down: the listing's lease lets another process take it over
            for task in self._following:
                task.cancel()  # its meetings stay PENDING: the repair job acts on them
            raise
        finally:
            if (
                not self._wake.is_set()
                and not self._listing_running()
                and not self._following_running()
                and not self._touched
            ):
                self._idle.set()

    def _start_listing(self) -> None:
        self._raise_if_listing_failed()
        self._listing = asyncio.create_task(self._list_pending())

    def _listing_running(self) -> bool:
        return self._listing is not None and not self._listing.done()

    def _following_running(self) -> bool:
        self._following = {task for task in self._following if not task.done()}
        return bool(self._following)

    def _follow_in(self, *, drained: bool) -> float:
        assert self._touched_since is not None
        now = asyncio.get_running_loop().time()
        return follow_due(
            now=now,
            first_touched=self._touched_since,
            last_stored=self._stored[-1] if self._stored else None,
            drained=drained,
            busy=len(self._stored) == FOLLOW_BUSY_AT and self._stored[0] > now - 1.0,
            quiet=FOLLOW_QUIET.total_seconds(),
            settle=FOLLOW_SETTLE.total_seconds(),
            longest=MAX_FOLLOW_WAIT.total_seconds(),
        )

    async def _until_follow_due_or_woken(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(self._follow_in(drained=True), 0.01)):
                await self._wake.wait()

    def _maybe_follow(self, *, drained: bool) -> None:
        """Act on the meetings bot webhooks changed (see `follow_due`), one lot at a time."""
        if not self._touched or self._follow is None:
            return
        if self._follow_in(drained=drained) > 0:
            return
        event_ids = list(self._touched)
        self._touched, self._touched_since = {}, None
        # Beside any earlier lot still being acted on (a waiting-room alert must not wait behind 200 paced
        # updates); a meeting in both is acted on once at a time (its lock), each time as it is then.
        self._following.add(asyncio.create_task(self._follow_up(event_ids)))

    async def _follow_up(self, event_ids: list[str]) -> None:
        assert self._follow is not None
        try:
            await self._follow(event_ids)
        except Exception:
            # The meetings stay PENDING: the repair job acts on them.
            logger.exception("webhooks.follow_failed", extra={"count": len(event_ids)})

    def _raise_if_listing_failed(self) -> None:
        """A finished listing's failure is raised (and logged by the caller) here, not lost."""
        listing, self._listing = self._listing, None
        if listing is not None:
            listing.result()

    async def _until_done_or_woken(self) -> None:
        """Until the listing or a follow-up finishes, a webhook arrives, or the meetings bot webhooks changed are
        due (they never wait for a listing that may take minutes)."""
        running = {task for task in (self._listing, *self._following) if task is not None and not task.done()}
        woken = asyncio.ensure_future(self._wake.wait())
        timeout = max(self._follow_in(drained=True), 0.01) if self._touched else None
        try:
            await asyncio.wait({*running, woken}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            woken.cancel()

    async def _list_pending(self) -> None:
        """Every listing that is due, one after the other (each coalesces the calendars due when it starts)."""
        while await self._syncer.run_pending() is not None:
            pass

    async def wait_idle(self) -> None:
        """Until every kicked delivery and the listings it asked for are done (wrap in asyncio.timeout)."""
        await self._idle.wait()

    async def _process_batch(self) -> int:
        """Claim up to BATCH_SIZE deliveries and process them: every `calendar.sync_events` of the batch in one
        transaction (they only ask for listings), the rest one by one."""
        async with self._db.transaction() as session:
            batch = await repo.claim_deliveries(
                session, owner=leases.PROCESS_ID, lease=self._lease, now=self._clock(), limit=BATCH_SIZE
            )
        if not batch:
            return 0
        self._oldest_received = min(d.received_at for d in batch)
        async with leases.holding(self._db, WebhookDelivery, [d.id for d in batch], lease=self._lease):
            listings = [d for d in batch if d.event_type == "calendar.sync_events"]
            rest = [d for d in batch if d.event_type != "calendar.sync_events"]
            if listings:
                try:
                    async with self._db.transaction() as session:
                        await self._request_listings(session, listings)
                        await repo.finish_deliveries(
                            session, [d.id for d in listings], owner=leases.PROCESS_ID, now=self._clock()
                        )
                except Exception:
                    logger.warning("webhooks.batch_failed", extra={"count": len(listings)})
                    rest = listings + rest  # one by one, so a bad one fails alone
            for delivery in rest:
                touched = await self._process(delivery)
                for event_id in touched if self._follow is not None else ():
                    if not self._touched:
                        self._touched_since = asyncio.get_running_loop().time()
                    self._touched[event_id] = None
        return len(batch)

    async def _process(self, delivery: WebhookDelivery) -> list[str]:
        """Handle one delivery; returns the meetings it changed."""
        error: str | None = None
        touched: list[str] = []
        try:
            touched = await self._handle(delivery)
        except Exception as exc:
            logger.exception("webhooks.delivery_failed", extra={"delivery_id": delivery.id})
            error = type(exc).__name__
        async with self._db.transaction() as session:
            status = await repo.finish_delivery(
                session, delivery, owner=leases.PROCESS_ID, now=self._clock(), error=error
            )
        if status is DeliveryStatus.ABANDONED:
            logger.error("webhooks.delivery_abandoned", extra={"delivery_id": delivery.id, "error": error})
        return touched

    async def _handle(self, delivery: WebhookDelivery) -> list[str]:
        payload = json.loads(delivery.payload)
        data = payload.get("data") or {}
        if delivery.event_type in BOT_EVENT_TYPES:
            event = parse_bot_event(delivery.event_type, data)  # the intake stored it only if this parsed
            if event is None or self._bots is None:
                return []
            return await self._bots.apply(event)
        calendar_id = data.get("calendar_id")
        if delivery.event_type not in CALENDAR_EVENTS or not isinstance(calendar_id, str):
            return []
        if delivery.event_type == "calendar.update":
            await self._status.calendar_updated(calendar_id)
            return []
        async with self._db.transaction() as session:
            await self._request_listings(session, [delivery])
        return []

    async def _request_listings(self, session: AsyncSession, deliveries: list[WebhookDelivery]) -> None:
        """`calendar.sync_events`: each calendar's listing is due (coalesced with others), from no later than the
        webhook's `last_updated_ts`. The calendars and their listings are read in two queries for the lot."""
        now = self._clock()
        asked: list[tuple[WebhookDelivery, str, datetime]] = []
        for delivery in deliveries:
            data = json.loads(delivery.payload).get("data") or {}
            calendar_id = data.get("calendar_id")
            if not isinstance(calendar_id, str):
                continue
            # The intake stored it only with a valid `last_updated_ts`. One from the future (a skewed clock, a forged
            # body) must never move a cursor past now.
            asked.append((delivery, calendar_id, min(parse_timestamp(data["last_updated_ts"]), now)))
        calendar_ids = list(dict.fromkeys(calendar_id for _, calendar_id, _ in asked))
        known = await connections.connections_by_calendar(session, calendar_ids)
        listings = await syncs_repo.load_syncs(session, [c for c in calendar_ids if c in known])
        for delivery, calendar_id, until in asked:
            if calendar_id not in known:
                logger.debug("webhooks.unknown_calendar", extra={"event": delivery.event_type})
                continue
            connection, _ = known[calendar_id]
            # A calendar never listed: Recall made its events after we connected it, which bounds the listing.
            since = connection.created_at - CLOCK_MARGIN
            await syncs_repo.request_sync(
                session,
                recall_calendar_id=calendar_id,
                until=until,
                since=since,
                received_at=delivery.received_at,
                loaded=listings,
            )

    async def cleanup(self, *, keep: timedelta = timedelta(days=7)) -> int:
        async with self._db.transaction() as session:
            return await repo.delete_finished_deliveries(session, before=self._clock() - keep)
