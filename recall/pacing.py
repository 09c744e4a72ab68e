"""Client-side pacing for Recall's list endpoints (60 calls a minute for the whole Recall workspace).

Pacing before sending is cheaper than a 429 and a Retry-After sleep, and leaves room for other processes.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

WINDOW_SECONDS = 60.0


class Pacer:
    """At most ``per_minute`` calls in any 60-second window; callers wait their turn."""

    def __init__(
        self,
        per_minute: int,
        *,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be >= 1")
        self._limit = per_minute
        self._sleep = sleep
        self._clock = clock
        self._sent: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def wait_turn(self) -> None:
        async with self._lock:
            while True:
                now = self._clock()
                while self._sent and now - self._sent[0] >= WINDOW_SECONDS:
                    self._sent.popleft()
                if len(self._sent) < self._limit:
                    self._sent.append(now)
                    return
                await self._sleep(WINDOW_SECONDS - (now - self._sent[0]))
