"""What happened to a meeting's bot after it was scheduled: a pure fold of Recall's bot and media webhooks.

Recall's webhooks arrive late, twice or out of order (Svix retries), so each one is applied with `apply()`, which
never moves the bot backwards: a late `joining_call` after `done` changes nothing, a redelivery gives back the same
value. Facts that only ever become true (the bot recorded, the recording is ready) are kept whatever order they
come in. The words for each state live in `words.bot_status`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from storage.lifecycle import BotPhase, MediaState

# Recall's status codes (v1.11 `bot.<code>` events and the legacy `bot.status_change`) and the phase each means.
PHASES: dict[str, BotPhase] = {
    "joining_call": BotPhase.JOINING,
    "in_waiting_room": BotPhase.WAITING,
    "in_call_not_recording": BotPhase.IN_CALL,
    "recording_permission_allowed": BotPhase.IN_CALL,
    "recording_permission_denied": BotPhase.DENIED,
    "in_call_recording": BotPhase.RECORDING,
    "call_ended": BotPhase.ENDED,
    "done": BotPhase.DONE,
    "fatal": BotPhase.FATAL,
}

# How far along each phase is. Within the call (rank 3) the bot moves back and forth (recording paused, permission
# granted after a refusal): there the newer status wins. DONE and FATAL are both the end: the first one stays.
RANK: dict[BotPhase, int] = {
    BotPhase.JOINING: 1,
    BotPhase.WAITING: 2,
    BotPhase.IN_CALL: 3,
    BotPhase.DENIED: 3,
    BotPhase.RECORDING: 3,
    BotPhase.ENDED: 4,
    BotPhase.DONE: 5,
    BotPhase.FATAL: 5,
}
IN_CALL_RANK = 3

# The bot is on its way or in the meeting: it can be told to leave, and the meeting's choices are closed.
ACTIVE = frozenset({BotPhase.JOINING, BotPhase.WAITING, BotPhase.IN_CALL, BotPhase.DENIED, BotPhase.RECORDING})
# Statuses whose sub-code says why the bot could not record or left.
EXPLAINED = frozenset({"call_ended", "fatal", "recording_permission_denied"})


class MediaKind(StrEnum):
    RECORDING = "recording"
    TRANSCRIPT = "transcript"


@dataclass(frozen=True)
class StatusEvent:
    """A bot status from a webhook: Recall's code, its sub-code and when Recall set it."""

    code: str
    sub_code: str | None
    at: datetime


@dataclass(frozen=True)
class MediaEvent:
    """A recording or transcript finished (``done``) or failed."""

    kind: MediaKind
    done: bool
    sub_code: str | None = None


@dataclass(frozen=True)
class BotLife:
    phase: BotPhase | None = None  # None: no status heard yet (the bot is scheduled and waits for the meeting)
    phase_at: datetime | None = None
    code: str | None = None  # Recall's own code for the phase (e.g. recording_permission_allowed)
    # The status whose sub-code explains the latest trouble (call_ended, fatal, recording_permission_denied).
    reason_code: str | None = None
    sub_code: str | None = None
    recorded: bool = False  # the bot reached in_call_recording at least once
    recording: MediaState = MediaState.NONE
    recording_sub_code: str | None = None
    transcript: MediaState = MediaState.NONE

    @property
    def started(self) -> bool:
        return self.phase is not None

    @property
    def active(self) -> bool:
        return self.phase in ACTIVE

    @property
    def finished(self) -> bool:
        return self.phase in (BotPhase.ENDED, BotPhase.DONE, BotPhase.FATAL)

    @property
    def recording_ready(self) -> bool:
        """`recording.done`, or `bot.done` after the bot recorded: Recall has uploaded the video by then."""
        if self.recording is MediaState.READY:
            return True
        return self.recording is MediaState.NONE and self.phase is BotPhase.DONE and self.recorded

    @property
    def nothing_recorded(self) -> bool:
        """The bot's life is over and it never recorded (nobody admitted it, it could not join, ...)."""
        return self.phase in (BotPhase.DONE, BotPhase.FATAL) and not self.recorded and not self.recording_ready


def apply_status(life: BotLife, event: StatusEvent) -> BotLife:
    phase = PHASES.get(event.code)
    if phase is None:
        return life  # a code we do not show (ready, media_expired, analysis_done, one Recall added later)
    recorded = life.recorded or phase is BotPhase.RECORDING
    if not _moves_forward(life, phase, event.at):
        late = replace(life, recorded=recorded)
        if life.finished and life.reason_code is None and event.code in EXPLAINED and event.sub_code:
            # `call_ended` (why it left) arrived after `done`: the bot stays done, the reason is still news.
            late = replace(late, reason_code=event.code, sub_code=event.sub_code)
        return late if late != life else life
    reason_code, sub_code = life.reason_code, life.sub_code
    if event.code in EXPLAINED:
        if event.sub_code or reason_code is None:
            reason_code, sub_code = event.code, event.sub_code
    elif RANK[phase] <= IN_CALL_RANK:
        reason_code, sub_code = None, None  # back in the call and fine (permission granted after all)
    return replace(
        life,
        phase=phase,
        phase_at=event.at,
        code=event.code,
        reason_code=reason_code,
        sub_code=sub_code,
        recorded=recorded,
    )


def _moves_forward(life: BotLife, phase: BotPhase, at: datetime) -> bool:
    if life.phase is None:
        return True
    old, new = RANK[life.phase], RANK[phase]
    if new != old:
        return new > old
    if new == IN_CALL_RANK and life.phase_at is not None:
        return at > life.phase_at
    return False


def apply_media(life: BotLife, event: MediaEvent) -> BotLife:
    """A ready recording or transcript stays ready: a failure of another recording of the same bot does not undo
    it. Only Recall deleting the media (`expired`) does."""
    state = MediaState.READY if event.done else MediaState.FAILED
    if event.kind is MediaKind.RECORDING:
        if life.recording in (MediaState.READY, MediaState.EXPIRED) or life.recording is state:
            return life
        sub_code = None if event.done else event.sub_code
        return replace(life, recording=state, recording_sub_code=sub_code, recorded=life.recorded or event.done)
    if life.transcript in (MediaState.READY, MediaState.EXPIRED) or life.transcript is state:
        return life
    return replace(life, transcript=state)


def expired(life: BotLife) -> BotLife:
    """Recall no longer has the media (its retention ran out, or it was deleted)."""
    changed = replace(
        life,
        recording=MediaState.EXPIRED,
        transcript=MediaState.EXPIRED if life.transcript is not MediaState.NONE else MediaState.NONE,
    )
    return life if changed == life else changed


@dataclass(frozen=True)
class BotShown:
    """What one member's message shows of the meeting's bot."""

    life: BotLife
    bot_name: str
    removable: bool = False  # the reader is the member who scheduled it (only they may make it leave)
    dedup_key: str | None = None  # the key Recall scheduled it under
