"""What every bot is told when it is scheduled: metadata, transcript, consent notice (pure)."""

from __future__ import annotations

import dataclasses

import pytest

from slackbot.services.bot_config import (
    DEFAULT_CONSENT,
    MAX_CONSENT,
    MAX_METADATA_VALUE,
    BotSetup,
    bot_config,
    consent_notice,
    joined_ids,
)
from slackbot.services.bot_webhooks import event_ids_in

SETUP = BotSetup(
    team_id="T1",
    user_id="U1",
    event_ids=("ev-1", "ev-2"),
    bot_name="Acme Notetaker",
    member_label="ada@acme.test",
    transcript_provider="recallai_streaming",
)


def test_the_config_ties_the_bot_back_to_its_meetings_with_strings_only() -> None:
    config = bot_config(SETUP)
    assert config["bot_name"] == "Acme Notetaker"
    metadata = config["metadata"]
    assert metadata == {
        "source": "recall-slackbot",
        "slack_team_id": "T1",
        "slack_user_id": "U1",
        "recall_event_ids": "ev-1,ev-2",
    }
    assert all(isinstance(v, str) and len(v) <= MAX_METADATA_VALUE for v in metadata.values())
    assert config["recording_config"]["metadata"] == metadata  # recording.* webhooks carry it too
    assert event_ids_in(metadata) == ["ev-1", "ev-2"]


def test_a_transcript_is_made_by_default_and_can_be_turned_off() -> None:
    assert bot_config(SETUP)["recording_config"]["transcript"] == {"provider": {"recallai_streaming": {}}}
    other = dataclasses.replace(SETUP, transcript_provider="meeting_captions")
    assert bot_config(other)["recording_config"]["transcript"] == {"provider": {"meeting_captions": {}}}
    assert "transcript" not in bot_config(dataclasses.replace(SETUP, transcript_provider=None))["recording_config"]


def test_the_consent_notice_is_on_by_default_for_everyone_in_the_chat() -> None:
    chat = bot_config(SETUP)["chat"]["on_bot_join"]
    assert chat["send_to"] == "everyone"
    assert chat["message"] == DEFAULT_CONSENT.replace("{bot}", "Acme Notetaker").replace("{member}", "ada@acme.test")
    assert "Acme Notetaker is recording this meeting for ada@acme.test" in chat["message"]


def test_an_admin_can_word_it_or_turn_it_off() -> None:
    worded = dataclasses.replace(SETUP, consent_text="Recorded by {bot} for {member}. Object in the chat.")
    assert bot_config(worded)["chat"]["on_bot_join"]["message"] == (
        "Recorded by Acme Notetaker for ada@acme.test. Object in the chat."
    )
    assert "chat" not in bot_config(dataclasses.replace(SETUP, consent=False))


def test_the_notice_fits_google_meets_500_characters() -> None:
    assert len(consent_notice("x" * 400 + "{member}", bot_name="B", member="m" * 300)) == MAX_CONSENT


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        ((), ""),
        (("a",), "a"),
        (("a", "b", "c"), "a,b,c"),
        (tuple(f"{i:036d}" for i in range(20)), ",".join(f"{i:036d}" for i in range(13))),
    ],
)
def test_event_ids_fit_in_one_metadata_value(ids: tuple[str, ...], expected: str) -> None:
    joined = joined_ids(ids)
    assert joined == expected
    assert len(joined) <= MAX_METADATA_VALUE


@pytest.mark.parametrize(
    "metadata",
    [
        {},
        {"recall_event_ids": "ev-1"},  # no source: another app's bot
        {"source": "someone-else", "recall_event_ids": "ev-1"},
        {"source": "recall-slackbot", "recall_event_ids": ""},
    ],
)
def test_bots_we_did_not_schedule_name_no_meetings(metadata: dict[str, str]) -> None:
    assert event_ids_in(metadata) == []


def test_our_metadata_without_event_ids_names_no_meetings() -> None:
    """A bot this app scheduled before it wrote `recall_event_ids`."""
    assert event_ids_in({"source": "recall-slackbot", "slack_team_id": "T1"}) == []
