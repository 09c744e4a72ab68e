"""`follow_due`: when the meetings bot webhooks changed are acted on (pure, table-tested)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from slackbot.services.webhook_processor import (
    FOLLOW_BUSY_AT,
    FOLLOW_QUIET,
    FOLLOW_SETTLE,
    MAX_FOLLOW_WAIT,
    DeliveryProcessor,
    follow_due,
    rescan_every,
)

QUIET = FOLLOW_QUIET.total_seconds()
SETTLE = FOLLOW_SETTLE.total_seconds()
LONGEST = MAX_FOLLOW_WAIT.total_seconds()
BUSY, CALM = True, False

# (name, now, first touched, last stored, drained, busy, seconds to wait)
TABLE = [
    ("one status, the intake quiet for a second: now", 101.0, 100.0, 100.0, True, CALM, 0.0),
    ("one status, stored just now: wait for the intake to be quiet", 100.2, 100.0, 100.2, True, CALM, QUIET),
    ("a burst still being handled: wait", 103.0, 100.0, 102.9, False, BUSY, LONGEST - 3.0),
    ("handled, a burst still arriving: wait for a quiet second", 103.0, 100.0, 102.5, True, BUSY, 0.5),
    (
        "a steady trickle (no burst) never pauses: its meetings go after settling",
        100.0 + SETTLE,
        100.0,
        100.0 + SETTLE,
        True,
        CALM,
        0.0,
    ),
    ("... and not before", 101.0, 100.0, 101.0, True, CALM, min(QUIET, SETTLE - 1.0)),
    ("a burst that never pauses: no longer than the cap", 100.0 + LONGEST, 100.0, 100.0 + LONGEST, True, BUSY, 0.0),
    ("... even with a backlog in hand", 100.0 + LONGEST + 1, 100.0, 100.0 + LONGEST, False, BUSY, 0.0),
    ("the cap comes before the quiet second", 100.0 + LONGEST - 0.25, 100.0, 100.0 + LONGEST - 0.5, True, BUSY, 0.25),
    ("no webhook stored by this process (a rescan found it): now", 100.0, 100.0, None, True, CALM, 0.0),
]


@pytest.mark.parametrize(
    ("name", "now", "first", "last", "drained", "busy", "wait"), TABLE, ids=[row[0] for row in TABLE]
)
def test_follow_due(
    name: str, now: float, first: float, last: float | None, drained: bool, busy: bool, wait: float
) -> None:
    due = follow_due(
        now=now,
        first_touched=first,
        last_stored=last,
        drained=drained,
        busy=busy,
        quiet=QUIET,
        settle=SETTLE,
        longest=LONGEST,
    )
    assert due == pytest.approx(wait)


def test_the_cap_holds_whatever_the_settle_and_quiet_times() -> None:
    """Settle and quiet times longer than the cap (a future tuning) still wait no longer than the cap."""
    due = follow_due(
        now=105.0,
        first_touched=100.0,
        last_stored=104.0,
        drained=True,
        busy=CALM,
        quiet=60.0,
        settle=60.0,
        longest=10.0,
    )
    assert due == pytest.approx(5.0)


# The processor feeds `follow_due` from what the intake stored: the newest stored webhook (quiet counts from it), and
# a burst (FOLLOW_BUSY_AT stored within the last second). Times are the running loop's clock, as `kick()` records.


def _processor(follow: Callable[[list[str]], Awaitable[object]] | None = None) -> Any:
    return DeliveryProcessor(db=None, status=None, syncer=None, follow=follow)  # type: ignore[arg-type]


def _meetings_due_in(processor: Any, seconds: float) -> None:
    """Meetings touched long enough ago to have settled; the intake quiet for all but ``seconds`` of a second."""
    now = asyncio.get_running_loop().time()
    processor._touched = {"evt-1": None}
    processor._touched_since = now - SETTLE - 0.1
    processor._stored.append(now - QUIET + seconds)


def _fake_drains(processor: Any, *, fail_first: bool) -> list[int]:
    """Replace ``drain`` with one that clears the wake (as the real one does first) and counts its calls."""
    drains: list[int] = []

    async def drain() -> None:
        processor._wake.clear()
        drains.append(len(drains))
        if fail_first and len(drains) == 1:
            raise RuntimeError("database is down")

    processor.drain = drain
    return drains


@pytest.mark.parametrize(
    ("stored_ago", "touched_ago", "wait"),
    [
        ((5.0, 3.0, 0.25), 0.25, QUIET - 0.25),  # quiet counts from the newest webhook, not the first or the second
        ((5.0, 3.0), 3.0, 0.0),  # quiet for 3 s and settled: now
        ((), 2.0, 0.0),  # nothing stored since: now
        # A few webhooks within the last second are no burst: settled after FOLLOW_SETTLE, they go now.
        ((0.6, 0.5, 0.4), SETTLE + 0.5, 0.0),
    ],
)
async def test_the_processor_waits_for_quiet_after_the_newest_stored_webhook(
    stored_ago: tuple[float, ...], touched_ago: float, wait: float
) -> None:
    processor = _processor()
    now = asyncio.get_running_loop().time()
    processor._stored.extend(now - ago for ago in stored_ago)
    processor._touched_since = now - touched_ago
    assert processor._follow_in(drained=True) == pytest.approx(wait, abs=0.05)


async def test_a_burst_waits_past_the_settle_time_until_quiet() -> None:
    processor = _processor()
    now = asyncio.get_running_loop().time()
    touched = now - (SETTLE + 0.5)  # settled long ago, were it not a burst
    # FOLLOW_BUSY_AT webhooks within the last second: a burst; its meetings wait for quiet (up to the longest wait).
    processor._stored.extend(now - 0.9 + i * (0.85 / FOLLOW_BUSY_AT) for i in range(FOLLOW_BUSY_AT))
    processor._touched_since = touched
    assert processor._follow_in(drained=True) == pytest.approx(QUIET - 0.05 - 0.85 / FOLLOW_BUSY_AT, abs=0.05)
    # The same number spread over more than a second is a trickle: settled, so now.
    processor._stored.clear()
    processor._stored.extend(now - 1.5 + i * (1.45 / FOLLOW_BUSY_AT) for i in range(FOLLOW_BUSY_AT))
    assert processor._follow_in(drained=True) == 0.0
    # One short of FOLLOW_BUSY_AT within the last second (the one before them came 1.5 s ago): no burst either.
    processor._stored.clear()
    processor._stored.extend([now - 1.5, *(now - 0.9 + i * (0.85 / FOLLOW_BUSY_AT) for i in range(FOLLOW_BUSY_AT - 1))])
    assert processor._follow_in(drained=True) == 0.0


@pytest.mark.parametrize(
    ("lease_seconds", "every"),
    [
        (60.0, 15.0),  # the default lease: a quarter of it
        (4.0, 1.0),
        (2.0, 0.5),  # a quarter is exactly the floor
        (1.2, 0.5),  # a quarter would be 0.3 s: never more often than the floor
    ],
)
def test_rescans_come_a_quarter_of_the_lease_apart_never_more_often_than_the_floor(
    lease_seconds: float, every: float
) -> None:
    assert rescan_every(timedelta(seconds=lease_seconds)) == pytest.approx(every)


async def test_kicks_past_the_burst_size_still_count_as_a_burst() -> None:
    """The processor remembers the last FOLLOW_BUSY_AT kicks: many more within a second are still a burst."""
    processor = _processor()
    for _ in range(FOLLOW_BUSY_AT * 3):
        processor.kick()
    processor._touched_since = asyncio.get_running_loop().time() - (SETTLE + 0.5)  # settled, were it not a burst
    assert len(processor._stored) == FOLLOW_BUSY_AT
    assert processor._follow_in(drained=True) == pytest.approx(QUIET, abs=0.1)  # waits for a quiet second


def test_a_kick_from_outside_a_running_loop_still_wakes_the_processor() -> None:
    """A caller without an event loop (a job runner thread, the CLI) may kick: the delivery is processed on the
    next wake, it just does not count towards a burst."""
    processor = _processor()
    processor.kick()
    assert processor._wake.is_set() and not processor._idle.is_set()
    assert len(processor._stored) == 0


async def test_acting_on_meetings_hands_over_their_ids_and_a_failure_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    handed: list[list[str]] = []

    async def follow(event_ids: list[str]) -> None:
        handed.append(event_ids)
        if len(handed) == 2:
            raise RuntimeError("slack is down")

    processor = _processor(follow)
    await processor._follow_up(["evt-1", "evt-2"])
    with caplog.at_level(logging.ERROR, logger="slackbot.services.webhook_processor"):
        await processor._follow_up(["evt-3"])  # the meetings stay pending: the repair job acts on them
    assert handed == [["evt-1", "evt-2"], ["evt-3"]]
    failed = [r for r in caplog.records if r.getMessage() == "webhooks.follow_failed"]
    assert [getattr(r, "count", None) for r in failed] == [1]


async def test_the_loop_outlives_a_failed_drain(caplog: pytest.LogCaptureFixture) -> None:
    """A drain that fails is logged and the loop goes on: the next kick is processed."""
    processor = _processor()
    drains = _fake_drains(processor, fail_first=True)
    with caplog.at_level(logging.ERROR, logger="slackbot.services.webhook_processor"):
        running = asyncio.create_task(processor.run_forever())
        try:
            processor.kick()
            async with asyncio.timeout(5):
                while len(drains) < 1:
                    await asyncio.sleep(0.01)
            processor.kick()  # after the pause that follows a failure
            async with asyncio.timeout(5):
                while len(drains) < 2:
                    await asyncio.sleep(0.01)
        finally:
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == ["webhooks.processor_failed"]


async def test_the_loop_stops_when_cancelled_as_a_kick_wakes_it() -> None:
    """Shutting down while a webhook arrives: the cancel is not lost (on Python 3.11 `asyncio.wait_for` drops a
    cancel that comes with the wake it waits for, and the server would never stop)."""
    processor = _processor()
    _fake_drains(processor, fail_first=False)
    running = asyncio.create_task(processor.run_forever())
    await asyncio.sleep(0.05)  # waiting for a kick
    processor.kick()
    running.cancel()
    done, _ = await asyncio.wait({running}, timeout=2)
    assert running in done and running.cancelled()


async def test_meetings_are_acted_on_once_due_and_not_a_moment_before() -> None:
    """`_maybe_follow`: half a second short of a quiet second, nothing happens; once due, the lot is handed over
    at once and the processor starts a new lot."""
    handed: list[list[str]] = []

    async def follow(event_ids: list[str]) -> None:
        handed.append(event_ids)

    processor = _processor(follow)
    now = asyncio.get_running_loop().time()
    processor._touched = {"evt-1": None, "evt-2": None}
    processor._touched_since = now - 0.2
    processor._stored.append(now - 0.5)  # quiet for half a second: half a second to go
    processor._maybe_follow(drained=True)
    assert not processor._following and list(processor._touched) == ["evt-1", "evt-2"]

    processor._touched_since = now - SETTLE - 0.1  # settled and quiet, but stored deliveries are still being
    processor._stored.clear()  # handled (a burst's): not yet either
    processor._stored.append(now - QUIET - 0.1)
    processor._maybe_follow(drained=False)
    assert not processor._following

    processor._maybe_follow(drained=True)  # settled and quiet: now
    assert processor._touched == {} and processor._touched_since is None
    await asyncio.gather(*processor._following)
    assert handed == [["evt-1", "evt-2"]]


async def test_without_a_follow_up_nothing_is_acted_on() -> None:
    processor = _processor()
    processor._touched = {"evt-1": None}
    processor._touched_since = asyncio.get_running_loop().time() - 60
    processor._maybe_follow(drained=True)
    assert not processor._following and list(processor._touched) == ["evt-1"]


async def test_waiting_for_meetings_due_ends_when_they_are_due_without_a_wake() -> None:
    """No webhook comes: the wait ends when the meetings are due (0.2 s here), and quietly (no timeout error)."""
    processor = _processor()
    _meetings_due_in(processor, 0.2)
    async with asyncio.timeout(0.9):  # not a listing's wait (none), nor the longest (30 s)
        await processor._until_follow_due_or_woken()
    assert processor._follow_in(drained=True) == 0.0


async def test_waiting_beside_a_listing_ends_when_the_meetings_are_due() -> None:
    """A listing may take minutes: meetings bot webhooks changed never wait for it to end."""
    processor = _processor()
    never = asyncio.Event()
    processor._listing = asyncio.create_task(never.wait())
    _meetings_due_in(processor, 0.2)
    try:
        async with asyncio.timeout(0.9):
            await processor._until_done_or_woken()
        assert not processor._listing.done()
    finally:
        processor._listing.cancel()


async def test_waiting_beside_a_follow_up_ignores_a_listing_already_done() -> None:
    """Only work still running ends the wait: a finished listing does not (the loop would spin on it)."""
    processor = _processor()

    async def done() -> None:
        return None

    processor._listing = asyncio.create_task(done())
    await asyncio.sleep(0)
    assert processor._listing.done()
    release = asyncio.Event()
    processor._following = {asyncio.create_task(release.wait())}
    waiting = asyncio.create_task(processor._until_done_or_woken())
    await asyncio.sleep(0.1)
    assert not waiting.done()
    release.set()
    async with asyncio.timeout(1):
        await waiting
