"""Calendar listings: requests coalesce, one process lists, the cursor never goes backwards, a request that
arrives during a listing keeps the calendar due, failures pause with back-off."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage import syncs
from storage.db import Database
from storage.lifecycle import SyncStatus
from storage.models import CalendarSync
from storage.syncs import DueSync
from tests.storage.conftest import NOW, add_member

LEASE = timedelta(seconds=60)
T0 = NOW - timedelta(hours=1)


async def request(db: Database, until=None, since=None, received_at=None) -> bool:  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        return await syncs.request_sync(
            session, recall_calendar_id="cal-1", until=until, since=since, received_at=received_at
        )


async def claim(db: Database, owner: str = "a", now=NOW) -> list[DueSync]:  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        return await syncs.claim_due_syncs(session, owner=owner, lease=LEASE, now=now)


async def row(db: Database) -> CalendarSync:
    async with db.transaction() as session:
        found = await session.get(CalendarSync, "cal-1")
        assert found is not None
        return found


async def finish(db: Database, due: DueSync, cursor, owner: str = "a", started=None) -> bool:  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        return await syncs.finish_sync(session, due=due, owner=owner, now=NOW, cursor=cursor, started=started)


async def test_first_request_seeds_the_cursor_and_is_due(db: Database) -> None:
    assert await request(db, until=NOW, since=T0)
    sync = await row(db)
    assert (sync.status, sync.cursor, sync.requested_until, sync.requests) == (SyncStatus.DUE, T0, NOW, 1)


async def test_one_process_lists_and_the_cursor_moves_forward(db: Database) -> None:
    await request(db, until=NOW, since=T0)
    (due,) = await claim(db, "a")
    assert (due.calendar_id, due.cursor, due.requested_until) == ("cal-1", T0, NOW)
    assert await claim(db, "b") == []
    assert not await finish(db, due, NOW, owner="b")  # not the holder
    assert await finish(db, due, NOW)
    sync = await row(db)
    assert (sync.status, sync.cursor, sync.requested_until, sync.claimed_by) == (SyncStatus.IDLE, NOW, None, None)
    assert sync.last_synced_at == NOW


async def test_the_cursor_never_goes_backwards(db: Database) -> None:
    await request(db, since=NOW)
    (due,) = await claim(db)
    assert await finish(db, due, NOW - timedelta(hours=3))
    assert (await row(db)).cursor == NOW


async def test_a_request_during_the_listing_keeps_it_due(db: Database) -> None:
    await request(db, until=NOW, since=T0)
    (due,) = await claim(db)
    later = NOW + timedelta(minutes=5)
    assert await request(db, until=later)  # a webhook arrives while we list
    assert await finish(db, due, NOW)
    sync = await row(db)
    assert sync.status is SyncStatus.DUE
    assert sync.requested_until == later  # not covered by the listing that just ended


async def test_a_webhook_received_before_the_last_listing_began_needs_no_listing(db: Database) -> None:
    await request(db, since=T0)
    (due,) = await claim(db)
    began = NOW - timedelta(seconds=30)
    await finish(db, due, NOW, started=began)
    # Received before that listing began, announcing nothing newer than the cursor: it was covered.
    assert not await request(db, until=NOW - timedelta(minutes=1), received_at=began - timedelta(seconds=5))
    assert (await row(db)).status is SyncStatus.IDLE
    assert await request(db, until=NOW + timedelta(seconds=1), received_at=began - timedelta(seconds=5))
    assert (await row(db)).status is SyncStatus.DUE


async def test_a_webhook_after_the_last_listing_began_is_never_skipped(db: Database) -> None:
    """Recall's `last_updated_ts` is a lower bound, not a promise nothing changed later: a change written after
    the last listing began, announced with an older `last_updated_ts`, is listed from no later than it."""
    await request(db, since=T0)
    (due,) = await claim(db)
    began = NOW - timedelta(seconds=30)
    await finish(db, due, NOW, started=began)
    older = NOW - timedelta(minutes=5)
    assert await request(db, until=older, received_at=began + timedelta(seconds=1))
    (again,) = await claim(db)
    assert again.start == older  # no later than the announced change
    await finish(db, again, NOW, started=NOW)
    sync = await row(db)
    assert (sync.status, sync.requested_from, sync.cursor) == (SyncStatus.IDLE, None, NOW)
    # Without a time of receipt (the catch-up job, a new connection) a listing always follows.
    assert await request(db, until=older)


@pytest.mark.parametrize(
    ("requested_until", "cursor", "listed_from", "expected"),
    [
        (None, None, NOW, NOW),  # nothing announced: from when this listing started
        (NOW - timedelta(minutes=5), None, NOW, NOW - timedelta(minutes=5)),  # never later than the announcement
        (None, NOW + timedelta(minutes=1), NOW, NOW + timedelta(minutes=1)),  # never before the old cursor
        (NOW - timedelta(minutes=5), NOW - timedelta(minutes=1), NOW, NOW - timedelta(minutes=1)),
    ],
)
def test_next_cursor(requested_until, cursor, listed_from, expected) -> None:  # type: ignore[no-untyped-def]
    due = DueSync("cal-1", cursor, requested_until, requests=1, attempts=0)
    assert syncs.next_cursor(due, listed_from=listed_from) == expected


async def test_a_failed_listing_pauses_with_back_off(db: Database) -> None:
    await request(db, since=T0)
    (due,) = await claim(db)
    async with db.transaction() as session:
        assert await syncs.fail_sync(session, due=due, owner="a", now=NOW)
    sync = await row(db)
    assert (sync.status, sync.attempts, sync.due_at, sync.claimed_by) == (
        SyncStatus.DUE,
        1,
        NOW + syncs.FIRST_RETRY,
        None,
    )
    assert await claim(db, now=NOW + syncs.FIRST_RETRY - timedelta(seconds=1)) == []
    (again,) = await claim(db, now=NOW + syncs.FIRST_RETRY)
    async with db.transaction() as session:
        assert not await syncs.fail_sync(session, due=again, owner="somebody-else", now=NOW)
        assert await syncs.fail_sync(session, due=again, owner="a", now=NOW)
    assert (await row(db)).due_at == NOW + 2 * syncs.FIRST_RETRY
    (third,) = await claim(db, now=NOW + timedelta(hours=1))
    assert await finish(db, third, NOW)
    assert ((await row(db)).attempts, (await row(db)).due_at) == (0, None)


async def test_catch_up_finds_calendars_not_listed_lately(db: Database) -> None:
    await add_member(db, calendar="cal-1")
    await add_member(db, user_id="U2", calendar="cal-2")
    await request(db, since=T0)
    (due,) = await claim(db)
    await finish(db, due, NOW)  # cal-1 listed at NOW; cal-2 never
    async with db.transaction() as session:
        assert await syncs.calendars_not_synced_since(session, before=NOW - timedelta(hours=6)) == ["cal-2"]
        stale = await syncs.calendars_not_synced_since(session, before=NOW + timedelta(minutes=1))
        assert sorted(stale) == ["cal-1", "cal-2"]
        await syncs.forget_syncs(session, ["cal-1"])
    async with db.transaction() as session:
        assert await session.get(CalendarSync, "cal-1") is None
