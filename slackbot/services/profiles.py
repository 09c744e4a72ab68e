"""What Slack says about members: their time zone (agendas come at their local time) and whether they are still
active (nothing is sent to someone who left or was deactivated). Re-read daily, and when they open the Home tab."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from sqlalchemy import or_, select

from slackbot.requester import Requester
from slackbot.slack.gateway import SLACK_FAILURES, Lane, SlackGateway, slack_error_name
from storage.db import Database
from storage.models import CalendarConnection, Member, utcnow

logger = logging.getLogger(__name__)

PROFILE_MAX_AGE = timedelta(hours=24)
# Slack's answers for a user who is gone.
GONE_ERRORS = frozenset({"user_not_found", "account_inactive", "user_disabled"})


class ProfileService:
    def __init__(self, *, db: Database, gateway: SlackGateway, clock: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self._gateway = gateway
        self._clock = clock

    async def remember(self, requester: Requester, user: dict[str, Any]) -> None:
        """Keep what a `users.info` answer says about a member (called wherever the app read it anyway)."""
        async with self._db.transaction() as session:
            member = await session.scalar(
                select(Member).where(Member.team_id == requester.team_id, Member.slack_user_id == requester.user_id)
            )
            if member is not None:
                _apply(member, user, self._clock())

    async def refresh_stale(self, *, limit: int = 200) -> int:
        """Re-read members with a calendar whose profile is a day old (background lane: paced)."""
        now = self._clock()
        async with self._db.transaction() as session:
            stale = list(
                await session.scalars(
                    select(Member)
                    .where(
                        Member.active.is_(True),
                        Member.id.in_(select(CalendarConnection.member_id)),
                        or_(Member.profile_checked_at.is_(None), Member.profile_checked_at < now - PROFILE_MAX_AGE),
                    )
                    .limit(limit)
                )
            )
            who = [(m.id, Requester(m.team_id, m.slack_user_id, m.enterprise_id)) for m in stale]
        refreshed = 0
        for member_id, requester in who:
            try:
                user = await self._gateway.user_info(requester, lane=Lane.BACKGROUND)
            except SlackApiError as exc:
                if exc.response.get("error") not in GONE_ERRORS:
                    logger.warning("profiles.refresh_failed", extra={"error": slack_error_name(exc)})
                    continue
                user = {"deleted": True}
            except SLACK_FAILURES as exc:
                logger.warning("profiles.refresh_failed", extra={"error": slack_error_name(exc)})
                continue
            async with self._db.transaction() as session:
                member = await session.get(Member, member_id)
                if member is not None:
                    _apply(member, user, self._clock())
            refreshed += 1
        return refreshed


def _apply(member: Member, user: dict[str, Any], now: datetime) -> None:
    tz = user.get("tz")
    if isinstance(tz, str) and tz:
        member.timezone = tz
    if user.get("deleted") is True:
        if member.active:
            logger.info("profiles.member_gone", extra={"team_id": member.team_id})
        member.active = False
    member.profile_checked_at = now
