"""Plain domain data from stored rows: a meeting's facts, and the policy that applies to its member."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from slackbot.meetings.bot_life import BotLife
from slackbot.meetings.decision import MeetingFacts
from slackbot.meetings.rules import Policy, Rule, company_domains
from storage.models import Bot, Meeting, Member


class WorkspaceRules(Protocol):
    """A workspace's policy row, or a copy of it taken before a change."""

    default_rule: str | None
    default_accepted_only: bool
    excluded_keywords: list[str]
    domains: list[str]
    enforce_external: bool


def facts_of(meeting: Meeting) -> MeetingFacts:
    return MeetingFacts(
        title=meeting.title,
        start_time=meeting.start_time,
        end_time=meeting.end_time,
        meeting_url=meeting.meeting_url,
        meeting_platform=meeting.meeting_platform,
        organizer=meeting.organizer,
        is_deleted=meeting.is_deleted,
        self_response=meeting.self_response,
        series_id=meeting.series_id,
        organizer_is_self=meeting.organizer_is_self,
        attendee_domains=tuple(meeting.attendee_domains or ()),
    )


def policy_for(*, member: Member, emails: Iterable[str], workspace: WorkspaceRules | None) -> Policy:
    """What decides for ``member`` besides their clicks: their rule and keywords, and the workspace's policy."""
    return Policy(
        member_rule=Rule.stored(member.rule, member.rule_accepted_only),
        workspace_rule=Rule.stored(workspace.default_rule, workspace.default_accepted_only) if workspace else None,
        enforce_external=bool(workspace and workspace.enforce_external),
        member_keywords=tuple(member.excluded_keywords or ()),
        workspace_keywords=tuple(workspace.excluded_keywords or ()) if workspace else (),
        company=company_domains(emails, workspace.domains if workspace else ()),
    )


def life_of(bot: Bot | None) -> BotLife:
    if bot is None:
        return BotLife()
    return BotLife(
        phase=bot.phase,
        phase_at=bot.phase_at,
        code=bot.code,
        reason_code=bot.reason_code,
        sub_code=bot.sub_code,
        recorded=bot.recorded,
        recording=bot.recording,
        recording_sub_code=bot.recording_sub_code,
        transcript=bot.transcript,
    )


def store_life(bot: Bot, life: BotLife) -> None:
    bot.phase, bot.phase_at, bot.code = life.phase, life.phase_at, life.code
    bot.reason_code, bot.sub_code, bot.recorded = life.reason_code, life.sub_code, life.recorded
    bot.recording, bot.recording_sub_code, bot.transcript = life.recording, life.recording_sub_code, life.transcript
