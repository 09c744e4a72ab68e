"""Pacing under Slack's per-workspace limits: bursts tolerated, then the tier's rate; a member's lane never queues
behind background work; one post a second per channel after a burst; workspaces and methods apart."""

from __future__ import annotations

import asyncio

from slackbot.slack.pacing import (
    BURST_SECONDS,
    MEMBER_SHARE,
    PER_CHANNEL_BURST,
    TIER_3,
    Lane,
    SlackPacer,
    method_limits,
)


class FakeTime:
    """A clock that only moves when the pacer sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def pacer(t: FakeTime, **limits: int) -> SlackPacer:
    return SlackPacer(limits=method_limits(**limits), clock=t.clock, sleep=t.sleep)


async def calls_in(t: FakeTime, p: SlackPacer, n: int, *, method: str, lane: Lane, team: str = "T1") -> float:
    start = t.now
    for _ in range(n):
        await p.wait(team, method, lane=lane)
    return t.now - start


def test_a_burst_goes_at_once_then_the_tier_rate_holds() -> None:
    t = FakeTime()
    p = pacer(t)
    background_rate = TIER_3 * (1 - MEMBER_SHARE) / 60  # chat.update, Tier 3: 40 a minute in the background lane
    burst = int(background_rate * BURST_SECONDS)
    assert asyncio.run(calls_in(t, p, burst, method="chat.update", lane=Lane.BACKGROUND)) == 0
    took = asyncio.run(calls_in(t, p, 40, method="chat.update", lane=Lane.BACKGROUND))
    assert 40 / background_rate - 1 <= took <= 40 / background_rate + 1
    # Over any minute from here on, the background lane never exceeds its share of the tier.
    before = t.now
    asyncio.run(calls_in(t, p, 80, method="chat.update", lane=Lane.BACKGROUND))
    assert (t.now - before) >= 80 / background_rate - 1e-6


def test_the_member_lane_never_waits_behind_the_background() -> None:
    t = FakeTime()
    p = pacer(t)
    asyncio.run(calls_in(t, p, 200, method="chat.update", lane=Lane.BACKGROUND))  # the background is far behind
    assert asyncio.run(calls_in(t, p, 2, method="chat.update", lane=Lane.MEMBER)) == 0  # its own share, at once


def test_both_lanes_together_stay_within_the_limit() -> None:
    t = FakeTime()
    p = pacer(t)

    async def both() -> None:
        await asyncio.gather(
            calls_in(t, p, 150, method="views.publish", lane=Lane.BACKGROUND),
            calls_in(t, p, 50, method="views.publish", lane=Lane.MEMBER),
        )

    asyncio.run(both())
    # 200 Tier 4 calls (100 a minute), 25 seconds' worth of burst: at least ~95 s.
    assert t.now >= (200 - 100 * BURST_SECONDS / 60) / (100 / 60) - 1


def test_one_post_a_second_per_channel_after_a_burst() -> None:
    t = FakeTime()
    p = pacer(t, posts_per_minute=10_000)

    async def posts(channel: str, n: int) -> None:
        for _ in range(n):
            await p.wait("T1", "chat.postMessage", lane=Lane.BACKGROUND, channel=channel)

    asyncio.run(posts("D1", PER_CHANNEL_BURST))
    assert t.now == 0
    asyncio.run(posts("D1", 5))
    assert 4.5 <= t.now <= 5.5
    moment = t.now
    asyncio.run(posts("D2", 3))  # another member's DM has its own budget
    assert t.now == moment


def test_workspaces_and_unknown_methods_are_apart() -> None:
    t = FakeTime()
    p = pacer(t)
    asyncio.run(calls_in(t, p, 200, method="chat.update", lane=Lane.BACKGROUND, team="T1"))
    moment = t.now
    asyncio.run(calls_in(t, p, 5, method="chat.update", lane=Lane.BACKGROUND, team="T2"))
    asyncio.run(calls_in(t, p, 500, method="auth.test", lane=Lane.BACKGROUND, team="T1"))
    assert t.now == moment
