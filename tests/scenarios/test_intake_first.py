"""Webhooks first: during a burst of webhooks, the meetings they change wait for it to pass (at most a couple of
seconds each); the listing does not wait, and neither does a member's click (issue #9)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from slackbot.services.intake_lull import IntakeLull
from tests.conftest import TEAM_ID
from tests.scenarios.conftest import ADA, BOB
from tests.scenarios.harness import Harness
from tests.scenarios.test_meetings import buttons, connect, message_for, soon
from tests.twins.fake_recall import FakeRecall
from tests.twins.fake_slack import FakeSlack
from tests.twins.oauth_providers import OidcProviderMock

LIST_PATH = "/api/v2/calendar-events/"


class Stopwatch:
    """The lull's clock: stands still unless moved, so a burst lasts for as long as a test needs (every webhook is one:
    `busy_at=1`)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def watch() -> Stopwatch:
    return Stopwatch()


@pytest.fixture
def busy(
    database_url: str, fake_slack: FakeSlack, fake_recall: FakeRecall, oidc_provider: OidcProviderMock, watch: Stopwatch
) -> Iterator[Harness]:
    with Harness(
        database_url=database_url,
        slack=fake_slack,
        recall=fake_recall,
        google=oidc_provider,
        lull=IntakeLull(window=0.5, busy_at=1, longest=3600, clock=watch),
    ) as harness:
        fake_slack.add_user(TEAM_ID, ADA, name="ada")
        fake_slack.add_user(TEAM_ID, BOB, name="bob")
        yield harness


def until(condition, timeout: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_meetings_wait_for_a_burst_to_pass_but_the_listing_and_a_click_do_not(busy: Harness, watch: Stopwatch) -> None:
    h = busy
    cal = connect(h, ADA, "ada@acme.test")
    first = h.recall.add_event(cal, start_time=soon(2), title="Design review")
    h.webhook(h.recall.sync_events_payload(cal), wait=False)
    watch.now += 1  # the burst has passed
    h.wait_idle()
    message = message_for(h, ADA, first["id"])

    # A webhook arrives and the intake stays busy (the clock stands still after it).
    second = h.recall.add_event(cal, start_time=soon(3), title="Retro")
    listings = h.recall.count("GET", LIST_PATH)
    assert h.webhook(h.recall.sync_events_payload(cal), wait=False).status_code == 200
    assert until(lambda: h.recall.count("GET", LIST_PATH) > listings), "the listing waited for the burst to pass"
    time.sleep(0.5)
    assert not any(second["id"] in str(m.blocks) for m in h.dms(ADA)), "a meeting was acted on mid-burst"

    # A member's click is answered at once, burst or not.
    response, _ = h.click(action_id="schedule_bot", value=first["id"], user_id=ADA, message=message)
    assert response.status_code == 200
    assert h.recall.bot_for_event(first["id"]) is not None
    assert buttons(message_for(h, ADA, first["id"])) == ["undo_choice"]

    # The burst passes: the waiting meeting gets its DM.
    watch.now += 1
    h.wait_idle()
    assert "Retro" in message_for(h, ADA, second["id"]).text


def test_a_click_updates_colleagues_sharing_the_bot_without_waiting(busy: Harness, watch: Stopwatch) -> None:
    h = busy
    ada_cal = connect(h, ADA, "ada@acme.test")
    bob_cal = connect(h, BOB, "bob@acme.test")
    start, url = soon(30), "https://meet.google.com/abc-defg-hij"
    ada_event = h.recall.add_event(ada_cal, start_time=start, meeting_url=url, title="Shared")
    bob_event = h.recall.add_event(bob_cal, start_time=start, meeting_url=url, title="Shared")
    for cal in (ada_cal, bob_cal):
        h.webhook(h.recall.sync_events_payload(cal), wait=False)
        watch.now += 1
        h.wait_idle()

    h.webhook(h.recall.sync_events_payload(bob_cal), wait=False)  # the intake is busy from here on
    click = threading.Thread(
        target=h.click, kwargs={"action_id": "schedule_bot", "value": ada_event["id"], "user_id": ADA}
    )
    click.start()
    click.join(10)
    answered = not click.is_alive()
    watch.now += 1  # the burst passes, so a click held by it finishes either way
    click.join(10)
    assert answered, "the click waited for the burst to pass"
    assert f"<@{ADA}>" in str(message_for(h, BOB, bob_event["id"]).blocks)
    h.wait_idle()
