"""Per Recall calendar: the listing cursor, and whether a listing is due (coalescing webhooks that arrive together)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import leases
from storage.lifecycle import SyncStatus, backoff
from storage.models import CalendarConnection, CalendarSync

FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(minutes=30)


async def load_syncs(session: AsyncSession, recall_calendar_ids: Sequence[str]) -> dict[str, CalendarSync]:
    """These calendars' listing rows, read at once, by calendar id (a calendar never listed has none): pass them
    to `request_sync` as ``loaded`` so a batch reads each row once."""
    if not recall_calendar_ids:
        return {}
    query = select(CalendarSync).where(CalendarSync.recall_calendar_id.in_(list(recall_calendar_ids)))
    return {sync.recall_calendar_id: sync for sync in (await session.scalars(query)).all()}


async def request_sync(
    session: AsyncSession,
    *,
    recall_calendar_id: str,
    until: datetime | None,
    since: datetime | None = None,
    received_at: datetime | None = None,
    loaded: dict[str, CalendarSync] | None = None,
) -> bool:
    """Note that a calendar's events changed (Recall's `last_updated_ts`, ``until``, is a lower bound for the
    changed events: the listing starts no later than it); a listing runs later, coalesced with others.

    ``since`` seeds the cursor of a calendar we have never listed (its creation time: Recall creates its events
    after the calendar, so the first listing still brings the whole window). ``received_at``: when the webhook
    came; one that came after the last listing started always leads to another listing, whatever its
    ``until``. ``loaded``: the rows `load_syncs` read for these calendars, instead of reading this one again; a
    calendar missing from it has no row yet, and the row made for it is added to it. Returns whether a listing is
    due.
    """
    if loaded is None:
        sync = await session.get(CalendarSync, recall_calendar_id)
    else:
        sync = loaded.get(recall_calendar_id)
    if sync is None:
        sync = CalendarSync(
            recall_calendar_id=recall_calendar_id,
            status=SyncStatus.DUE,
            requested_until=until,
            requests=1,
            cursor=since,
            attempts=0,
        )
        session.add(sync)
        if loaded is not None:
            loaded[recall_calendar_id] = sync
        return True
    covered = (
        until is not None
        and sync.cursor is not None
        and until <= sync.cursor
        and sync.status is SyncStatus.IDLE
        and received_at is not None
        and sync.listing_started_at is not None
        and received_at <= sync.listing_started_at
    )
    if covered:
        # Received before the last listing started, which brought every change up to then: nothing to list.
        return False
    sync.status = SyncStatus.DUE
    sync.requests += 1
    if until is not None and (sync.requested_until is None or until > sync.requested_until):
        sync.requested_until = until
    if until is not None and (sync.requested_from is None or until < sync.requested_from):
        sync.requested_from = until
    return True


@dataclass(frozen=True)
class DueSync:
    """A claimed calendar listing: where to start, and what the claim saw (to settle it correctly)."""

    calendar_id: str
    cursor: datetime | None
    requested_until: datetime | None
    requests: int
    attempts: int
    requested_from: datetime | None = None

    @property
    def start(self) -> datetime | None:
        """Where the listing starts: the cursor, or earlier if a webhook announced changes from earlier."""
        if self.cursor is None:
            return None
        if self.requested_from is not None and self.requested_from < self.cursor:
            return self.requested_from
        return self.cursor


async def claim_due_syncs(session: AsyncSession, *, owner: str, lease: timedelta, now: datetime) -> list[DueSync]:
    """Calendars with a listing due that nobody holds, now leased to ``owner`` (still DUE until finished)."""
    due = (CalendarSync.status == SyncStatus.DUE, or_(CalendarSync.due_at.is_(None), CalendarSync.due_at <= now))
    candidates = list(
        await session.scalars(select(CalendarSync.recall_calendar_id).where(*due, leases.claimable(CalendarSync, now)))
    )
    claimed = await leases.claim(session, CalendarSync, candidates, owner=owner, lease=lease, now=now, where=due)
    if not claimed:
        return []
    rows = await session.scalars(select(CalendarSync).where(CalendarSync.recall_calendar_id.in_(claimed)))
    return [
        DueSync(s.recall_calendar_id, s.cursor, s.requested_until, s.requests, s.attempts, s.requested_from)
        for s in rows
    ]


def next_cursor(due: DueSync, *, listed_from: datetime) -> datetime:
    """Where the next listing starts after a successful one that began at ``listed_from`` (already stepped back
    for clock skew): never later than a change a webhook announced and never earlier than the old cursor."""
    cursor = due.requested_until or listed_from
    if due.cursor is not None and cursor < due.cursor:
        cursor = due.cursor
    return cursor


async def finish_sync(
    session: AsyncSession,
    *,
    due: DueSync,
    owner: str,
    now: datetime,
    cursor: datetime,
    started: datetime | None = None,
) -> bool:
    """A listing that began at ``started`` succeeded: move the cursor (never backwards) and go IDLE unless a
    request arrived meanwhile. False if ``owner`` no longer held the calendar (its lease ran out; the new holder
    lists again)."""
    # Locked, so a request committed meanwhile by another process is not overwritten (PostgreSQL; SQLite
    # serialises writers anyway).
    sync = await session.scalar(
        select(CalendarSync).where(CalendarSync.recall_calendar_id == due.calendar_id).with_for_update()
    )
    if sync is None or sync.claimed_by != owner:
        return False
    sync.claimed_by = sync.claimed_until = None
    if sync.cursor is None or cursor > sync.cursor:
        sync.cursor = cursor
    sync.last_synced_at = now
    sync.listing_started_at = started or now
    if sync.requested_from is not None and (due.requested_from is None or sync.requested_from >= due.requested_from):
        sync.requested_from = None  # this listing started no later than it
    sync.attempts = 0
    sync.due_at = None
    if sync.requests == due.requests:
        sync.status = SyncStatus.IDLE  # no webhook arrived while we listed
    if sync.requested_until is not None and sync.cursor is not None and sync.requested_until <= sync.cursor:
        sync.requested_until = None
    return True


async def fail_sync(
    session: AsyncSession, *, due: DueSync, owner: str, now: datetime, not_before: timedelta | None = None
) -> bool:
    """A listing failed: stays DUE, tried again after a back-off (and no sooner than ``not_before``, a 429's
    Retry-After). False if ``owner`` no longer held it."""
    attempts = due.attempts + 1
    wait = backoff(attempts, first=FIRST_RETRY, cap=MAX_RETRY)
    if not_before is not None and not_before > wait:
        wait = not_before
    return await leases.release(
        session, CalendarSync, due.calendar_id, owner=owner, values={"attempts": attempts, "due_at": now + wait}
    )


async def calendars_not_synced_since(session: AsyncSession, *, before: datetime) -> list[str]:
    """Connected calendars not listed since ``before``, or never (the catch-up job lists them again in case a
    webhook was lost)."""
    rows = await session.scalars(
        select(CalendarConnection.recall_calendar_id)
        .outerjoin(CalendarSync, CalendarSync.recall_calendar_id == CalendarConnection.recall_calendar_id)
        .where(or_(CalendarSync.last_synced_at.is_(None), CalendarSync.last_synced_at < before))
    )
    return list(rows)


async def never_listed(session: AsyncSession, calendar_ids: Sequence[str]) -> set[str]:
    """Those of ``calendar_ids`` whose first listing has not finished yet (events arriving now were there before
    the member connected)."""
    if not calendar_ids:
        return set()
    listed = set(
        await session.scalars(
            select(CalendarSync.recall_calendar_id).where(
                CalendarSync.recall_calendar_id.in_(list(calendar_ids)), CalendarSync.last_synced_at.is_not(None)
            )
        )
    )
    return set(calendar_ids) - listed


async def forget_syncs(session: AsyncSession, recall_calendar_ids: Sequence[str]) -> None:
    if recall_calendar_ids:
        await session.execute(
            delete(CalendarSync).where(CalendarSync.recall_calendar_id.in_(list(recall_calendar_ids)))
        )
