"""Digests: the summary a member gets on connecting, and the daily agenda; each posted once and then kept in line
with its meetings in place (a click anywhere shows everywhere)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from slackbot.blocks.digests import Row, agenda_message, home_url, summary_message
from slackbot.blocks.text import Message
from slackbot.meetings.attention import HOME_DAYS, agenda_due, day_bounds, zone
from slackbot.meetings.decision import BotState
from slackbot.meetings.plan import FIRST_RETRY, MAX_RETRY
from slackbot.meetings.rules import Rule
from slackbot.requester import Requester
from slackbot.services.meeting_views import MeetingView, views_of
from slackbot.slack.gateway import (
    CLOCK_SKEW_SECONDS,
    SLACK_FAILURES,
    Lane,
    PostedMessage,
    SlackGateway,
    outcome_unknown,
    slack_error_name,
)
from slackbot.words import provider_label
from storage import digests as repo
from storage import leases, meetings, members, policies
from storage.db import Database
from storage.lifecycle import DigestKind, ReconcileStatus, backoff
from storage.models import CalendarSync, Digest, Member, utcnow

logger = logging.getLogger(__name__)

SUMMARY_LIFETIME = timedelta(days=HOME_DAYS)
# A digest's first post carries this Slack message metadata: one whose reply was lost is found, not sent twice.
DIGEST_METADATA_TYPE = "recall_digest"


def digest_metadata(digest_id: int) -> dict[str, Any]:
    return {"event_type": DIGEST_METADATA_TYPE, "event_payload": {"recall_digest_id": str(digest_id)}}


def _rows(views: list[MeetingView]) -> list[Row]:
    return [Row(v.event_id, v.facts, v.decision, v.bot) for v in views]


class DigestService:
    def __init__(
        self,
        *,
        db: Database,
        gateway: SlackGateway,
        lease: timedelta = leases.DEFAULT_LEASE,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._db = db
        self._gateway = gateway
        self._lease = lease
        self._clock = clock

    # ---- the connect summary ----------------------------------------------------------------------------------

    async def start_summary(self, requester: Requester, *, recall_calendar_id: str, replaced_email: str | None) -> None:
        """The one message a member gets on connecting a calendar: posted now (events are still syncing), then
        filled in place with what Recall finds."""
        now = self._clock()
        async with self._db.transaction() as session:
            member = await members.find_member(session, team_id=requester.team_id, slack_user_id=requester.user_id)
            connection = (
                next((c for c in member.connections if c.recall_calendar_id == recall_calendar_id), None)
                if member
                else None
            )
            if member is None or connection is None:
                return
            if replaced_email is not None:
                # The connection now holds another account's calendar: the summary of the one it replaced stays as
                # it was, and this one is kept in line from now on.
                await repo.forget_digest(
                    session, member_id=member.id, kind=DigestKind.SUMMARY, key=repo.summary_key(connection.id)
                )
            digest = await repo.create_digest(
                session,
                member_id=member.id,
                kind=DigestKind.SUMMARY,
                key=repo.summary_key(connection.id),
                now=now,
                live_until=now + SUMMARY_LIFETIME,
                connection_id=connection.id,
                replaced_email=replaced_email,
            )
            digest_id = digest.id if digest else None
            app_id = await self._app_id(session, requester.team_id)
        message = summary_message(
            provider_label=provider_label(connection.provider),
            email=connection.email,
            replaced_email=replaced_email,
            syncing=True,
            upcoming=0,
            recorded=0,
            rule=None,
            workspace_rule=None,
            rows=[],
            home_url=home_url(team_id=requester.team_id, app_id=app_id),
        )
        posted = await self._gateway.try_post_dm(requester, message, lane=Lane.MEMBER)
        if digest_id is None:
            return
        async with self._db.transaction() as session:
            digest = await session.get(Digest, digest_id)
            if digest is None:
                return
            if posted is not None:
                digest.channel_id, digest.message_ts, digest.rendered_hash = posted.channel, posted.ts, message.digest()
            digest.may_post = posted is None  # if Slack refused, the digest run posts it
            digest.status = ReconcileStatus.PENDING if posted is None else ReconcileStatus.SETTLED
            digest.due_at = now if posted is None else None

    # ---- the daily agenda -------------------------------------------------------------------------------------

    async def open_agendas(self) -> int:
        """Make today's agenda due for every member whose agenda time has come (at most one a day: the row is
        unique, so two processes never both make it)."""
        now = self._clock()
        opened = 0
        async with self._db.transaction() as session:
            for member in await members.members_with_calendars(session):
                tz = zone(member.timezone)
                day = agenda_due(now=now, tz=tz, agenda_minute=member.agenda_minute)
                if day is None:
                    continue
                key = repo.agenda_key(day)
                if await repo.has_digest(session, member_id=member.id, kind=DigestKind.AGENDA, key=key):
                    continue
                _, end = day_bounds(day, tz)
                created = await repo.create_digest(
                    session,
                    member_id=member.id,
                    kind=DigestKind.AGENDA,
                    key=key,
                    now=now,
                    live_until=end,
                    day=day,
                )
                opened += created is not None
        return opened

    # ---- keeping digests in line ------------------------------------------------------------------------------

    async def run_due(self) -> int:
        """Render every due digest; post it (first run only) or update it in place where what it shows changed."""
        async with self._db.transaction() as session:
            ids = await repo.due_digests(session, now=self._clock())
        done = 0
        for digest_id in ids:
            try:
                done += await self._run(digest_id)
            except Exception:
                logger.exception("digests.run_failed", extra={"digest_id": digest_id})
        return done

    async def _run(self, digest_id: int) -> bool:
        now = self._clock()
        async with self._db.transaction() as session:
            if not await repo.claim_digest(session, digest_id, owner=leases.PROCESS_ID, lease=self._lease, now=now):
                return False
            digest = await session.get(Digest, digest_id)
            member = await session.scalar(
                select(Member).where(Member.id == digest.member_id).options(selectinload(Member.connections))
            )
            if digest is None or member is None:
                return False
            message = await self._render(session, digest, member, now)
            version, kind = digest.version, digest.kind
            owner = Requester(member.team_id, member.slack_user_id, member.enterprise_id)
            posted = (
                PostedMessage(digest.channel_id, digest.message_ts) if digest.message_ts and digest.channel_id else None
            )
            changed = message is not None and message.digest() != digest.rendered_hash
            may_post, attempts, active = digest.may_post, digest.attempts, member.active
            post_sent_at = digest.post_sent_at
        sent: PostedMessage | None = None
        failed = False
        if active and message is not None and changed:
            try:
                if posted is None and may_post and post_sent_at is not None:
                    # An earlier post left without its answer being recorded: Slack may have it.
                    posted = await self._find_posted(owner, digest_id, oldest=post_sent_at.timestamp())
                if posted is not None:
                    await self._gateway.update(owner, posted, message, lane=Lane.BACKGROUND)
                    sent = posted
                elif may_post:
                    sent = await self._post(owner, digest_id, message)
            except SLACK_FAILURES as exc:
                logger.warning("digests.slack_failed", extra={"digest": kind.value, "error": slack_error_name(exc)})
                failed = True
        async with self._db.transaction() as session:
            digest = await session.get(Digest, digest_id)
            if digest is None:
                return False
            if sent is not None and message is not None:
                digest.channel_id, digest.message_ts, digest.rendered_hash = sent.channel, sent.ts, message.digest()
                digest.post_sent_at = None
            if not failed:
                digest.may_post = False  # sent at its time, or nothing to send: never posted later
            if digest.version == version:
                if failed:
                    retry = retry_later_for(attempts, now)
                    digest.status, digest.due_at, digest.attempts = ReconcileStatus.RETRYING, retry, attempts + 1
                else:
                    digest.status, digest.due_at, digest.attempts = ReconcileStatus.SETTLED, None, 0
            if digest.claimed_by == leases.PROCESS_ID:
                digest.claimed_by = digest.claimed_until = None
        return not failed

    async def _post(self, owner: Requester, digest_id: int, message: Message) -> PostedMessage:
        """The digest's first post, marked so that it can be found again; the time it leaves is written first, so a
        crash before its answer is recorded leaves a trace. A reply that never comes is looked for at once."""

        async def leaving(_channel: str) -> None:
            async with self._db.transaction() as session:
                await repo.note_post_sent(session, digest_id, at=utcnow())

        sent_at = time.time()
        try:
            return await self._gateway.post_dm(
                owner, message, lane=Lane.BACKGROUND, metadata=digest_metadata(digest_id), before_send=leaving
            )
        except SLACK_FAILURES as exc:
            if not outcome_unknown(exc):
                raise
            found = await self._find_posted(owner, digest_id, oldest=sent_at)
            if found is None:
                raise
            return found

    async def _find_posted(self, owner: Requester, digest_id: int, *, oldest: float) -> PostedMessage | None:
        """The digest's post in the member's DM, sent at ``oldest`` (a Unix time) or a little after, or None. An
        install without `im:history` cannot search: None (posted again, as the app always did)."""
        try:
            channel = await self._gateway.dm_channel(owner)
            return await self._gateway.find_posted(
                owner,
                channel,
                metadata=digest_metadata(digest_id),
                oldest=oldest - CLOCK_SKEW_SECONDS,
                latest=time.time() + CLOCK_SKEW_SECONDS,
            )
        except SlackApiError as exc:
            if exc.response.get("error") != "missing_scope":
                raise
            logger.warning("digests.unconfirmed_post_not_searchable", extra={"digest_id": digest_id})
            return None

    async def _render(self, session: object, digest: Digest, member: Member, now: datetime) -> Message | None:
        if digest.kind is DigestKind.AGENDA:
            return await self._render_agenda(session, digest, member, now)
        return await self._render_summary(session, digest, member, now)

    async def _render_agenda(self, session: object, digest: Digest, member: Member, now: datetime) -> Message | None:
        assert digest.day is not None
        start, end = day_bounds(digest.day, zone(member.timezone))
        rows = await meetings.member_meetings_between(session, member_id=member.id, start=start, end=end)  # type: ignore[arg-type]
        views = [
            v
            for v in await views_of(session, member, [m for m in rows if m.meeting_url], now=now)  # type: ignore[arg-type]
            if v.decision.state is not BotState.DECLINED
        ]
        if not views:
            return None  # a day with no meetings sends nothing
        return agenda_message(day=digest.day, rows=_rows(views))

    async def _render_summary(self, session: object, digest: Digest, member: Member, now: datetime) -> Message | None:
        connection = next((c for c in member.connections if c.id == digest.connection_id), None)
        if connection is None:
            return None
        sync = await session.get(CalendarSync, connection.recall_calendar_id)  # type: ignore[attr-defined]
        rows = await meetings.member_meetings_between(
            session,  # type: ignore[arg-type]
            member_id=member.id,
            start=now,
            end=datetime.max.replace(tzinfo=now.tzinfo),
        )
        existing = [
            m for m in rows if m.connection_id == connection.id and not m.is_new and m.meeting_url and not m.is_deleted
        ]
        views = [v for v in await views_of(session, member, existing, now=now) if v.decision.actionable]  # type: ignore[arg-type]
        syncing = not views and (sync is None or sync.last_synced_at is None)
        workspace = await policies.workspace_policy(session, member.team_id)  # type: ignore[arg-type]
        soon = [v for v in views if v.facts.start_time < now + SUMMARY_LIFETIME]
        return summary_message(
            provider_label=provider_label(connection.provider),
            email=connection.email,
            replaced_email=digest.replaced_email,
            syncing=syncing,
            upcoming=len(views),
            recorded=sum(1 for v in views if v.decision.wants_bot),
            rule=Rule.stored(member.rule, member.rule_accepted_only),
            workspace_rule=Rule.stored(workspace.default_rule, workspace.default_accepted_only) if workspace else None,
            rows=_rows(soon),
            home_url=home_url(team_id=member.team_id, app_id=workspace.app_id if workspace else None),
        )

    @staticmethod
    async def _app_id(session: object, team_id: str) -> str | None:
        workspace = await policies.workspace_policy(session, team_id)  # type: ignore[arg-type]
        return workspace.app_id if workspace else None


def retry_later_for(attempts: int, now: datetime) -> datetime:
    return now + backoff(attempts + 1, first=FIRST_RETRY, cap=MAX_RETRY)
