"""`bot_webhooks.fold`: each parsed webhook kind moves the bot's life the right way (pure, table-tested)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from recall.bot_events import BotEvent, BotEventKind
from slackbot.meetings.bot_life import BotLife
from slackbot.services.bot_webhooks import MAX_SUB_CODE, fold
from storage.lifecycle import BotPhase, MediaState

AT = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
ENDED = BotLife(phase=BotPhase.ENDED, phase_at=AT, code="call_ended", recorded=True)


def event(kind: BotEventKind, code: str = "done", sub_code: str | None = None) -> BotEvent:
    return BotEvent(kind, "bot-1", code, sub_code, AT, {})


# (name, before, webhook, phase, recording, transcript, recorded)
TABLE = [
    ("a status", BotLife(), event(BotEventKind.STATUS, "in_waiting_room"), BotPhase.WAITING, "none", "none", False),
    (
        "recording.done before bot.done",
        ENDED,
        event(BotEventKind.RECORDING_DONE),
        BotPhase.ENDED,
        "ready",
        "none",
        True,
    ),
    ("recording.done first of all", BotLife(), event(BotEventKind.RECORDING_DONE), None, "ready", "none", True),
    ("recording.failed", ENDED, event(BotEventKind.RECORDING_FAILED, "failed"), BotPhase.ENDED, "failed", "none", True),
    ("transcript.done", ENDED, event(BotEventKind.TRANSCRIPT_DONE), BotPhase.ENDED, "none", "ready", True),
    (
        "transcript.failed",
        ENDED,
        event(BotEventKind.TRANSCRIPT_FAILED, "failed"),
        BotPhase.ENDED,
        "none",
        "failed",
        True,
    ),
]


@pytest.mark.parametrize(
    ("name", "before", "webhook", "phase", "recording", "transcript", "recorded"), TABLE, ids=[r[0] for r in TABLE]
)
def test_fold(
    name: str,
    before: BotLife,
    webhook: BotEvent,
    phase: BotPhase | None,
    recording: str,
    transcript: str,
    recorded: bool,
) -> None:
    after = fold(before, webhook)
    assert after.phase is phase
    assert (after.recording, after.transcript) == (MediaState(recording), MediaState(transcript))
    assert after.recorded is recorded


def test_recording_ready_shows_as_soon_as_recording_done_arrives() -> None:
    assert not ENDED.recording_ready
    assert fold(ENDED, event(BotEventKind.RECORDING_DONE)).recording_ready


def test_the_failed_recordings_sub_code_is_kept_and_a_done_one_has_none() -> None:
    failed = fold(ENDED, event(BotEventKind.RECORDING_FAILED, "failed", "storage_error"))
    assert failed.recording_sub_code == "storage_error"
    assert fold(ENDED, event(BotEventKind.RECORDING_DONE, sub_code="stale")).recording_sub_code is None


def test_codes_and_sub_codes_are_cut_to_what_the_database_holds() -> None:
    after = fold(BotLife(), event(BotEventKind.STATUS, "fatal", "x" * 500))
    assert after.code == "fatal"
    assert after.sub_code == "x" * MAX_SUB_CODE
    unknown = fold(BotLife(phase=BotPhase.JOINING, code="joining_call"), event(BotEventKind.STATUS, "y" * 500))
    assert unknown.code == "joining_call"  # an unknown code changes nothing (only known, short codes are kept)
