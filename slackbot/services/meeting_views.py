"""Several of a member's meetings with their decisions, read in a few queries (for agendas, the connect summary,
reminders and the Home tab)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from slackbot.meetings.decision import Choice, Decision, MeetingFacts, decide
from slackbot.services.from_rows import facts_of, policy_for
from storage import meetings, policies
from storage.models import Meeting, Member, SeriesChoice


@dataclass(frozen=True)
class MeetingView:
    event_id: str
    facts: MeetingFacts
    decision: Decision
    is_new: bool


async def views_of(
    session: AsyncSession, member: Member, rows: Sequence[Meeting], *, now: datetime
) -> list[MeetingView]:
    """Each meeting with what decides it now, as the reconciler would decide it (same policy, series choices and
    colleagues' bots)."""
    if not rows:
        return []
    workspace = await policies.workspace_policy(session, member.team_id)
    series = {
        s.series_id: Choice(s.choice)
        for s in await session.scalars(select(SeriesChoice).where(SeriesChoice.member_id == member.id))
    }
    colleagues = await meetings.colleagues_by_key(
        session,
        team_id=member.team_id,
        keys=sorted({m.current_key for m in rows if m.current_key}),
        exclude_user_id=member.slack_user_id,
    )
    policy = policy_for(member=member, emails=[c.email for c in member.connections], workspace=workspace)
    views = []
    for meeting in rows:
        decision = decide(
            facts_of(meeting),
            choice=Choice(meeting.choice) if meeting.choice else None,
            covered_by=colleagues.get(meeting.current_key or "", []),
            now=now,
            series_choice=series.get(meeting.series_id) if meeting.series_id else None,
            policy=policy,
        )
        views.append(MeetingView(meeting.recall_event_id, facts_of(meeting), decision, meeting.is_new))
    return views
