"""The lifecycle of each thing the app works through, one explicit status enum per thing.

A row's status says what happens to it next; the queries that find work select by status (and by the
time it is due), never by re-deriving a decision from other columns.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum


class ReconcileStatus(StrEnum):
    """A member's meeting: are its bot and its message in line with what the calendar and the member say?"""

    PENDING = "pending"  # something changed (facts, choice, a colleague's bot, the calendar): act on it now
    RETRYING = "retrying"  # the last attempt failed (Recall or Slack refused): try again at `due_at`
    SETTLED = "settled"  # in line; `due_at` is when the message goes stale by itself (the meeting ends), or None


class ReminderStatus(StrEnum):
    """The one reminder before an undecided meeting."""

    NONE = "none"  # not sent (yet)
    SENDING = "sending"  # one process claimed it and is posting it
    SENT = "sent"  # posted; kept in line with the meeting like its other messages
    MISSED = "missed"  # too late to be useful (the meeting starts in under 10 minutes, or has)


class AlertStatus(StrEnum):
    """The one DM that needs the member now: their bot waits in the meeting's waiting room to be admitted."""

    NONE = "none"  # not sent
    SENDING = "sending"  # claimed by the process posting it (at most once: a crash mid-post does not send it twice)
    SENT = "sent"


class BotPhase(StrEnum):
    """Where a meeting's bot is in its life, from Recall's status webhooks (see `slackbot.meetings.bot_life`)."""

    JOINING = "joining"
    WAITING = "waiting"  # in the waiting room: someone must admit it
    IN_CALL = "in_call"  # in the meeting, not recording (yet)
    DENIED = "denied"  # in the meeting, the host's settings refused the recording
    RECORDING = "recording"
    ENDED = "ended"  # left the call; the recording is being processed
    DONE = "done"  # shut down
    FATAL = "fatal"  # could not join or record at all


class MediaState(StrEnum):
    """A bot's recording or transcript."""

    NONE = "none"  # not ready (yet)
    READY = "ready"
    FAILED = "failed"
    EXPIRED = "expired"  # Recall deleted it (retention)


class DigestKind(StrEnum):
    """Messages that show several meetings at once."""

    AGENDA = "agenda"  # the daily agenda
    SUMMARY = "summary"  # the one message a member gets on connecting a calendar


class DeliveryStatus(StrEnum):
    """A stored Recall webhook."""

    PENDING = "pending"  # stored, not processed yet (or released for another try at `due_at`)
    DONE = "done"  # processed
    ABANDONED = "abandoned"  # failed on every try; kept with its last error for the operator


class SyncStatus(StrEnum):
    """A Recall calendar's event listing."""

    IDLE = "idle"  # every announced change has been listed
    DUE = "due"  # a webhook (or the catch-up job) asked for a listing; run it from `cursor` at `due_at`


def backoff(attempts: int, *, first: timedelta, cap: timedelta) -> timedelta:
    """How long a failed thing waits before its next try: `first`, twice that, four times ... after 1, 2, 3 ...
    failed attempts in a row, never more than `cap`."""
    if attempts < 1:
        return timedelta(0)
    # Capped before multiplying, so a thousand failures cannot overflow.
    return min(first * (2 ** min(attempts - 1, 32)), cap)
