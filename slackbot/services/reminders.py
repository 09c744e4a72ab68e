"""One DM 30 minutes before a meeting nobody decided ("record it?"), sent by exactly one process, then kept in line
with the meeting like its other messages."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from slackbot.blocks.digests import Row, reminder_message
from slackbot.meetings.attention import REMINDER_LEAD, ReminderStep, reminder_step, zone
from slackbot.requester import Requester
from slackbot.services.meeting_views import views_of
from slackbot.slack.gateway import (
    CLOCK_SKEW_SECONDS,
    SLACK_FAILURES,
    Lane,
    PostedMessage,
    SlackGateway,
    event_mark,
    outcome_unknown,
    slack_error_name,
)
from storage import meetings
from storage.db import Database
from storage.lifecycle import ReminderStatus
from storage.models import CalendarConnection, Meeting, Member, utcnow

logger = logging.getLogger(__name__)

# A reminder carries this Slack message metadata: one whose reply was lost is found again, not sent twice.
REMINDER_METADATA_TYPE = "recall_meeting_reminder"
# A claim to send a reminder this old was left by a process that died (a live one sends within a request's
# timeout of its claim, or of the moment the reminder left): another process takes it over, and looks in the DM
# for it before sending.
CLAIM_STALE = timedelta(minutes=2)


class _TakenOver(Exception):
    """The claim went stale before the reminder left, and another process took it over: this one sends nothing."""


def reminder_metadata(event_id: str) -> dict[str, Any]:
    return event_mark(REMINDER_METADATA_TYPE, event_id)


class ReminderService:
    def __init__(self, *, db: Database, gateway: SlackGateway, clock: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self._gateway = gateway
        self._clock = clock

    async def run(self) -> int:
        """Send the reminders that are due; give up on those it is too late for. Returns reminders sent."""
        now = self._clock()
        async with self._db.transaction() as session:
            candidates = await meetings.reminder_candidates(
                session, now=now, lead=REMINDER_LEAD, stale_before=now - CLAIM_STALE
            )
        sent = 0
        for event_id in candidates:
            try:
                sent += await self._one(event_id, now)
            except Exception:
                logger.exception("reminders.failed", extra={"recall_event_id": event_id})
        return sent

    async def _one(self, event_id: str, now: datetime) -> bool:
        async with self._db.transaction() as session:
            meeting = await session.get(Meeting, event_id)
            member = (
                await session.scalar(
                    select(Member)
                    .join(CalendarConnection, CalendarConnection.member_id == Member.id)
                    .where(CalendarConnection.id == meeting.connection_id)
                    .options(selectinload(Member.connections))
                )
                if meeting
                else None
            )
            if meeting is None or member is None:
                return False
            (view,) = await views_of(session, member, [meeting], now=now)
            step = reminder_step(
                start=meeting.start_time, now=now, remind=member.remind and member.active, decision=view.decision
            )
            if step is ReminderStep.MISS:
                await meetings.finish_reminder(session, event_id, status=ReminderStatus.MISSED)
                return False
            if step is not ReminderStep.SEND:
                return False
            claimed = await meetings.claim_reminder(session, event_id, now=now, stale_before=now - CLAIM_STALE)
            if claimed is None:
                return False
            owner = Requester(member.team_id, member.slack_user_id, member.enterprise_id)
        if claimed is ReminderStatus.SENDING:
            # A process died while sending it: Slack may have it already.
            try:
                found = await self._find_after_crash(owner, event_id)
            except SlackApiError as exc:
                if exc.response.get("error") != "missing_scope":
                    return self._lookup_failed(event_id, exc)
                # Installed before `im:history` was asked for: sent again, as the app always did, until reinstalled.
                logger.warning("reminders.unconfirmed_not_searchable", extra={"recall_event_id": event_id})
                found = None
            except SLACK_FAILURES as exc:
                return self._lookup_failed(event_id, exc)
            if found is not None:
                await self._record(event_id, found)
                return True
        message = reminder_message(Row(view.event_id, view.facts, view.decision, view.bot), tz=zone(member.timezone))
        left: list[str] = []
        claimed_at = now

        async def leaving(channel: str) -> None:
            nonlocal claimed_at
            leaves_at = self._clock()
            async with self._db.transaction() as session:
                if not await meetings.reminder_leaving(session, event_id, claimed_at=claimed_at, now=leaves_at):
                    raise _TakenOver(event_id)
            claimed_at = leaves_at
            left.append(channel)

        sent_at = time.time()
        try:
            posted: PostedMessage | None = await self._gateway.post_dm(
                owner, message, lane=Lane.BACKGROUND, metadata=reminder_metadata(event_id), before_send=leaving
            )
        except _TakenOver:
            logger.warning("reminders.taken_over", extra={"recall_event_id": event_id})
            return False
        except SLACK_FAILURES as exc:
            logger.warning(
                "reminders.slack_failed", extra={"recall_event_id": event_id, "error": slack_error_name(exc)}
            )
            posted = await self._find_unanswered(owner, event_id, left, sent_at) if outcome_unknown(exc) else None
            if posted is None:
                async with self._db.transaction() as session:
                    await meetings.finish_reminder(
                        session, event_id, status=ReminderStatus.NONE
                    )  # the next run tries again
                return False
        await self._record(event_id, posted)
        return True

    @staticmethod
    def _lookup_failed(event_id: str, exc: BaseException) -> bool:
        logger.warning("reminders.lookup_failed", extra={"recall_event_id": event_id, "error": slack_error_name(exc)})
        return False  # still claimed: taken over again once the claim is stale

    async def _record(self, event_id: str, posted: PostedMessage) -> None:
        async with self._db.transaction() as session:
            await meetings.finish_reminder(
                session, event_id, status=ReminderStatus.SENT, channel=posted.channel, ts=posted.ts
            )
        logger.info("reminders.sent", extra={"recall_event_id": event_id})

    async def _find_after_crash(self, owner: Requester, event_id: str) -> PostedMessage | None:
        """The reminder in the member's DM, if a process that died sent it. A reminder leaves within REMINDER_LEAD
        of the meeting's start, so it can only be in that last stretch of the DM's history."""
        channel = await self._gateway.dm_channel(owner)
        now = time.time()
        return await self._gateway.find_posted(
            owner,
            channel,
            metadata=reminder_metadata(event_id),
            oldest=now - REMINDER_LEAD.total_seconds() - CLOCK_SKEW_SECONDS,
            latest=now + CLOCK_SKEW_SECONDS,
        )

    async def _find_unanswered(
        self, owner: Requester, event_id: str, left: list[str], sent_at: float
    ) -> PostedMessage | None:
        """A reminder that left without an answer may be in the member's DM: look before sending it again."""
        if not left:
            return None  # it never left
        try:
            return await self._gateway.find_posted(
                owner,
                left[0],
                metadata=reminder_metadata(event_id),
                oldest=sent_at - CLOCK_SKEW_SECONDS,
                latest=time.time() + CLOCK_SKEW_SECONDS,
            )
        except SLACK_FAILURES as exc:
            logger.warning(
                "reminders.lookup_failed", extra={"recall_event_id": event_id, "error": slack_error_name(exc)}
            )
            return None
