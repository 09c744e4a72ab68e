"""Leases: one holder at a time, renewed while held, taken over once they run out, released only by the holder."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from storage import leases
from storage.db import Database
from storage.models import Meeting
from tests.storage.conftest import NOW, add_meeting, add_member

LEASE = timedelta(seconds=60)


async def holder(db: Database, event_id: str) -> tuple[str | None, object]:
    async with db.transaction() as session:
        meeting = await session.get(Meeting, event_id)
        assert meeting is not None
        return meeting.claimed_by, meeting.claimed_until


async def test_one_holder_at_a_time_until_the_lease_runs_out(db: Database) -> None:
    await add_meeting(db, await add_member(db), "e1")
    async with db.transaction() as session:
        assert await leases.claim(session, Meeting, ["e1"], owner="a", lease=LEASE, now=NOW) == ["e1"]
    async with db.transaction() as session:
        # Still held (even by the same owner: a second worker of one process must not run it twice).
        assert await leases.claim(session, Meeting, ["e1"], owner="b", lease=LEASE, now=NOW + LEASE) == []
        assert await leases.claim(session, Meeting, ["e1"], owner="a", lease=LEASE, now=NOW) == []
    assert await holder(db, "e1") == ("a", NOW + LEASE)
    async with db.transaction() as session:
        # The holder died: a second after the lease ran out, another process takes it over.
        later = NOW + LEASE + timedelta(seconds=1)
        assert await leases.claim(session, Meeting, ["e1"], owner="b", lease=LEASE, now=later) == ["e1"]
    assert (await holder(db, "e1"))[0] == "b"


async def test_claim_respects_the_extra_conditions_and_sets_values(db: Database) -> None:
    connection = await add_member(db)
    await add_meeting(db, connection, "e1", attempts=0)
    await add_meeting(db, connection, "e2", attempts=5)
    async with db.transaction() as session:
        got = await leases.claim(
            session,
            Meeting,
            ["e1", "e2", "missing"],
            owner="a",
            lease=LEASE,
            now=NOW,
            where=[Meeting.attempts < 3],
            values={"attempts": Meeting.attempts + 1},
        )
    assert got == ["e1"]
    async with db.transaction() as session:
        assert (await session.get(Meeting, "e1")).attempts == 1
        assert (await session.get(Meeting, "e2")).claimed_by is None
    async with db.transaction() as session:
        assert await leases.claim(session, Meeting, [], owner="a", lease=LEASE, now=NOW) == []


async def test_only_the_holder_renews_or_releases(db: Database) -> None:
    await add_meeting(db, await add_member(db), "e1")
    async with db.transaction() as session:
        await leases.claim(session, Meeting, ["e1"], owner="a", lease=LEASE, now=NOW)
    async with db.transaction() as session:
        assert await leases.renew(session, Meeting, ["e1"], owner="b", until=NOW + 10 * LEASE) == 0
        assert not await leases.release(session, Meeting, "e1", owner="b", values={"attempts": 9})
    assert await holder(db, "e1") == ("a", NOW + LEASE)
    async with db.transaction() as session:
        assert await leases.renew(session, Meeting, ["e1"], owner="a", until=NOW + 2 * LEASE) == 1
    assert await holder(db, "e1") == ("a", NOW + 2 * LEASE)
    async with db.transaction() as session:
        assert await leases.release(session, Meeting, "e1", owner="a", values={"attempts": 2})
    assert await holder(db, "e1") == (None, None)
    async with db.transaction() as session:
        assert (await session.get(Meeting, "e1")).attempts == 2
        assert await leases.renew(session, Meeting, [], owner="a", until=NOW) == 0


async def test_holding_renews_the_lease_while_the_work_runs(db: Database) -> None:
    """A run longer than its lease keeps it: nobody takes the work over while the holder is alive."""
    await add_meeting(db, await add_member(db), "e1")
    short = timedelta(seconds=0.6)
    async with db.transaction() as session:
        now = leases.utcnow()
        assert await leases.claim(session, Meeting, ["e1"], owner=leases.PROCESS_ID, lease=short, now=now)
    first_expiry = (await holder(db, "e1"))[1]
    async with leases.holding(db, Meeting, ["e1"], lease=short):
        await asyncio.sleep(1.5)  # 2.5 leases long; renewed every 0.2 s
        renewed = (await holder(db, "e1"))[1]
        async with db.transaction() as session:
            assert await leases.claim(session, Meeting, ["e1"], owner="other", lease=short, now=leases.utcnow()) == []
    assert renewed > first_expiry + timedelta(seconds=0.8)
    # After the block the renewals stop: the lease runs out and another process may take over.
    await asyncio.sleep(0.8)
    async with db.transaction() as session:
        assert await leases.claim(session, Meeting, ["e1"], owner="other", lease=short, now=leases.utcnow()) == ["e1"]
