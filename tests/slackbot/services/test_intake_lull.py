"""Webhooks first: background work waits for a lull in the intake, never longer than LONGEST (issue #9)."""

from __future__ import annotations

import asyncio
import time

import pytest

from slackbot.services import intake_lull
from slackbot.services.intake_lull import IntakeLull, seconds_to_wait
from slackbot.services.webhook_processor import DEFAULT_DEBOUNCE


@pytest.mark.parametrize(
    ("now", "last_arrival", "waiting_since", "expected"),
    [
        (10.0, None, 10.0, 0.0),  # no webhook ever: go
        (10.0, 9.0, 10.0, 0.0),  # the last one a second ago: quiet already
        (10.0, 9.75, 10.0, 0.0),  # exactly `quiet` ago: go
        (10.0, 9.9, 10.0, 0.15),  # 0.1 s ago: until the quiet
        (10.0, 10.0, 10.0, 0.25),  # just now: a whole quiet
        (11.9, 11.9, 10.0, 0.1),  # still busy, but the longest wait ends first
        (12.0, 12.0, 10.0, 0.0),  # waited the longest: go however busy
        (13.0, 13.0, 10.0, 0.0),  # past it
    ],
)
def test_seconds_to_wait(now: float, last_arrival: float | None, waiting_since: float, expected: float) -> None:
    assert seconds_to_wait(
        now=now, last_arrival=last_arrival, waiting_since=waiting_since, quiet=0.25, longest=2.0
    ) == pytest.approx(expected)


def test_a_single_webhook_never_delays_its_meetings() -> None:
    """The processor's debounce outlasts the quiet: by the time a lone webhook's meetings are acted on, the
    intake is quiet again."""
    assert DEFAULT_DEBOUNCE.total_seconds() >= intake_lull.QUIET


async def test_wait_returns_at_once_when_nothing_arrived() -> None:
    lull = IntakeLull(quiet=30, longest=30)
    async with asyncio.timeout(1):
        await lull.wait()


async def test_wait_lasts_until_the_intake_is_quiet() -> None:
    lull = IntakeLull(quiet=0.2, longest=30)
    lull.arrived()
    started = time.monotonic()
    async with asyncio.timeout(5):
        await lull.wait()
    assert time.monotonic() - started >= 0.15


async def test_a_steady_stream_cannot_hold_background_work_past_the_longest_wait() -> None:
    lull = IntakeLull(quiet=0.2, longest=0.5)

    async def stream() -> None:
        while True:
            lull.arrived()
            await asyncio.sleep(0.02)

    lull.arrived()
    feeder = asyncio.create_task(stream())
    try:
        started = time.monotonic()
        async with asyncio.timeout(5):
            await lull.wait()
        waited = time.monotonic() - started
    finally:
        feeder.cancel()
    assert 0.45 <= waited < 5


async def test_an_arrival_while_waiting_extends_the_wait() -> None:
    now = [100.0]
    lull = IntakeLull(quiet=0.25, longest=2.0, clock=lambda: now[0])
    lull.arrived()
    waiter = asyncio.create_task(lull.wait())
    await asyncio.sleep(0.3)  # real time passes; the clock says 0 s
    assert not waiter.done()
    now[0] = 100.2
    lull.arrived()
    now[0] = 100.3  # 0.3 s after the first arrival, 0.1 s after the second
    await asyncio.sleep(0.3)
    assert not waiter.done()
    now[0] = 100.45
    async with asyncio.timeout(2):
        await waiter
