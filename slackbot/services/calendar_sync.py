"""`calendar.sync_events` → list the changed events, coalescing webhooks that arrive together.

Recall's list endpoint allows 60 calls a minute for the whole Recall workspace, so every calendar due for a
listing is served by one listing: filtered by `calendar_id` when only one is due, otherwise across all calendars
from the oldest cursor. A listing never starts later than the webhook's `last_updated_ts`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from recall.client import RecallClient
from recall.models import CalendarEvent
from slackbot.services.meetings import MeetingService
from slackbot.services.reconciler import retry_after_of
from storage import leases
from storage import syncs as repo
from storage.db import Database
from storage.models import CalendarSync, utcnow
from storage.syncs import DueSync

logger = logging.getLogger(__name__)

# Our clock and Recall's may differ a little; a cursor taken from our clock steps back this much.
CLOCK_MARGIN = timedelta(minutes=2)


@dataclass(frozen=True)
class SyncReport:
    calendars: int
    pages: int
    events: int
    applied: int


class CalendarSyncer:
    def __init__(
        self,
        *,
        db: Database,
        recall: RecallClient,
        meetings: MeetingService,
        lease: timedelta = leases.DEFAULT_LEASE,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._lease = lease
        self._db = db
        self._recall = recall
        self._meetings = meetings
        self._clock = clock

    async def run_pending(self) -> SyncReport | None:
        """List every calendar with a listing due (leased, so other processes skip them)."""
        async with self._db.transaction() as session:
            due = await repo.claim_due_syncs(session, owner=leases.PROCESS_ID, lease=self._lease, now=self._clock())
        if not due:
            return None
        async with leases.holding(self._db, CalendarSync, [d.calendar_id for d in due], lease=self._lease):
            return await self._sync(due)

    def _listings(self, due: list[DueSync]) -> list[AsyncIterator[list[CalendarEvent]]]:
        """As few listings as cover every due calendar from its cursor."""
        with_cursor = [d for d in due if d.start is not None]
        without = [d for d in due if d.start is None]
        # A calendar never listed has no lower bound: list it alone rather than the whole Recall workspace.
        listings = [self._recall.iter_calendar_event_pages(calendar_id=d.calendar_id) for d in without]
        if len(with_cursor) == 1:
            only = with_cursor[0]
            listings.append(
                self._recall.iter_calendar_event_pages(calendar_id=only.calendar_id, updated_at__gte=only.start)
            )
        elif with_cursor:
            oldest = min(d.start for d in with_cursor if d.start is not None)
            listings.append(self._recall.iter_calendar_event_pages(updated_at__gte=oldest))
        return listings

    async def _sync(self, due: list[DueSync]) -> SyncReport | None:
        started = self._clock()
        pages = events = applied = 0
        try:
            for listing in self._listings(due):
                async for page in listing:
                    # Applied page by page: memory stays bounded by the page size.
                    pages += 1
                    events += len(page)
                    applied += await self._meetings.apply_events(page)
        except Exception as exc:
            # Tried again after a back-off; events already stored are acted on (or due) meanwhile.
            logger.warning("sync.failed", extra={"calendars": len(due), "error": type(exc).__name__})
            async with self._db.transaction() as session:
                for d in due:
                    await repo.fail_sync(
                        session, due=d, owner=leases.PROCESS_ID, now=self._clock(), not_before=retry_after_of(exc)
                    )
            return None
        listed_from = started - CLOCK_MARGIN
        async with self._db.transaction() as session:
            for d in due:
                await repo.finish_sync(
                    session,
                    due=d,
                    owner=leases.PROCESS_ID,
                    now=self._clock(),
                    cursor=repo.next_cursor(d, listed_from=listed_from),
                    started=started,
                )
        report = SyncReport(calendars=len(due), pages=pages, events=events, applied=applied)
        logger.info(
            "sync.completed",
            extra={"calendars": report.calendars, "pages": pages, "events": events, "applied": applied},
        )
        return report

    async def request_catch_up(self, *, older_than: timedelta) -> int:
        """Mark calendars not listed for a while as due, in case a webhook never arrived."""
        async with self._db.transaction() as session:
            stale = await repo.calendars_not_synced_since(session, before=self._clock() - older_than)
            for calendar_id in stale:
                await repo.request_sync(session, recall_calendar_id=calendar_id, until=None)
        return len(stale)
