"""Fixtures: a started FakeRecall (checked for contract violations on teardown) and a client on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from recall.client import RecallClient
from tests.twins.fake_recall import FakeRecall


class RecordingSleep:
    """Stands in for ``asyncio.sleep``: records each delay, optionally advances a fake clock."""

    def __init__(self, fake: FakeRecall | None = None) -> None:
        self.delays: list[float] = []
        self._fake = fake

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        if self._fake is not None:
            self._fake.advance(delay)


@pytest.fixture
def fake_recall() -> Iterator[FakeRecall]:
    with FakeRecall() as fake:
        yield fake
        # Tests that break the contract on purpose clear fake.violations themselves.
        fake.assert_no_violations()


@pytest.fixture
def sleeper() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
async def recall(fake_recall: FakeRecall, sleeper: RecordingSleep) -> AsyncIterator[RecallClient]:
    async with RecallClient(
        api_key=fake_recall.api_key,
        base_url=fake_recall.base_url,
        sleep=sleeper,
        jitter=lambda upper: 0.0,
    ) as client:
        yield client
