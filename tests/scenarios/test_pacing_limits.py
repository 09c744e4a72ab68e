"""With pacing on (as in production) and FakeSlack holding Slack's published limits, a fan-out that would break
them unpaced (25 new meetings: more than 20 posts to one DM in 20 s) gets every DM out without a single 429."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.conftest import TEAM_ID
from tests.scenarios.harness import Harness
from tests.scenarios.test_meetings import connect, meeting_dms, soon
from tests.twins.fake_recall import FakeRecall
from tests.twins.fake_slack import FakeSlack
from tests.twins.oauth_providers import OidcProviderMock

ADA = "U0ADA00001"
MEETINGS = 25


@pytest.fixture
def paced(
    database_url: str, fake_slack: FakeSlack, fake_recall: FakeRecall, oidc_provider: OidcProviderMock
) -> Iterator[Harness]:
    with Harness(
        database_url=database_url, slack=fake_slack, recall=fake_recall, google=oidc_provider, slack_pacing=True
    ) as harness:
        fake_slack.add_user(TEAM_ID, ADA, name="ada")
        yield harness


def test_a_fan_out_over_the_channel_limit_is_paced_without_429s(paced: Harness) -> None:
    h = paced
    cal = connect(h, ADA, "ada@acme.test")
    for n in range(MEETINGS):
        h.recall.add_event(cal, start_time=soon(30 + n), title=f"Paced {n}")
    started = time.monotonic()
    assert h.webhook(h.recall.sync_events_payload(cal), wait=False).status_code == 200
    h.wait_idle(timeout=60)
    took = time.monotonic() - started

    assert len(meeting_dms(h, ADA)) == MEETINGS
    assert h.slack.rate_limited == []
    # Ten posts a channel at once, then ten per window: the last batch waited for two windows.
    assert took >= 20
