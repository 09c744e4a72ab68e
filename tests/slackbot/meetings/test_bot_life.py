"""`bot_life`: Recall's bot and media webhooks folded into a bot's life, in any order, never backwards."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from slackbot.meetings.bot_life import (
    BotLife,
    MediaEvent,
    MediaKind,
    StatusEvent,
    apply_media,
    apply_status,
    expired,
)
from storage.lifecycle import BotPhase, MediaState

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def status(code: str, minutes: float, sub_code: str | None = None) -> StatusEvent:
    return StatusEvent(code, sub_code, at(minutes))


def fold(*events: StatusEvent | MediaEvent, life: BotLife | None = None) -> BotLife:
    life = life or BotLife()
    for event in events:
        life = apply_status(life, event) if isinstance(event, StatusEvent) else apply_media(life, event)
    return life


RECORDING_DONE = MediaEvent(MediaKind.RECORDING, done=True)
RECORDING_FAILED = MediaEvent(MediaKind.RECORDING, done=False, sub_code="recording_failed_upload")
TRANSCRIPT_DONE = MediaEvent(MediaKind.TRANSCRIPT, done=True)
TRANSCRIPT_FAILED = MediaEvent(MediaKind.TRANSCRIPT, done=False)

HAPPY = [
    status("joining_call", 0),
    status("in_waiting_room", 1),
    status("in_call_not_recording", 2),
    status("in_call_recording", 3),
    status("call_ended", 60, "timeout_exceeded_everyone_left"),
    status("done", 61),
]

# (name, events, phase, code, reason (code, sub_code), recorded)
TABLE: list[tuple[str, list[StatusEvent], BotPhase | None, str | None, tuple[str, str] | None, bool]] = [
    ("nothing heard", [], None, None, None, False),
    ("joining", [status("joining_call", 0)], BotPhase.JOINING, "joining_call", None, False),
    ("waiting room", HAPPY[:2], BotPhase.WAITING, "in_waiting_room", None, False),
    ("in the call, not recording", HAPPY[:3], BotPhase.IN_CALL, "in_call_not_recording", None, False),
    ("recording", HAPPY[:4], BotPhase.RECORDING, "in_call_recording", None, True),
    (
        "left: the sub-code is kept to explain",
        HAPPY[:5],
        BotPhase.ENDED,
        "call_ended",
        ("call_ended", "timeout_exceeded_everyone_left"),
        True,
    ),
    (
        "done keeps the reason call_ended gave",
        HAPPY,
        BotPhase.DONE,
        "done",
        ("call_ended", "timeout_exceeded_everyone_left"),
        True,
    ),
    (
        "a late joining_call after done changes nothing",
        [*HAPPY, status("joining_call", 70)],
        BotPhase.DONE,
        "done",
        ("call_ended", "timeout_exceeded_everyone_left"),
        True,
    ),
    (
        "a late in_call_recording after done still says it recorded (a fact that only becomes true)",
        [status("joining_call", 0), status("done", 61), status("in_call_recording", 3)],
        BotPhase.DONE,
        "done",
        None,
        True,
    ),
    (
        "statuses out of order arrive at the same end",
        [HAPPY[5], HAPPY[2], HAPPY[0], HAPPY[4], HAPPY[3], HAPPY[1]],
        BotPhase.DONE,
        "done",
        ("call_ended", "timeout_exceeded_everyone_left"),
        True,
    ),
    (
        "waiting room after the bot got in changes nothing",
        [status("joining_call", 0), status("in_call_recording", 3), status("in_waiting_room", 1)],
        BotPhase.RECORDING,
        "in_call_recording",
        None,
        True,
    ),
    (
        "recording paused: the newer in-call status wins",
        [status("in_call_recording", 3), status("in_call_not_recording", 10)],
        BotPhase.IN_CALL,
        "in_call_not_recording",
        None,
        True,
    ),
    (
        "... and an older in-call status arriving late does not undo the newer one",
        [status("in_call_not_recording", 10), status("in_call_recording", 3)],
        BotPhase.IN_CALL,
        "in_call_not_recording",
        None,
        True,
    ),
    (
        "permission denied, with its Zoom reason",
        [status("in_call_not_recording", 2), status("recording_permission_denied", 3, "zoom_host_not_present")],
        BotPhase.DENIED,
        "recording_permission_denied",
        ("recording_permission_denied", "zoom_host_not_present"),
        False,
    ),
    (
        "permission granted after a refusal: the refusal is no longer the story",
        [status("recording_permission_denied", 3, "zoom_host_not_present"), status("in_call_recording", 5)],
        BotPhase.RECORDING,
        "in_call_recording",
        None,
        True,
    ),
    (
        "fatal before joining",
        [status("joining_call", 0), status("fatal", 1, "meeting_not_found")],
        BotPhase.FATAL,
        "fatal",
        ("fatal", "meeting_not_found"),
        False,
    ),
    (
        "done after fatal: the first end stays, with fatal's reason",
        [status("fatal", 1, "meeting_not_found"), status("done", 2)],
        BotPhase.FATAL,
        "fatal",
        ("fatal", "meeting_not_found"),
        False,
    ),
    (
        "waiting room timeout",
        [status("in_waiting_room", 1), status("call_ended", 11, "timeout_exceeded_waiting_room"), status("done", 12)],
        BotPhase.DONE,
        "done",
        ("call_ended", "timeout_exceeded_waiting_room"),
        False,
    ),
    (
        "codes we do not show (ready, media_expired, one Recall adds later) change nothing",
        [status("joining_call", 0), status("ready", 1), status("analysis_done", 2), status("brand_new_code", 3)],
        BotPhase.JOINING,
        "joining_call",
        None,
        False,
    ),
]


@pytest.mark.parametrize(
    ("name", "events", "phase", "code", "reason", "recorded"), TABLE, ids=[row[0] for row in TABLE]
)
def test_status_table(
    name: str,
    events: list[StatusEvent],
    phase: BotPhase | None,
    code: str | None,
    reason: tuple[str, str] | None,
    recorded: bool,
) -> None:
    life = fold(*events)
    assert life.phase is phase
    assert life.code == code
    assert ((life.reason_code, life.sub_code) if life.reason_code else None) == reason
    assert life.recorded is recorded


@pytest.mark.parametrize("event", HAPPY, ids=[e.code for e in HAPPY])
def test_a_redelivery_gives_back_the_same_value(event: StatusEvent) -> None:
    life = fold(*HAPPY)
    assert apply_status(life, event) == life


def test_every_order_of_the_happy_path_ends_the_same() -> None:
    ends = {fold(*order) for order in itertools.permutations(HAPPY)}
    assert ends == {fold(*HAPPY)}


# (name, events, recording, transcript, recording ready, nothing recorded)
MEDIA: list[tuple[str, list[StatusEvent | MediaEvent], MediaState, MediaState, bool, bool]] = [
    ("recording.done", [*HAPPY[:4], RECORDING_DONE], MediaState.READY, MediaState.NONE, True, False),
    (
        "recording.done before any status (webhooks race)",
        [RECORDING_DONE],
        MediaState.READY,
        MediaState.NONE,
        True,
        False,
    ),
    ("bot.done after recording counts as ready", HAPPY, MediaState.NONE, MediaState.NONE, True, False),
    ("transcript too", [*HAPPY, RECORDING_DONE, TRANSCRIPT_DONE], MediaState.READY, MediaState.READY, True, False),
    (
        "transcript failed, recording fine",
        [*HAPPY, RECORDING_DONE, TRANSCRIPT_FAILED],
        MediaState.READY,
        MediaState.FAILED,
        True,
        False,
    ),
    ("recording failed", [*HAPPY[:5], RECORDING_FAILED], MediaState.FAILED, MediaState.NONE, False, False),
    (
        "a failure after done does not undo a ready recording",
        [RECORDING_DONE, RECORDING_FAILED],
        MediaState.READY,
        MediaState.NONE,
        True,
        False,
    ),
    (
        "... nor a ready transcript",
        [TRANSCRIPT_DONE, TRANSCRIPT_FAILED],
        MediaState.NONE,
        MediaState.READY,
        False,
        False,
    ),
    (
        "done without ever recording",
        [status("in_waiting_room", 1), status("done", 12)],
        MediaState.NONE,
        MediaState.NONE,
        False,
        True,
    ),
    ("fatal", [status("fatal", 1, "meeting_not_found")], MediaState.NONE, MediaState.NONE, False, True),
    ("still in the call: neither", HAPPY[:4], MediaState.NONE, MediaState.NONE, False, False),
]


@pytest.mark.parametrize(
    ("name", "events", "recording", "transcript", "ready", "nothing"), MEDIA, ids=[row[0] for row in MEDIA]
)
def test_media_table(
    name: str,
    events: list[StatusEvent | MediaEvent],
    recording: MediaState,
    transcript: MediaState,
    ready: bool,
    nothing: bool,
) -> None:
    life = fold(*events)
    assert (life.recording, life.transcript) == (recording, transcript)
    assert life.recording_ready is ready
    assert life.nothing_recorded is nothing


def test_the_failed_recordings_sub_code_is_kept() -> None:
    assert fold(RECORDING_FAILED).recording_sub_code == "recording_failed_upload"


def test_expired_media_is_never_ready_again() -> None:
    life = expired(fold(*HAPPY, RECORDING_DONE, TRANSCRIPT_DONE))
    assert (life.recording, life.transcript) == (MediaState.EXPIRED, MediaState.EXPIRED)
    assert not life.recording_ready
    assert fold(RECORDING_DONE, TRANSCRIPT_DONE, life=life) == life
    assert expired(life) is life  # no change, no write


@pytest.mark.parametrize(
    ("phase", "active", "finished"),
    [
        (None, False, False),
        (BotPhase.JOINING, True, False),
        (BotPhase.WAITING, True, False),
        (BotPhase.IN_CALL, True, False),
        (BotPhase.DENIED, True, False),
        (BotPhase.RECORDING, True, False),
        (BotPhase.ENDED, False, True),
        (BotPhase.DONE, False, True),
        (BotPhase.FATAL, False, True),
    ],
)
def test_which_phases_can_be_removed(phase: BotPhase | None, active: bool, finished: bool) -> None:
    life = BotLife(phase=phase)
    assert (life.active, life.finished, life.started) == (active, finished, phase is not None)


def test_a_done_media_event_never_keeps_a_sub_code() -> None:
    life = apply_media(BotLife(), MediaEvent(MediaKind.RECORDING, done=True, sub_code="stale"))
    assert life.recording is MediaState.READY
    assert life.recording_sub_code is None
    assert life.recorded  # a finished recording means the bot recorded


def test_expiry_leaves_a_transcript_that_never_existed_alone() -> None:
    life = expired(fold(*HAPPY, RECORDING_DONE))
    assert (life.recording, life.transcript) == (MediaState.EXPIRED, MediaState.NONE)
