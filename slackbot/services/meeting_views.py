"""Several of a member's meetings with their decisions, read in a few queries (for agendas, the connect summary,
reminders and the Home tab)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from slackbot.meetings.bot_life import BotShown
from slackbot.meetings.decision import Choice, Decision, MeetingFacts, decide
from slackbot.services.from_rows import facts_of, life_of, policy_for
from storage import bots, meetings, policies
from storage.models import Meeting, Member, SeriesChoice


@dataclass(frozen=True)
class MeetingView:
    event_id: str
    facts: MeetingFacts
    decision: Decision
    is_new: bool
    bot: BotShown | None = None


# The name rows show for the bot when the workspace set none (the operator's BOT_NAME is the bot's real default).
ROW_BOT_NAME = "Your bot"


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
    known_bots = await bots.bots_for(session, rows)
    bot_name = workspace.bot_name if workspace and workspace.bot_name else ROW_BOT_NAME
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
        bot = known_bots.get(meeting.recall_event_id)
        shown = (
            BotShown(life_of(bot), bot_name, removable=bot.scheduled_by == member.slack_user_id)
            if bot is not None and bot.phase is not None
            else None
        )
        views.append(MeetingView(meeting.recall_event_id, facts_of(meeting), decision, meeting.is_new, shown))
    return views
