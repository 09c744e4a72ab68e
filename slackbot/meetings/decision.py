"""Should a bot join this meeting for this member, and why: a pure function over plain data."""

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
    reason: str  # why the bot will or won't join, in the member's words (mrkdwn)

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


def _mentions(user_ids: Sequence[str]) -> str:
    names = [f"<@{u}>" for u in user_ids[:3]]
    if len(user_ids) > 3:
        names.append(f"{len(user_ids) - 3} more")
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


def decide(meeting: MeetingFacts, *, choice: Choice | None, covered_by: Sequence[str], now: datetime) -> Decision:
    """``covered_by``: colleagues in the workspace whose scheduled bot has this meeting's dedup key."""
    if meeting.is_deleted:
        return Decision(BotState.CANCELLED, False, "This meeting was cancelled, so no bot will join.")
    if meeting.end_time <= now:
        return Decision(BotState.ENDED, False, "This meeting has ended.")
    if not meeting.meeting_url:
        return Decision(BotState.NO_LINK, False, "This meeting has no video link, so a bot can't join.")
    if meeting.self_response == "declined":
        return Decision(BotState.DECLINED, False, "You declined this meeting, so your bot won't join.")
    if choice is Choice.SCHEDULE:
        shared = f" It's the same bot as {_mentions(covered_by)}'s." if covered_by else ""
        return Decision(BotState.SCHEDULED, True, f"You scheduled the bot for this meeting.{shared}")
    if choice is Choice.SKIP:
        still = f" {_mentions(covered_by)}'s bot will still record it." if covered_by else ""
        return Decision(BotState.SKIPPED, False, f"You skipped this meeting.{still}")
    if covered_by:
        return Decision(
            BotState.COVERED,
            False,
            f"{_mentions(covered_by)}'s bot already covers this meeting. Schedule to share it.",
        )
    return Decision(BotState.ASK, False, "The bot won't join unless you schedule it.")
