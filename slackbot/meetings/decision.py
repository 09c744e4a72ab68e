"""Should a bot join this meeting for this member, and why: a pure function over plain data (words live in
`words`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from slackbot.meetings.rules import Attendance, Miss, Policy, Rule, excluded_keyword, is_external, rule_miss


class Choice(StrEnum):
    SCHEDULE = "schedule"
    SKIP = "skip"


class BotState(StrEnum):
    ASK = "ask"  # nobody decided yet: Schedule / Skip
    COVERED = "covered"  # nobody decided yet, but a colleague's bot already covers it
    SCHEDULED = "scheduled"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"
    ENDED = "ended"
    NO_LINK = "no_link"
    DECLINED = "declined"


ACTIONABLE = frozenset({BotState.ASK, BotState.COVERED, BotState.SCHEDULED, BotState.SKIPPED})


class Reason(StrEnum):
    """What decided, in precedence order after the calendar's own facts."""

    CALENDAR = "calendar"  # cancelled, ended, no link, declined: the state says which
    CLICK = "click"  # the member's click on this meeting
    SERIES = "series"  # the member's choice for every occurrence of the series
    ENFORCED = "enforced"  # the workspace records every external meeting
    KEYWORD = "keyword"  # the title holds one of the member's excluded keywords
    WORKSPACE_KEYWORD = "workspace_keyword"  # ... or one the workspace excludes for everyone
    RULE = "rule"  # the member's rule
    WORKSPACE_RULE = "workspace_rule"  # the workspace's default rule
    NOBODY = "nobody"  # ask: the member's click decides


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
    organizer_is_self: bool = False
    attendee_domains: tuple[str, ...] = ()  # everyone but the member, rooms left out

    @property
    def attendance(self) -> Attendance:
        return Attendance(self.organizer_is_self, self.attendee_domains, self.self_response)


@dataclass(frozen=True)
class Decision:
    state: BotState
    wants_bot: bool  # our bot should be scheduled for this member's event
    # Colleagues in the workspace whose scheduled bot has this meeting's dedup key (the reason names them).
    covered_by: tuple[str, ...] = ()
    reason: Reason = Reason.NOBODY
    rule: Rule | None = None  # the rule that decided (RULE, WORKSPACE_RULE)
    miss: Miss | None = None  # why that rule leaves the meeting out
    keyword: str | None = None  # the excluded keyword found in the title
    series_choice: Choice | None = None  # the member's standing choice for the series, if any
    enforced: bool = False  # the workspace records this (external) meeting for everyone

    @property
    def actionable(self) -> bool:
        return self.state in ACTIONABLE

    @property
    def locked(self) -> bool:
        """Workspace policy records it and members may not skip it (whichever reason is shown)."""
        return self.enforced

    @property
    def worth_a_new_message(self) -> bool:
        """Quiet by default: nothing is posted for cancelled, ended, link-less or declined meetings."""
        return self.actionable


def dedup_key(start_time: datetime, meeting_url: str) -> str:
    """Recall's "deduplicate all" key, `{start_time}-{meeting_url}`, with the start time in one UTC ISO form so
    the same meeting on two calendars gives the identical string (recall-calendar-v2.md §5)."""
    start = start_time.astimezone(UTC).replace(microsecond=0)
    return f"{start.strftime('%Y-%m-%dT%H:%M:%SZ')}-{meeting_url.strip()}"


def decide(
    meeting: MeetingFacts,
    *,
    choice: Choice | None,
    covered_by: Sequence[str],
    now: datetime,
    series_choice: Choice | None = None,
    policy: Policy | None = None,
) -> Decision:
    """Precedence: the calendar's facts (cancelled > ended > no link > declined), then the member's click on this
    meeting > series choice > workspace enforcement > keyword exclusion > member's rule > workspace default rule
    > ask. Enforcement also outranks a skip, a click's or the series' (members cannot skip an enforced meeting).

    ``covered_by``: colleagues in the workspace whose scheduled bot has this meeting's dedup key.
    """
    policy = policy or Policy()
    colleagues = tuple(covered_by)
    if meeting.is_deleted:
        return Decision(BotState.CANCELLED, False, reason=Reason.CALENDAR)
    if meeting.end_time <= now:
        return Decision(BotState.ENDED, False, reason=Reason.CALENDAR)
    if not meeting.meeting_url:
        return Decision(BotState.NO_LINK, False, reason=Reason.CALENDAR)
    if meeting.self_response == "declined":
        return Decision(BotState.DECLINED, False, reason=Reason.CALENDAR)

    enforced = policy.enforce_external and is_external(meeting.attendee_domains, policy.company)

    def record(reason: Reason, **why: object) -> Decision:
        return Decision(
            BotState.SCHEDULED, True, colleagues, reason, series_choice=series_choice, enforced=enforced, **why
        )  # type: ignore[arg-type]

    def leave_out(reason: Reason, **why: object) -> Decision:
        return Decision(BotState.SKIPPED, False, colleagues, reason, series_choice=series_choice, **why)  # type: ignore[arg-type]

    if choice is Choice.SCHEDULE:
        return record(Reason.CLICK)
    if choice is Choice.SKIP and not enforced:
        return leave_out(Reason.CLICK)
    if series_choice is Choice.SCHEDULE:
        return record(Reason.SERIES)
    if enforced:
        return record(Reason.ENFORCED)  # outranks any skip: a click's, or the series'
    if series_choice is Choice.SKIP:
        return leave_out(Reason.SERIES)
    keyword = excluded_keyword(meeting.title, policy.member_keywords)
    if keyword is not None:
        return leave_out(Reason.KEYWORD, keyword=keyword)
    keyword = excluded_keyword(meeting.title, policy.workspace_keywords)
    if keyword is not None:
        return leave_out(Reason.WORKSPACE_KEYWORD, keyword=keyword)
    for rule, reason in ((policy.member_rule, Reason.RULE), (policy.workspace_rule, Reason.WORKSPACE_RULE)):
        if rule is None:
            continue
        if not rule.decides:
            break  # the member (or, for them, the workspace) chose to be asked
        miss = rule_miss(rule, meeting.attendance, policy.company)
        return record(reason, rule=rule) if miss is None else leave_out(reason, rule=rule, miss=miss)
    # A standing choice for the series decided above, so none is left to show from here on.
    if colleagues:
        return Decision(BotState.COVERED, False, colleagues)
    return Decision(BotState.ASK, False)
