"""Pacing the app's own Slack calls under Slack's published limits, per workspace and method, in two lanes.

Slack limits Web API methods per workspace (https://docs.slack.dev/apis/web-api/rate-limits): `chat.update` and
`conversations.open` are Tier 3 (about 50 a minute), `views.publish` and `users.info` Tier 4 (about 100),
`chat.postMessage` one message a second per channel with short bursts, plus a workspace-wide budget Slack does
not publish as a number. Pacing before calling is cheaper than a 429 and its Retry-After.

Two lanes: a member waiting on their own click, command or Home tab (MEMBER) never queues behind background work
(syncs, agendas, Home refreshes: BACKGROUND). The member lane has its own share of each budget and may also take
from the background's when its own is spent; together they never exceed the method's limit.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from enum import StrEnum

# Per workspace, per minute.
TIER_3 = 50
TIER_4 = 100
DEFAULT_POSTS_PER_MINUTE = 300
PER_CHANNEL_POSTS_PER_SECOND = 1.0
PER_CHANNEL_BURST = 10
MEMBER_SHARE = 0.2
# Bursts Slack tolerates: this many seconds' worth of a lane's budget may go at once.
BURST_SECONDS = 15.0


def method_limits(*, posts_per_minute: int = DEFAULT_POSTS_PER_MINUTE) -> dict[str, int]:
    return {
        "chat.update": TIER_3,
        "conversations.open": TIER_3,
        "views.publish": TIER_4,
        "users.info": TIER_4,
        "chat.postMessage": posts_per_minute,
    }


class Lane(StrEnum):
    MEMBER = "member"  # a member is waiting: their click, command or Home tab
    BACKGROUND = "background"  # syncs, agendas, reminders, Home refreshes


class Bucket:
    """A token bucket: ``rate`` tokens a second, at most ``capacity`` saved up."""

    def __init__(self, *, rate: float, capacity: float, clock: Callable[[], float]) -> None:
        self.rate = rate
        self.capacity = max(capacity, 1.0)
        self.tokens = self.capacity
        self._clock = clock
        self._stamp = clock()

    def _refill(self) -> None:
        now = self._clock()
        self.tokens = min(self.capacity, self.tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def try_take(self) -> bool:
        self._refill()
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def wait_for_one(self) -> float:
        """Seconds until a token is there."""
        self._refill()
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate


class SlackPacer:
    def __init__(
        self,
        *,
        limits: Mapping[str, int] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._limits = dict(limits if limits is not None else method_limits())
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[tuple[str, str, Lane], Bucket] = {}
        self._channels: dict[tuple[str, str], Bucket] = {}
        self._locks: dict[tuple[str, str, Lane], asyncio.Lock] = {}

    def _bucket(self, team_id: str, method: str, lane: Lane) -> Bucket | None:
        per_minute = self._limits.get(method)
        if per_minute is None:
            return None
        key = (team_id, method, lane)
        if key not in self._buckets:
            share = MEMBER_SHARE if lane is Lane.MEMBER else 1 - MEMBER_SHARE
            rate = per_minute * share / 60.0
            self._buckets[key] = Bucket(rate=rate, capacity=rate * BURST_SECONDS, clock=self._clock)
        return self._buckets[key]

    def _channel_bucket(self, team_id: str, channel: str) -> Bucket:
        key = (team_id, channel)
        if key not in self._channels:
            self._channels[key] = Bucket(
                rate=PER_CHANNEL_POSTS_PER_SECOND, capacity=PER_CHANNEL_BURST, clock=self._clock
            )
        return self._channels[key]

    async def wait(self, team_id: str, method: str, *, lane: Lane, channel: str | None = None) -> None:
        """Until the call may go without exceeding the workspace's limit for ``method``."""
        own = self._bucket(team_id, method, lane)
        if own is not None:
            lock = self._locks.setdefault((team_id, method, lane), asyncio.Lock())
            async with lock:  # one waiter per lane at a time: first come, first served within the lane
                borrow = self._bucket(team_id, method, Lane.BACKGROUND) if lane is Lane.MEMBER else None
                while not own.try_take():
                    if borrow is not None and borrow.try_take():
                        break
                    await self._sleep(own.wait_for_one())
        if method == "chat.postMessage" and channel:
            bucket = self._channel_bucket(team_id, channel)
            while not bucket.try_take():
                await self._sleep(bucket.wait_for_one())
