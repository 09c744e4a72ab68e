"""Pacing the app's own Slack calls under Slack's published limits, per workspace and method, in two lanes.

Slack limits Web API methods per workspace (https://docs.slack.dev/apis/web-api/rate-limits): `chat.update` and
`conversations.open` are Tier 3 (about 50 a minute), `views.publish` and `users.info` Tier 4 (about 100),
`conversations.history` Tier 3 for an app a company builds for itself (an app distributed outside the Marketplace
gets 1 a minute; its 429 and Retry-After are honoured like any other),
`chat.postMessage` one message a second per channel with short bursts, plus a workspace-wide budget Slack does
not publish as a number. Pacing before calling is cheaper than a 429 and its Retry-After.

Each limit is a sliding window, the way a limiter counting calls per minute sees them: never more than the limit
in any 60 seconds (a burst up to the limit goes at once), never more than 10 posts in any 10 seconds to one
channel (one a second on average). A token bucket would let its saved-up burst and a minute's refill through in
the same minute, over the limit.

Two lanes: a member waiting on their own click, command or Home tab (MEMBER) never queues behind background work
(syncs, agendas, Home refreshes: BACKGROUND). Background work may use the limit minus a reserve kept for members;
a member may use all of it. Together they never exceed the method's limit.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from enum import StrEnum

# Per workspace, per minute.
TIER_3 = 50
TIER_4 = 100
DEFAULT_POSTS_PER_MINUTE = 300
WINDOW_SECONDS = 60.0
# Per channel: at most this many posts in any this many seconds.
PER_CHANNEL_POSTS = 10
PER_CHANNEL_SECONDS = 10.0
# Slack counts a call when it arrives, which may be later than when we let it go: each window is held this much
# longer than its nominal length, so calls that arrive unevenly late never look like one too many.
MARGIN_SECONDS = 1.0
# The share of each limit the background lane leaves to members' own requests.
MEMBER_SHARE = 0.2


class Lane(StrEnum):
    MEMBER = "member"  # a member is waiting: their click, command or Home tab
    BACKGROUND = "background"  # syncs, agendas, reminders, Home refreshes


def method_limits(*, posts_per_minute: int = DEFAULT_POSTS_PER_MINUTE) -> dict[str, int]:
    return {
        "chat.update": TIER_3,
        "conversations.open": TIER_3,
        "conversations.history": TIER_3,
        "views.publish": TIER_4,
        "users.info": TIER_4,
        "chat.postMessage": posts_per_minute,
    }


def lane_cap(limit: int, lane: Lane) -> int:
    """How many of a window's ``limit`` calls ``lane`` may make: members all, the background all but a reserve."""
    if lane is Lane.MEMBER:
        return limit
    return max(1, limit - math.ceil(limit * MEMBER_SHARE))


class Window:
    """The calls made in the last ``seconds`` (a sliding log)."""

    def __init__(self, *, seconds: float, clock: Callable[[], float]) -> None:
        self.seconds = seconds
        self._clock = clock
        self._stamps: deque[float] = deque()

    def _trim(self, now: float) -> None:
        while self._stamps and now - self._stamps[0] >= self.seconds:
            self._stamps.popleft()

    def wait_for(self, cap: int) -> float:
        """Seconds until fewer than ``cap`` calls are in the window (0: one may go now)."""
        now = self._clock()
        self._trim(now)
        if len(self._stamps) < cap:
            return 0.0
        return self._stamps[len(self._stamps) - cap] + self.seconds - now

    def take(self) -> None:
        self._stamps.append(self._clock())


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
        self._windows: dict[tuple[str, str], Window] = {}
        self._channels: dict[tuple[str, str], Window] = {}
        self._locks: dict[tuple[str, str, Lane], asyncio.Lock] = {}

    async def _wait_for_room(self, window: Window, cap: int) -> None:
        while (delay := window.wait_for(cap)) > 0:
            await self._sleep(delay)
        window.take()

    async def wait(self, team_id: str, method: str, *, lane: Lane, channel: str | None = None) -> None:
        """Until the call may go without exceeding the workspace's limit for ``method``."""
        limit = self._limits.get(method)
        if limit is not None:
            window = self._windows.setdefault(
                (team_id, method), Window(seconds=WINDOW_SECONDS + MARGIN_SECONDS, clock=self._clock)
            )
            lock = self._locks.setdefault((team_id, method, lane), asyncio.Lock())
            async with lock:  # first come, first served within the lane
                await self._wait_for_room(window, lane_cap(limit, lane))
        if method == "chat.postMessage" and channel:
            per_channel = self._channels.setdefault(
                (team_id, channel), Window(seconds=PER_CHANNEL_SECONDS + MARGIN_SECONDS, clock=self._clock)
            )
            await self._wait_for_room(per_channel, PER_CHANNEL_POSTS)
