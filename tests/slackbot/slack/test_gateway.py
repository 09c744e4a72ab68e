"""The Slack gateway against the twin: a marked DM is found again in its channel's history, page by page, and a
marked post is never re-sent by the client on a dropped connection (that could post it twice)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError

from slackbot.requester import Requester
from slackbot.slack import gateway as gateway_module
from slackbot.slack.gateway import SlackGateway, outcome_unknown
from slackbot.slack.message import Message
from storage.db import Database
from tests.conftest import BOT_TOKEN, TEAM_ID, TEAM_NAME
from tests.twins.fake_slack import FakeSlack

ADA = "U0ADA00001"
MARK = {"event_type": "recall_meeting", "event_payload": {"recall_event_id": "evt-1"}}
HELLO = Message(text="Weekly sync", blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "Weekly sync"}}])


@pytest.fixture
async def gateway(fake_slack: FakeSlack, database_url: str) -> AsyncIterator[SlackGateway]:
    fake_slack.add_workspace(TEAM_ID, TEAM_NAME, bot_token=BOT_TOKEN)
    fake_slack.add_user(TEAM_ID, ADA, name="ada")
    db = Database.from_url(database_url)
    gw = SlackGateway(api_url=fake_slack.base_url, db=db, bot_token=BOT_TOKEN)
    try:
        yield gw
    finally:
        await gw.aclose()
        await db.dispose()


ADA_IN_ACME = Requester(TEAM_ID, ADA)


async def test_a_marked_dm_is_found_in_its_window_and_only_there(gateway: SlackGateway, fake_slack: FakeSlack) -> None:
    before = time.time()
    posted = await gateway.post_dm(ADA_IN_ACME, HELLO, metadata=MARK)
    found = await gateway.find_posted(
        ADA_IN_ACME, posted.channel, metadata=MARK, oldest=before - 1, latest=time.time() + 1
    )
    assert found == posted
    other = {"event_type": "recall_meeting", "event_payload": {"recall_event_id": "evt-2"}}
    assert (
        await gateway.find_posted(
            ADA_IN_ACME, posted.channel, metadata=other, oldest=before - 1, latest=time.time() + 1
        )
        is None
    )
    assert (
        await gateway.find_posted(ADA_IN_ACME, posted.channel, metadata=MARK, oldest=before - 60, latest=before - 30)
        is None
    )


async def test_the_search_reads_further_pages_but_not_forever(
    gateway: SlackGateway, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gateway_module, "LOOKUP_PAGE_SIZE", 2)
    before = time.time()
    posted = await gateway.post_dm(ADA_IN_ACME, HELLO, metadata=MARK)
    for i in range(5):  # newer DMs in the same window push it to the third page
        await gateway.post_dm(ADA_IN_ACME, Message(text=f"later {i}", blocks=[]))
    window = {"oldest": before - 1, "latest": time.time() + 1}
    assert await gateway.find_posted(ADA_IN_ACME, posted.channel, metadata=MARK, **window) == posted
    assert len(fake_slack.calls_to("conversations.history")) == 3
    await gateway.post_dm(ADA_IN_ACME, Message(text="one more", blocks=[]))
    fake_slack.reset_calls()
    window["latest"] = time.time() + 1
    assert await gateway.find_posted(ADA_IN_ACME, posted.channel, metadata=MARK, **window) is None  # page 4
    assert len(fake_slack.calls_to("conversations.history")) == gateway_module.MAX_LOOKUP_PAGES


async def test_a_marked_post_is_not_resent_when_its_reply_is_lost(gateway: SlackGateway, fake_slack: FakeSlack) -> None:
    fake_slack.lose_next_reply("chat.postMessage")
    left: list[str] = []

    async def leaving(channel: str) -> None:
        left.append(channel)

    with pytest.raises(aiohttp.ClientError) as info:
        await gateway.post_dm(ADA_IN_ACME, HELLO, metadata=MARK, before_send=leaving)
    assert outcome_unknown(info.value)
    assert len(fake_slack.messages()) == 1 and left == [fake_slack.dm_channel(TEAM_ID, ADA)]


async def test_an_answer_even_an_error_means_nothing_was_posted(gateway: SlackGateway, fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", error="internal_error", status=500)
    with pytest.raises(SlackApiError) as info:
        await gateway.post_dm(ADA_IN_ACME, HELLO, metadata=MARK)
    assert not outcome_unknown(info.value) and fake_slack.messages() == []
