"""The meeting's message once its bot set off: live status, why it could not record, the recording's buttons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.models.blocks import Block

from slackbot.blocks.digests import Row, agenda_message
from slackbot.blocks.meeting import meeting_message
from slackbot.ids import ActionId
from slackbot.meetings.bot_life import BotLife, BotShown
from slackbot.meetings.decision import BotState, Decision, MeetingFacts, Reason
from storage.lifecycle import BotPhase, MediaState

START = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
EVENT_ID = "3f1b2c4d-0000-4000-8000-00000000abcd"
FACTS = MeetingFacts(
    title="Quarterly <!channel> review",
    start_time=START,
    end_time=START + timedelta(hours=1),
    meeting_url="https://meet.google.com/abc-defg-hij",
    meeting_platform="google_meet",
    organizer="carol@partner.test",
    is_deleted=False,
    self_response="accepted",
    series_id=None,
)
SCHEDULED = Decision(BotState.SCHEDULED, True, reason=Reason.CLICK)
ENDED = Decision(BotState.ENDED, False, reason=Reason.CALENDAR)


def life(phase: BotPhase, code: str, **more: object) -> BotLife:
    return BotLife(phase=phase, phase_at=START, code=code, **more)  # type: ignore[arg-type]


def shown(bot_life: BotLife, *, removable: bool = True) -> BotShown:
    return BotShown(bot_life, "Acme <b>Notetaker", removable=removable)


def buttons(blocks: list[dict]) -> list[str]:
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


def context(blocks: list[dict]) -> str:
    return " ".join(e["text"] for b in blocks if b["type"] == "context" for e in b["elements"])


RECORDED = {"recorded": True}
# (name, decision, life, removable, buttons, words in the status)
TABLE = [
    (
        "joining: the owner may remove it",
        SCHEDULED,
        life(BotPhase.JOINING, "joining_call"),
        True,
        [ActionId.REMOVE_BOT],
        "is joining",
    ),
    (
        "joining: a colleague sharing it may not",
        SCHEDULED,
        life(BotPhase.JOINING, "joining_call"),
        False,
        [],
        "is joining",
    ),
    (
        "waiting room: admit it",
        SCHEDULED,
        life(BotPhase.WAITING, "in_waiting_room"),
        True,
        [ActionId.REMOVE_BOT],
        "waiting room",
    ),
    (
        "recording",
        SCHEDULED,
        life(BotPhase.RECORDING, "in_call_recording", **RECORDED),
        True,
        [ActionId.REMOVE_BOT],
        "Recording",
    ),
    (
        "zoom refused the recording: the reason and what to do",
        SCHEDULED,
        life(
            BotPhase.DENIED,
            "recording_permission_denied",
            reason_code="recording_permission_denied",
            sub_code="zoom_local_recording_disabled",
        ),
        True,
        [ActionId.REMOVE_BOT],
        "local recording",
    ),
    (
        "still recording after the meeting's end time: still removable",
        ENDED,
        life(BotPhase.RECORDING, "in_call_recording", **RECORDED),
        True,
        [ActionId.REMOVE_BOT],
        "Recording",
    ),
    (
        "done without recording and without a reason",
        ENDED,
        life(BotPhase.DONE, "done"),
        True,
        [],
        "No recording",
    ),
    ("left, processing", ENDED, life(BotPhase.ENDED, "call_ended", **RECORDED), True, [], "left the meeting"),
    (
        "recording ready",
        ENDED,
        life(BotPhase.DONE, "done", recording=MediaState.READY, **RECORDED),
        True,
        [ActionId.GET_RECORDING],
        "Recording ready",
    ),
    (
        "recording and transcript ready, for everyone who shares the bot",
        ENDED,
        life(BotPhase.DONE, "done", recording=MediaState.READY, transcript=MediaState.READY, **RECORDED),
        False,
        [ActionId.GET_RECORDING, ActionId.GET_TRANSCRIPT],
        "transcript ready",
    ),
    (
        "nobody admitted it",
        ENDED,
        life(BotPhase.DONE, "done", reason_code="call_ended", sub_code="timeout_exceeded_waiting_room"),
        True,
        [],
        "admit",
    ),
    (
        "could not join: bad link",
        SCHEDULED,
        life(BotPhase.FATAL, "fatal", reason_code="fatal", sub_code="meeting_not_found"),
        True,
        [],
        "meeting link",
    ),
    (
        "an unknown sub-code: a generic sentence that names it, never an error",
        SCHEDULED,
        life(BotPhase.FATAL, "fatal", reason_code="fatal", sub_code="brand_new_<code>"),
        True,
        [],
        "brand_new_&lt;code&gt;",
    ),
    (
        "recording failed",
        ENDED,
        life(BotPhase.DONE, "done", recording=MediaState.FAILED, **RECORDED),
        True,
        [],
        "Recording failed",
    ),
    (
        "recording expired",
        ENDED,
        life(BotPhase.DONE, "done", recording=MediaState.EXPIRED, **RECORDED),
        True,
        [],
        "Recording expired",
    ),
]


@pytest.mark.parametrize(
    ("name", "decision", "bot_life", "removable", "expected", "words"), TABLE, ids=[row[0] for row in TABLE]
)
def test_the_message_follows_the_bot(
    name: str, decision: Decision, bot_life: BotLife, removable: bool, expected: list[ActionId], words: str
) -> None:
    message = meeting_message(FACTS, decision, event_id=EVENT_ID, bot=shown(bot_life, removable=removable))
    for block in message.blocks:
        assert Block.parse(block).to_dict() == block  # valid Block Kit
    assert buttons(message.blocks) == [a.value for a in expected]
    assert all(e["value"] == EVENT_ID for b in message.blocks if b["type"] == "actions" for e in b["elements"])
    status = context(message.blocks)
    assert words in status
    assert "<b>" not in status and "<!channel>" not in str(message.blocks)  # names and titles are escaped
    assert "http" not in status  # no download URL is ever part of a message


def test_the_scheduling_buttons_go_once_the_bot_set_off() -> None:
    before = meeting_message(FACTS, SCHEDULED, event_id=EVENT_ID)
    assert ActionId.UNDO_CHOICE.value in buttons(before.blocks)
    after = meeting_message(FACTS, SCHEDULED, event_id=EVENT_ID, bot=shown(life(BotPhase.JOINING, "joining_call")))
    assert ActionId.UNDO_CHOICE.value not in buttons(after.blocks)
    assert before.digest() != after.digest()


def test_each_change_the_member_sees_changes_the_digest_and_nothing_else_does() -> None:
    joining = meeting_message(FACTS, SCHEDULED, event_id=EVENT_ID, bot=shown(life(BotPhase.JOINING, "joining_call")))
    again = meeting_message(FACTS, SCHEDULED, event_id=EVENT_ID, bot=shown(life(BotPhase.JOINING, "joining_call")))
    assert joining.digest() == again.digest()
    recording = meeting_message(
        FACTS, SCHEDULED, event_id=EVENT_ID, bot=shown(life(BotPhase.RECORDING, "in_call_recording"))
    )
    assert recording.digest() != joining.digest()


def test_the_fallback_text_says_where_the_bot_is() -> None:
    ready = life(BotPhase.DONE, "done", recording=MediaState.READY, recorded=True)
    assert meeting_message(FACTS, ENDED, event_id=EVENT_ID, bot=shown(ready)).text.endswith("recording ready")
    waiting = life(BotPhase.WAITING, "in_waiting_room")
    assert "waiting to be admitted" in meeting_message(FACTS, SCHEDULED, event_id=EVENT_ID, bot=shown(waiting)).text


def test_an_agenda_row_shows_the_bot_and_its_buttons_too() -> None:
    ready = life(BotPhase.DONE, "done", recording=MediaState.READY, recorded=True)
    message = agenda_message(day=START.date(), rows=[Row(EVENT_ID, FACTS, ENDED, shown(ready))])
    assert buttons(message.blocks) == [ActionId.GET_RECORDING.value]
    assert "Recording ready" in str(message.blocks)
