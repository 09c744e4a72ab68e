"""Decide and act: store changed events, keep the member's bot and their one message per meeting true."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient

from recall.client import RecallClient
from recall.errors import RecallError
from recall.models import CalendarEvent
from slackbot.blocks.meeting import meeting_message
from slackbot.blocks.text import Message
from slackbot.meetings.decision import BotState, Choice, Decision, MeetingFacts, decide, dedup_key
from slackbot.slack_gateway import SLACK_FAILURES, SlackGateway, slack_error_name
from storage import meetings as repo
from storage.db import Database
from storage.models import Meeting, Member, utcnow

logger = logging.getLogger(__name__)

# How long one process may take to post a meeting's first message before another may try.
POSTING_LEASE = timedelta(seconds=60)
# Meetings reconciled at once within one process (each waits mostly on I/O).
RECONCILE_CONCURRENCY = 4


class NotYourMeeting(Exception):
    """A button for a meeting that is not on the clicking member's calendar (or does not exist)."""


@dataclass(frozen=True)
class ChoiceOutcome:
    decision: Decision
    error: RecallError | None = None  # the Recall call failed; nothing was changed
    refused: bool = False  # the meeting can no longer be acted on (ended, cancelled, declined, no link)


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
    )


def _copy_event(meeting: Meeting, event: CalendarEvent) -> None:
    meeting.recall_updated_at = event.updated_at
    meeting.start_time = event.start_time
    meeting.end_time = event.end_time
    meeting.title = event.title or ""
    meeting.meeting_url = event.meeting_url or None
    meeting.meeting_platform = event.meeting_platform
    meeting.organizer = event.organizer_name or event.organizer_email
    meeting.series_id = event.recurring_series_id
    meeting.self_response = event.self_response_status
    meeting.is_deleted = event.is_deleted
    meeting.current_key = dedup_key(event.start_time, event.meeting_url) if event.meeting_url else None
    if meeting.scheduled_key and not any(b.deduplication_key == meeting.scheduled_key for b in event.bots):
        # Recall no longer has our bot (calendar disconnected, bot removed): schedule again if still wanted.
        meeting.scheduled_key = None
    meeting.needs_reconcile = True
    meeting.failures = 0
    meeting.retry_after = None


def _hash(message: Message) -> str:
    return hashlib.sha256(json.dumps([message.text, message.blocks], sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class _Snapshot:
    """What acting on a meeting needs, read inside a transaction and used outside it."""

    event_id: str
    team_id: str
    enterprise_id: str | None
    user_id: str
    current_key: str | None
    scheduled_key: str | None
    channel_id: str | None
    message_ts: str | None
    rendered_hash: str | None

    @classmethod
    def of(cls, meeting: Meeting, member: Member) -> _Snapshot:
        return cls(
            event_id=meeting.recall_event_id,
            team_id=member.team_id,
            enterprise_id=member.enterprise_id,
            user_id=member.slack_user_id,
            current_key=meeting.current_key,
            scheduled_key=meeting.scheduled_key,
            channel_id=meeting.channel_id,
            message_ts=meeting.message_ts,
            rendered_hash=meeting.rendered_hash,
        )


class MeetingService:
    def __init__(
        self,
        *,
        db: Database,
        recall: RecallClient,
        gateway: SlackGateway,
        bot_name: str,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._db = db
        self._recall = recall
        self._gateway = gateway
        self._bot_name = bot_name
        self._clock = clock
        # One lock per meeting while anyone uses it (a double click, a sync and a colleague's refresh).
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def _lock(self, event_id: str) -> asyncio.Lock:
        lock = self._locks.get(event_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[event_id] = lock
        return lock

    # ---- events in --------------------------------------------------------------------------

    async def apply_events(self, events: Iterable[CalendarEvent]) -> int:
        """Store changed events of calendars we know, then decide and act on each. Returns events applied."""
        events = list(events)
        async with self._db.transaction() as session:
            owners = await repo.connections_by_calendar(session, sorted({e.calendar_id for e in events}))
            existing = await repo.meetings_by_ids(session, [e.id for e in events if e.calendar_id in owners])
            changed: list[str] = []
            for event in events:
                owner = owners.get(event.calendar_id)
                if owner is None:
                    continue  # a calendar of another app or workspace sharing the Recall account
                meeting = existing.get(event.id)
                if meeting is not None and meeting.recall_updated_at >= event.updated_at:
                    if meeting.needs_reconcile:
                        changed.append(event.id)  # stored earlier, never acted on (a crash or a failure)
                    continue  # already seen (redelivery, overlapping listing)
                if meeting is None:
                    connection, member = owner
                    meeting = Meeting(recall_event_id=event.id, connection_id=connection.id, team_id=member.team_id)
                    session.add(meeting)
                    existing[event.id] = meeting
                _copy_event(meeting, event)
                changed.append(event.id)
        # Recall advises handling future events in chronological order (scheduling guide, rate limits).
        ordered = sorted(changed, key=lambda event_id: existing[event_id].start_time)
        await self._reconcile_all(ordered)
        return len(changed)

    async def refresh_ended(self) -> int:
        """Take the buttons off messages of meetings that have ended."""
        async with self._db.transaction() as session:
            ids = await repo.ended_with_live_message(session, now=self._clock())
        return await self._reconcile_all(ids)

    async def repair(self) -> int:
        """Retry what failed or was interrupted: stored changes not acted on, DMs Slack refused, bots not moved
        to a meeting's new time or link (or lost while a calendar was disconnected)."""
        async with self._db.transaction() as session:
            ids = await repo.meetings_needing_repair(session, now=self._clock())
        return await self._reconcile_all(ids)

    async def _reconcile_all(self, event_ids: Iterable[str]) -> int:
        """Reconcile meetings a few at a time: each spends most of its time waiting on the database,
        Recall or Slack, so overlapping them shortens a large sync (order is kept as far as it matters)."""
        clients: dict[str, AsyncWebClient] = {}
        slots = asyncio.Semaphore(RECONCILE_CONCURRENCY)

        async def one(event_id: str) -> bool:
            async with slots:
                try:
                    async with self._lock(event_id):
                        await self._reconcile(event_id, clients=clients)
                    return True
                except NotYourMeeting:
                    return False  # disconnected meanwhile: its rows are gone
                except Exception:
                    # One meeting must not hold up the others; it stays marked and the repair job retries it.
                    logger.exception("meetings.reconcile_failed", extra={"recall_event_id": event_id})
                    return False

        return sum(await asyncio.gather(*(one(event_id) for event_id in event_ids)))

    # ---- member's choice --------------------------------------------------------------------

    async def choose(self, *, team_id: str, user_id: str, event_id: str, choice: Choice | None) -> ChoiceOutcome:
        """Schedule (``SCHEDULE``), skip (``SKIP``) or undo (``None``) for the member who owns the meeting."""
        async with self._lock(event_id):
            async with self._db.transaction() as session:
                meeting = await repo.get_meeting(session, event_id)
                owner = await repo.owner_of(session, meeting) if meeting else None
                if meeting is None or owner is None:
                    raise NotYourMeeting(event_id)
                _, member = owner
                if member.team_id != team_id or member.slack_user_id != user_id:
                    raise NotYourMeeting(event_id)
                current = await self._decide(session, meeting, member)
                previous = meeting.choice
                if current.actionable:
                    meeting.choice = choice.value if choice else None
            if not current.actionable:
                # A stale button (the meeting ended, was cancelled or declined): show the truth, change nothing.
                await self._reconcile(event_id, clients={})
                return ChoiceOutcome(current, refused=True)
            outcome = await self._reconcile(event_id, clients={})
            if outcome.error is not None:
                async with self._db.transaction() as session:
                    meeting = await repo.get_meeting(session, event_id)
                    if meeting is not None:
                        meeting.choice = previous
                await self._reconcile(event_id, clients={})
            return outcome

    # ---- the core ---------------------------------------------------------------------------

    async def _reconcile(self, event_id: str, *, clients: dict[str, AsyncWebClient]) -> ChoiceOutcome:
        """Bring Recall's bot and the member's message in line with the meeting and the member's choice."""
        async with self._db.transaction() as session:
            meeting = await repo.get_meeting(session, event_id)
            owner = await repo.owner_of(session, meeting) if meeting else None
            if meeting is None or owner is None:
                raise NotYourMeeting(event_id)
            connection, member = owner
            decision = await self._decide(session, meeting, member)
            snapshot = _Snapshot.of(meeting, member)
            calendar_live = connection.status != "disconnected"

        error: RecallError | None = None
        scheduled_key = snapshot.scheduled_key
        try:
            scheduled_key = await self._reconcile_bot(snapshot, decision, calendar_live=calendar_live)
        except RecallError as exc:
            error = exc
            logger.warning(
                "meetings.bot_call_failed",
                extra={
                    "recall_event_id": event_id,
                    "error": type(exc).__name__,
                    "status": getattr(exc, "status", None),
                },
            )

        async with self._db.transaction() as session:
            meeting = await repo.get_meeting(session, event_id)
            if meeting is None:
                return ChoiceOutcome(decision, error)
            meeting.scheduled_key = scheduled_key
            if error is not None and decision.wants_bot and scheduled_key is None:
                # The bot could not be scheduled: show the truth (not scheduled) until it is.
                decision = await self._decide(session, meeting, member, choice_override=None)
            message = meeting_message(facts_of(meeting), decision, event_id=event_id)
            digest = _hash(message)
            post = meeting.message_ts is None and decision.worth_a_new_message
            now = self._clock()
            if post and not await repo.claim_first_post(session, event_id, now=now, until=now + POSTING_LEASE):
                post = False  # another process is posting it right now
            edit = meeting.message_ts is not None and digest != meeting.rendered_hash
            channel, ts = meeting.channel_id, meeting.message_ts

        sent: tuple[str, str] | None = None
        if post or edit:
            sent = await self._send(snapshot, message, channel=channel, ts=ts if edit else None, clients=clients)
        delivered = sent is not None or not (post or edit)
        async with self._db.transaction() as session:
            meeting = await repo.get_meeting(session, event_id)
            if meeting is not None:
                if sent is not None:
                    meeting.channel_id, meeting.message_ts = sent
                    meeting.rendered_hash = digest
                    meeting.rendered_state = decision.state.value
                meeting.posting_until = None
                if delivered and error is None:
                    meeting.needs_reconcile = False
                    meeting.failures = 0
                    meeting.retry_after = None
                else:
                    meeting.needs_reconcile = True
                    meeting.failures += 1
                    meeting.retry_after = self._clock() + timedelta(minutes=min(2**meeting.failures, 360))
        if snapshot.scheduled_key != scheduled_key:
            await self._refresh_colleagues(snapshot, {k for k in (snapshot.scheduled_key, scheduled_key) if k})
        return ChoiceOutcome(decision, error)

    async def _decide(
        self, session: object, meeting: Meeting, member: Member, *, choice_override: object = ...
    ) -> Decision:
        key = meeting.current_key
        colleagues = (
            await repo.colleagues_with_bot(
                session,  # type: ignore[arg-type]
                team_id=member.team_id,
                key=key,
                exclude_user_id=member.slack_user_id,
            )
            if key
            else []
        )
        raw_choice = meeting.choice if choice_override is ... else choice_override
        choice = Choice(raw_choice) if raw_choice else None
        return decide(facts_of(meeting), choice=choice, covered_by=colleagues, now=self._clock())

    async def _reconcile_bot(self, snapshot: _Snapshot, decision: Decision, *, calendar_live: bool) -> str | None:
        """Returns the dedup key our bot is scheduled under afterwards (None: no bot of ours)."""
        if decision.wants_bot:
            key = snapshot.current_key
            if not key or key == snapshot.scheduled_key or not calendar_live:
                return snapshot.scheduled_key  # nothing to do (or wait: Recall drops bots while disconnected)
            # A moved or relinked meeting gets a fresh POST: never assume Recall moves the bot.
            await self._recall.schedule_bot(
                snapshot.event_id,
                deduplication_key=key,
                bot_config={
                    "bot_name": self._bot_name,
                    "metadata": {
                        "slack_team_id": snapshot.team_id,
                        "slack_user_id": snapshot.user_id,
                        "source": "recall-slackbot",
                    },
                },
            )
            logger.info("meetings.bot_scheduled", extra={"recall_event_id": snapshot.event_id})
            return key
        if snapshot.scheduled_key is None:
            return None
        if decision.state in (BotState.CANCELLED, BotState.ENDED):
            # Recall drops bots of deleted events itself; an ended meeting's bot has done its job.
            return None
        await self._recall.unschedule_bot(snapshot.event_id)
        logger.info("meetings.bot_unscheduled", extra={"recall_event_id": snapshot.event_id})
        return None

    async def _refresh_colleagues(self, snapshot: _Snapshot, keys: set[str]) -> None:
        """A bot appeared or went away under ``keys``: colleagues' messages about that meeting change too."""
        async with self._db.transaction() as session:
            ids = await repo.meetings_sharing_key(session, team_id=snapshot.team_id, keys=sorted(keys))
        others = [other for other in ids if other != snapshot.event_id and not self._lock(other).locked()]
        await self._reconcile_all(others)

    async def _send(
        self,
        snapshot: _Snapshot,
        message: Message,
        *,
        channel: str | None,
        ts: str | None,
        clients: dict[str, AsyncWebClient],
    ) -> tuple[str, str] | None:
        """chat.update when ``ts`` is known, else post a new DM. Returns (channel, ts), or None if Slack failed."""
        try:
            client = clients.get(snapshot.team_id)
            if client is None:
                client = await self._gateway.client_for(team_id=snapshot.team_id, enterprise_id=snapshot.enterprise_id)
                clients[snapshot.team_id] = client
            if ts and channel:
                await client.chat_update(channel=channel, ts=ts, **message.as_kwargs())
                return channel, ts
            dm = await self._gateway.dm_channel(client, team_id=snapshot.team_id, user_id=snapshot.user_id)
            response = await client.chat_postMessage(channel=dm, **message.as_kwargs())
            return response["channel"], response["ts"]
        except SLACK_FAILURES as exc:
            logger.warning(
                "meetings.slack_failed", extra={"recall_event_id": snapshot.event_id, "error": slack_error_name(exc)}
            )
            return None
