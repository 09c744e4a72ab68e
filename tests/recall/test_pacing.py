"""The list-call pacer keeps any 60-second window at or under its limit."""

from __future__ import annotations

from recall.pacing import Pacer


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_calls_beyond_the_limit_wait_for_the_window() -> None:
    t = FakeTime()
    pacer = Pacer(3, sleep=t.sleep, clock=t.clock)
    stamps = []
    for _ in range(7):
        await pacer.wait_turn()
        stamps.append(t.now)
        t.now += 1.0
    assert t.slept, "the fourth call should have waited"
    for i, stamp in enumerate(stamps):
        in_window = [s for s in stamps if stamp <= s < stamp + 60]
        assert len(in_window) <= 3, (i, stamps)


async def test_no_wait_under_the_limit() -> None:
    t = FakeTime()
    pacer = Pacer(50, sleep=t.sleep, clock=t.clock)
    for _ in range(50):
        await pacer.wait_turn()
    assert t.slept == []
