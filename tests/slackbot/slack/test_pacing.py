"""Pacing under Slack's per-workspace limits, held as sliding windows: never more than the limit in any 60 s (a
burst up to it goes at once), never more than 10 posts in any 10 s to one channel; a member's lane never queues
behind background work and has a reserve of its own; workspaces and methods apart."""

from __future__ import annotations

import asyncio

from slackbot.slack.pacing import (
    MARGIN_SECONDS,
    PER_CHANNEL_POSTS,
    PER_CHANNEL_SECONDS,
    TIER_3,
    TIER_4,
    WINDOW_SECONDS,
    Lane,
    SlackPacer,
    lane_cap,
    method_limits,
)


class FakeTime:
    """A clock that only moves when the pacer sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.now += seconds


def pacer(t: FakeTime, **limits: int) -> SlackPacer:
    return SlackPacer(limits=method_limits(**limits), clock=t.clock, sleep=t.sleep)


async def calls(
    t: FakeTime, p: SlackPacer, n: int, *, method: str, lane: Lane, team: str = "T1", **kw: str
) -> list[float]:
    """The moments ``n`` calls went, one after the other."""
    moments = []
    for _ in range(n):
        await p.wait(team, method, lane=lane, **kw)
        moments.append(t.now)
    return moments


def most_in_any_window(moments: list[float], seconds: float) -> int:
    return max(sum(1 for m in moments if start <= m < start + seconds) for start in moments)


def test_lane_caps_leave_a_reserve_for_members() -> None:
    assert (lane_cap(TIER_3, Lane.BACKGROUND), lane_cap(TIER_3, Lane.MEMBER)) == (40, 50)
    assert (lane_cap(TIER_4, Lane.BACKGROUND), lane_cap(300, Lane.BACKGROUND)) == (80, 240)
    assert lane_cap(1, Lane.BACKGROUND) == 1  # a tiny limit still lets background work through


def test_a_burst_up_to_the_cap_goes_at_once_then_never_more_than_the_cap_in_any_minute() -> None:
    t = FakeTime()
    p = pacer(t)
    moments = asyncio.run(calls(t, p, 130, method="chat.update", lane=Lane.BACKGROUND))
    cap = lane_cap(TIER_3, Lane.BACKGROUND)
    assert moments[cap - 1] == 0  # the burst
    assert moments[cap] == WINDOW_SECONDS + MARGIN_SECONDS  # the next waits until the first leaves the window
    assert most_in_any_window(moments, WINDOW_SECONDS) == cap
    assert moments[-1] == 3 * (WINDOW_SECONDS + MARGIN_SECONDS)  # 130 calls, 40 a window: the fourth burst


def test_the_member_lane_never_waits_behind_the_background() -> None:
    t = FakeTime()
    p = pacer(t)
    asyncio.run(calls(t, p, 200, method="chat.update", lane=Lane.BACKGROUND))  # the background is far behind
    moment = t.now
    reserve = TIER_3 - lane_cap(TIER_3, Lane.BACKGROUND)
    assert asyncio.run(calls(t, p, reserve, method="chat.update", lane=Lane.MEMBER)) == [moment] * reserve


def test_both_lanes_together_stay_within_the_limit() -> None:
    t = FakeTime()
    p = pacer(t)
    moments: list[float] = []

    async def lane(n: int, which: Lane) -> None:
        moments.extend(await calls(t, p, n, method="views.publish", lane=which))

    async def both() -> None:
        await asyncio.gather(lane(250, Lane.BACKGROUND), lane(100, Lane.MEMBER))

    asyncio.run(both())
    assert len(moments) == 350
    assert most_in_any_window(sorted(moments), WINDOW_SECONDS) <= TIER_4


def test_posts_to_one_channel_stay_under_ten_in_any_ten_seconds() -> None:
    t = FakeTime()
    p = pacer(t, posts_per_minute=10_000)
    first = asyncio.run(calls(t, p, 35, method="chat.postMessage", lane=Lane.BACKGROUND, channel="D1"))
    assert first[PER_CHANNEL_POSTS - 1] == 0  # a burst of ten
    assert most_in_any_window(first, PER_CHANNEL_SECONDS) == PER_CHANNEL_POSTS
    assert most_in_any_window(first, 2 * PER_CHANNEL_SECONDS) <= 2 * PER_CHANNEL_POSTS  # one a second on average
    moment = t.now
    other = asyncio.run(calls(t, p, 3, method="chat.postMessage", lane=Lane.BACKGROUND, channel="D2"))
    assert other == [moment] * 3  # another member's DM has its own window


def test_workspaces_and_unknown_methods_are_apart() -> None:
    t = FakeTime()
    p = pacer(t)
    asyncio.run(calls(t, p, 200, method="chat.update", lane=Lane.BACKGROUND, team="T1"))
    moment = t.now
    asyncio.run(calls(t, p, 5, method="chat.update", lane=Lane.BACKGROUND, team="T2"))
    asyncio.run(calls(t, p, 500, method="auth.test", lane=Lane.BACKGROUND, team="T1"))
    assert t.now == moment
