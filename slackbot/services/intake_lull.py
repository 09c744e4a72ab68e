"""Webhooks first: during a burst of webhooks, background work on meetings waits for it to pass, for a bounded time.

A burst (Recall re-syncing every calendar at once) must be answered fast: Svix gives up on a slow endpoint and
retries, which only adds to the burst. The meetings those webhooks change are acted on once the burst has passed,
each after at most ``LONGEST`` seconds of waiting however long the burst lasts, earliest meetings first. A steady
trickle of webhooks is no burst: nothing waits for it. A member's click never waits.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence

# A burst: at least BUSY_AT webhooks stored within the last WINDOW seconds. A steady trickle (a few a second), or
# every calendar of a small workspace at once (tens), is not one: their meetings go at once.
WINDOW = 1.0
BUSY_AT = 100
# A meeting never waits longer than this for a burst to pass (a burst that never ends must not starve it).
LONGEST = 2.0


def seconds_to_wait(
    *, now: float, arrivals: Sequence[float], waiting_since: float, window: float, busy_at: int, longest: float
) -> float:
    """How much longer background work waits (0: go now). ``arrivals``: when webhooks were stored, oldest first;
    all times are seconds on one monotonic clock."""
    recent = [t for t in arrivals if t > now - window]
    if len(recent) < busy_at:
        return 0.0
    # Busy until enough of them have left the window to bring it below `busy_at`.
    until_calm = recent[len(recent) - busy_at] + window - now
    until_give_up = waiting_since + longest - now
    return max(0.0, min(until_calm, until_give_up))


class IntakeLull:
    def __init__(
        self,
        *,
        window: float = WINDOW,
        busy_at: int = BUSY_AT,
        longest: float = LONGEST,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._window = window
        self._busy_at = busy_at
        self._longest = longest
        self._clock = clock
        self._arrivals: deque[float] = deque(maxlen=busy_at)  # the last few are all a decision needs

    def _now(self) -> float:
        return self._clock() if self._clock is not None else asyncio.get_running_loop().time()

    def arrived(self) -> None:
        """A webhook was stored."""
        self._arrivals.append(self._now())

    async def wait(self) -> None:
        """Until the intake is not in a burst, or ``longest`` seconds have passed."""
        since = self._now()
        while True:
            pause = seconds_to_wait(
                now=self._now(),
                arrivals=self._arrivals,
                waiting_since=since,
                window=self._window,
                busy_at=self._busy_at,
                longest=self._longest,
            )
            if pause <= 0:
                return
            await asyncio.sleep(pause)
