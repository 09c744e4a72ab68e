"""Webhooks first: background work on meetings waits for a lull in the webhook intake, for a bounded time.

A burst of webhooks (Recall re-syncing every calendar at once) must be answered fast: Svix gives up on a slow
endpoint and retries, which only adds to the burst. The meetings those webhooks change are acted on once the
intake goes quiet, each after at most ``LONGEST`` seconds however long the burst lasts, earliest meetings first.
A member's click never waits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

# The intake is quiet once no webhook has been stored for this long.
QUIET = 0.25
# A meeting never waits longer than this for the quiet (a steady stream of webhooks must not starve it).
LONGEST = 2.0


def seconds_to_wait(
    *, now: float, last_arrival: float | None, waiting_since: float, quiet: float, longest: float
) -> float:
    """How much longer background work waits (0: go now). Times are seconds on one monotonic clock."""
    if last_arrival is None:
        return 0.0
    until_quiet = last_arrival + quiet - now
    until_give_up = waiting_since + longest - now
    return max(0.0, min(until_quiet, until_give_up))


class IntakeLull:
    def __init__(
        self, *, quiet: float = QUIET, longest: float = LONGEST, clock: Callable[[], float] | None = None
    ) -> None:
        self._quiet = quiet
        self._longest = longest
        self._clock = clock
        self._last_arrival: float | None = None

    def _now(self) -> float:
        return self._clock() if self._clock is not None else asyncio.get_running_loop().time()

    def arrived(self) -> None:
        """A webhook was stored."""
        self._last_arrival = self._now()

    async def wait(self) -> None:
        """Until no webhook has been stored for ``quiet`` seconds, or ``longest`` seconds have passed."""
        since = self._now()
        while True:
            pause = seconds_to_wait(
                now=self._now(),
                last_arrival=self._last_arrival,
                waiting_since=since,
                quiet=self._quiet,
                longest=self._longest,
            )
            if pause <= 0:
                return
            await asyncio.sleep(pause)
