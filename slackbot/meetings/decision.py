"""Should a bot join this meeting for this member: a pure function over plain data (words live in `words`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum


class Choice(StrEnum):
    SCHEDULE = "schedule"
    SKIP = "skip"


class BotState(StrEnum):
    ASK = "ask"  # no choice yet: Schedule / Skip
    COVERED = "covered"  # no choice yet, but a colleague's bot already covers it
    SCHEDULED = "scheduled"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"
    ENDED = "ended"
    NO_LINK = "no_link"
    DECLINED = "declined"


ACTIONABLE = frozenset({BotState.ASK, BotState.COVERED, BotState.SCHEDULED, BotState.SKIPPED})


@dataclass(frozen=True)
class MeetingFacts:
    """What the member's calendar says about one meeting occurrence."""

    title: str
    start_time: datetime
    end_time: datetime
    meeting_url: str | None
    meeting_platform: str | None
    organizer: str | None
    is_deleted: bool
    self_response: str | None  # accepted | declined | tentative | needsAction | None
    series_id: str | None


@dataclass(frozen=True)
class Decision:
    state: BotState
    wants_bot: bool  # our bot should be scheduled for this member's event
    # Colleagues in the workspace whose scheduled bot has this meeting's dedup key (the reason names them).
    covered_by: tuple[str, ...] = ()

    @property
    def actionable(self) -> bool:
        return self.state in ACTIONABLE

    @property
    def worth_a_new_message(self) -> bool:
        """Quiet by default: nothing is posted for cancelled, ended, link-less or declined meetings."""
        return self.actionable


def dedup_key(start_time: datetime, meeting_url: str) -> str:
    """Recall's "deduplicate all" key, `{start_time}-{meeting_url}`, with the start time in one UTC ISO form so
    the same meeting on two calendars gives the identical string (recall-calendar-v2.md §5)."""
    start = start_time.astimezone(UTC).replace(microsecond=0)
    return f"{start.strftime('%Y-%m-%dT%H:%M:%SZ')}-{meeting_url.strip()}"


def decide(meeting: MeetingFacts, *, choice: Choice | None, covered_by: Sequence[str], now: datetime) -> Decision:
    """Precedence: cancelled > ended > no link > declined > the member's choice > a colleague's bot > ask.

    ``covered_by``: colleagues in the workspace whose scheduled bot has this meeting's dedup key.
    """
    colleagues = tuple(covered_by)
    if meeting.is_deleted:
        return Decision(BotState.CANCELLED, False)
    if meeting.end_time <= now:
        return Decision(BotState.ENDED, False)
    if not meeting.meeting_url:
        return Decision(BotState.NO_LINK, False)
    if meeting.self_response == "declined":
        return Decision(BotState.DECLINED, False)
    if choice is Choice.SCHEDULE:
        return Decision(BotState.SCHEDULED, True, colleagues)
    if choice is Choice.SKIP:
        return Decision(BotState.SKIPPED, False, colleagues)
    if colleagues:
        return Decision(BotState.COVERED, False, colleagues)
    return Decision(BotState.ASK, False)
