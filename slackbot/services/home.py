"""The App Home tab, the member's control panel: connections, settings (rule, notifications, agenda, reminders;
the workspace's policy for admins) and the next 7 days' meetings with their buttons. Published when opened, after
the member's own changes, and within a minute of a change to one of its meetings while the member has it open."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from slackbot.blocks.connect import ConnectionView
from slackbot.blocks.digests import Row
from slackbot.blocks.home import AttentionView, PolicyView, RulesView, home_view
from slackbot.meetings.attention import HOME_DAYS, day_bounds, local_day, zone
from slackbot.meetings.decision import BotState
from slackbot.requester import Requester
from slackbot.services.connect import ConnectService
from slackbot.services.connections import ConnectionService
from slackbot.services.meeting_views import views_of
from slackbot.services.policy import PolicyService
from slackbot.services.profiles import ProfileService
from slackbot.services.reconciler import HOME_OPEN_WINDOW
from slackbot.slack.gateway import SLACK_FAILURES, Lane, SlackGateway, is_admin, slack_error_name
from slackbot.words import provider_label
from storage import meetings, members
from storage.db import Database
from storage.models import Member, utcnow

logger = logging.getLogger(__name__)


class HomeService:
    def __init__(
        self,
        *,
        db: Database,
        connections: ConnectionService,
        connect: ConnectService,
        policy: PolicyService,
        profiles: ProfileService,
        gateway: SlackGateway,
        default_bot_name: str,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._db = db
        self._connections = connections
        self._connect = connect
        self._policy = policy
        self._profiles = profiles
        self._gateway = gateway
        self._default_bot_name = default_bot_name
        self._clock = clock

    async def opened(self, requester: Requester) -> None:
        """The member opened the tab: note when (later changes refresh it while they look) and publish."""
        async with self._db.transaction() as session:
            member = await members.find_member(session, team_id=requester.team_id, slack_user_id=requester.user_id)
            if member is not None:
                member.home_opened_at = self._clock()
        await self.publish(requester)

    async def publish(self, requester: Requester, *, notice: str | None = None, lane: Lane = Lane.MEMBER) -> None:
        user = await self._gateway.user_info(requester, lane=lane)
        await self._profiles.remember(requester, user)
        infos = await self._connections.list(team_id=requester.team_id, user_id=requester.user_id, refresh=False)
        settings = await self._policy.member_settings(requester)
        admin = None
        if is_admin(user):
            workspace = await self._policy.workspace_settings(requester.team_id)
            admin = PolicyView(
                rule=workspace.rule,
                keywords=workspace.keywords,
                domains=workspace.domains,
                enforce_external=workspace.enforce_external,
                bot_name=workspace.bot_name or self._default_bot_name,
                bot_name_is_default=workspace.bot_name is None,
                consent_enabled=workspace.consent_enabled,
            )
        attention, upcoming = await self._member_part(requester)
        view = home_view(
            connections=[ConnectionView(provider_label(i.provider), i.email, i.status) for i in infos],
            available=[(name, creds.spec.label) for name, creds in self._connect.providers.items()],
            connected_providers={i.provider for i in infos},
            rules=RulesView(own=settings.rule, workspace=settings.workspace_rule, keywords=settings.keywords),
            admin=admin,
            notice=notice,
            attention=attention,
            upcoming=upcoming,
        )
        await self._gateway.publish_home(requester, view, lane=lane)
        async with self._db.transaction() as session:
            member = await members.find_member(session, team_id=requester.team_id, slack_user_id=requester.user_id)
            if member is not None:
                member.home_due_at = None

    async def _member_part(
        self, requester: Requester
    ) -> tuple[AttentionView | None, list[tuple[date, list[Row]]] | None]:
        now = self._clock()
        async with self._db.transaction() as session:
            member = await session.scalar(
                select(Member)
                .where(Member.team_id == requester.team_id, Member.slack_user_id == requester.user_id)
                .options(selectinload(Member.connections))
            )
            if member is None:
                return None, None
            attention = AttentionView(member.notify, member.agenda_minute, member.remind)
            if not member.connections:
                return attention, None
            tz = zone(member.timezone)
            today = local_day(now, tz)
            start, _ = day_bounds(today, tz)
            _, end = day_bounds(today + timedelta(days=HOME_DAYS - 1), tz)
            rows = await meetings.member_meetings_between(
                session, member_id=member.id, start=max(start, now - timedelta(hours=12)), end=end
            )
            views = await views_of(session, member, [m for m in rows if m.meeting_url and not m.is_deleted], now=now)
        days: dict[date, list[Row]] = {}
        for v in views:
            if v.decision.state in (BotState.DECLINED, BotState.ENDED):
                continue
            days.setdefault(local_day(v.facts.start_time, tz), []).append(Row(v.event_id, v.facts, v.decision, v.bot))
        return attention, sorted(days.items())

    async def refresh_due(self) -> int:
        """Publish the Home of members who have it open and one of its meetings changed; forget the others (their
        Home is published fresh when they open it)."""
        now = self._clock()
        async with self._db.transaction() as session:
            due = await members.homes_due(session, now=now)
            open_now = []
            for member in due:
                if member.active and member.home_opened_at and member.home_opened_at > now - HOME_OPEN_WINDOW:
                    open_now.append(Requester(member.team_id, member.slack_user_id, member.enterprise_id))
                else:
                    member.home_due_at = None
        published = 0
        for requester in open_now:
            try:
                await self.publish(requester, lane=Lane.BACKGROUND)
                published += 1
            except SLACK_FAILURES as exc:
                logger.warning("home.refresh_failed", extra={"error": slack_error_name(exc)})
        return published
