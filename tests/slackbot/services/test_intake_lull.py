"""Webhooks first: background work waits for a burst of webhooks to pass, never longer than LONGEST, and never for
a steady trickle (issue #9)."""

from __future__ import annotations

import asyncio
import time

import pytest

from slackbot.services.intake_lull import IntakeLull, seconds_to_wait

BURST = [9.6, 9.7, 9.8, 9.9]  # four webhooks in the last 0.4 s


@pytest.mark.parametrize(
    ("now", "arrivals", "waiting_since", "expected"),
    [
        (10.0, [], 10.0, 0.0),  # no webhook ever: go
        (10.0, [9.9], 10.0, 0.0),  # a lone webhook is no burst
        (10.0, [9.0, 9.2, 9.4, 9.5], 10.0, 0.0),  # four, but only one within the window
        (10.0, [9.55, 9.7, 9.8, 9.9], 10.0, 0.05),  # four in the window, the oldest of them leaves at 10.05
        (10.0, BURST, 10.0, 0.1),  # ... at 10.1
        (10.0, [9.0, *BURST], 10.0, 0.1),  # older arrivals do not count
        (10.0, [9.5, *BURST], 10.0, 0.1),  # one leaving the window exactly now is gone (and 9.6 leaves at 10.1)
        (10.0, [9.6, 9.65, 9.7, 9.8, 9.9], 10.0, 0.15),  # five in the window: busy until the count drops below four
        (11.95, [11.6, 11.7, 11.8, 11.9], 10.0, 0.05),  # still busy, but the longest wait ends first
        (12.0, [11.7, 11.8, 11.9, 12.0], 10.0, 0.0),  # waited the longest: go however busy
        (13.0, [12.7, 12.8, 12.9, 13.0], 10.0, 0.0),  # past it
    ],
)
def test_seconds_to_wait(now: float, arrivals: list[float], waiting_since: float, expected: float) -> None:
    assert seconds_to_wait(
        now=now, arrivals=arrivals, waiting_since=waiting_since, window=0.5, busy_at=4, longest=2.0
    ) == pytest.approx(expected)


async def test_wait_returns_at_once_when_nothing_arrived() -> None:
    lull = IntakeLull(window=30, busy_at=1, longest=30)
    async with asyncio.timeout(1):
        await lull.wait()


async def test_wait_lasts_until_the_burst_has_passed() -> None:
    lull = IntakeLull(window=0.2, busy_at=3, longest=30)
    for _ in range(3):
        lull.arrived()
    started = time.monotonic()
    async with asyncio.timeout(5):
        await lull.wait()
    assert time.monotonic() - started >= 0.15


async def stream(lull: IntakeLull, every: float) -> None:
    while True:
        lull.arrived()
        await asyncio.sleep(every)


async def test_a_burst_that_never_ends_cannot_hold_background_work_past_the_longest_wait() -> None:
    lull = IntakeLull(window=0.5, busy_at=5, longest=0.5)
    for _ in range(5):
        lull.arrived()
    feeder = asyncio.create_task(stream(lull, 0.01))
    try:
        started = time.monotonic()
        async with asyncio.timeout(5):
            await lull.wait()
        waited = time.monotonic() - started
    finally:
        feeder.cancel()
    assert 0.45 <= waited < 5


async def test_a_steady_trickle_is_no_burst() -> None:
    lull = IntakeLull(window=0.5, busy_at=20, longest=30)
    feeder = asyncio.create_task(stream(lull, 0.1))  # 10 a second: 5 in any window
    try:
        await asyncio.sleep(0.6)
        started = time.monotonic()
        async with asyncio.timeout(1):
            await lull.wait()
        assert time.monotonic() - started < 0.05
    finally:
        feeder.cancel()


async def test_an_arrival_while_waiting_extends_the_wait() -> None:
    now = [100.0]
    lull = IntakeLull(window=0.5, busy_at=2, longest=2.0, clock=lambda: now[0])
    lull.arrived()
    lull.arrived()
    waiter = asyncio.create_task(lull.wait())
    await asyncio.sleep(0.3)  # real time passes; the clock says 0 s
    assert not waiter.done()
    now[0] = 100.4
    lull.arrived()
    lull.arrived()  # two within the window again, until 100.9
    now[0] = 100.6
    await asyncio.sleep(0.3)
    assert not waiter.done()
    now[0] = 100.95
    async with asyncio.timeout(2):
        await waiter
