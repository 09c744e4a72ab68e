"""Decide and act: store changed events, keep the member's bot and their one message per meeting true."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from recall.client import RecallClient
from recall.errors import RecallError
from recall.models import CalendarEvent
from slackbot.blocks.meeting import meeting_message
from slackbot.blocks.text import Message
from slackbot.meetings.decision import BotState, Choice, Decision, MeetingFacts, decide, dedup_key
from slackbot.slack_gateway import SlackGateway, WorkspaceNotInstalled
from storage import meetings as repo
from storage.db import Database
from storage.models import CalendarConnection, Meeting, Member, utcnow

logger = logging.getLogger(__name__)


class NotYourMeeting(Exception):
    """A button for a meeting that is not on the clicking member's calendar (or does not exist)."""


@dataclass(frozen=True)
class ChoiceOutcome:
    decision: Decision
    error: RecallError | None = None  # the Recall call failed; nothing was changed


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


def _hash(message: Message) -> str:
    return hashlib.sha256(json.dumps([message.text, message.blocks], sort_keys=True).encode()).hexdigest()


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
        self._locks: dict[str, asyncio.Lock] = {}

    def _lock(self, event_id: str) -> asyncio.Lock:
        lock = self._locks.get(event_id)
        if lock is None:
            lock = self._locks[event_id] = asyncio.Lock()
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
                    continue  # already seen (redelivery, overlapping listing)
                if meeting is None:
                    connection, member = owner
                    meeting = Meeting(recall_event_id=event.id, connection_id=connection.id, team_id=member.team_id)
                    session.add(meeting)
                    existing[event.id] = meeting
                _copy_event(meeting, event)
                changed.append(event.id)
        clients: dict[str, AsyncWebClient] = {}
        # Recall advises handling future events in chronological order (scheduling guide, rate limits).
        ordered = sorted(changed, key=lambda event_id: existing[event_id].start_time)
        for event_id in ordered:
            async with self._lock(event_id):
                await self._reconcile(event_id, clients=clients)
        return len(changed)

    async def refresh_ended(self) -> int:
        """Take the buttons off messages of meetings that have ended."""
        async with self._db.transaction() as session:
            ids = await repo.ended_with_live_message(session, now=self._clock())
        clients: dict[str, AsyncWebClient] = {}
        for event_id in ids:
            async with self._lock(event_id):
                await self._reconcile(event_id, clients=clients)
        return len(ids)

    async def repair(self) -> int:
        """Retry what failed earlier: bots not moved to a meeting's new time or link, DMs Slack refused."""
        async with self._db.transaction() as session:
            ids = await repo.meetings_needing_repair(session, now=self._clock())
        clients: dict[str, AsyncWebClient] = {}
        for event_id in ids:
            async with self._lock(event_id):
                await self._reconcile(event_id, clients=clients)
        return len(ids)

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
                previous = meeting.choice
                meeting.choice = choice.value if choice else None
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
            snapshot = _Snapshot.of(meeting, connection, member)

        error: RecallError | None = None
        scheduled_key = snapshot.scheduled_key
        try:
            scheduled_key = await self._reconcile_bot(snapshot, decision)
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

        keys_touched = {k for k in (snapshot.scheduled_key, scheduled_key) if k}
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
            needs_post = meeting.message_ts is None and decision.worth_a_new_message
            needs_update = meeting.message_ts is not None and digest != meeting.rendered_hash
            channel, ts = meeting.channel_id, meeting.message_ts

        if needs_post or needs_update:
            posted = await self._send(
                snapshot, message, channel=channel, ts=ts if needs_update else None, clients=clients
            )
            if posted is not None:
                async with self._db.transaction() as session:
                    meeting = await repo.get_meeting(session, event_id)
                    if meeting is not None:
                        meeting.channel_id, meeting.message_ts = posted
                        meeting.rendered_hash = digest
                        meeting.rendered_state = decision.state.value
        if snapshot.scheduled_key != scheduled_key:
            await self._refresh_colleagues(snapshot, keys_touched, clients=clients)
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

    async def _reconcile_bot(self, snapshot: _Snapshot, decision: Decision) -> str | None:
        """Returns the dedup key our bot is scheduled under afterwards (None: no bot of ours)."""
        if decision.wants_bot:
            key = snapshot.current_key
            if key and key != snapshot.scheduled_key:
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

    async def _refresh_colleagues(
        self, snapshot: _Snapshot, keys: set[str], *, clients: dict[str, AsyncWebClient]
    ) -> None:
        """A bot appeared or went away under ``keys``: colleagues' messages about that meeting change too."""
        async with self._db.transaction() as session:
            ids = await repo.meetings_sharing_key(session, team_id=snapshot.team_id, keys=sorted(keys))
        for other in ids:
            if other == snapshot.event_id:
                continue
            lock = self._lock(other)
            if lock.locked():
                continue  # being reconciled right now; it will read the new state
            async with lock:
                await self._reconcile_message_only(other, clients=clients)

    async def _reconcile_message_only(self, event_id: str, *, clients: dict[str, AsyncWebClient]) -> None:
        async with self._db.transaction() as session:
            meeting = await repo.get_meeting(session, event_id)
            owner = await repo.owner_of(session, meeting) if meeting else None
            if meeting is None or owner is None or meeting.message_ts is None:
                return
            connection, member = owner
            decision = await self._decide(session, meeting, member)
            message = meeting_message(facts_of(meeting), decision, event_id=event_id)
            digest = _hash(message)
            if digest == meeting.rendered_hash:
                return
            snapshot = _Snapshot.of(meeting, connection, member)
            channel, ts = meeting.channel_id, meeting.message_ts
        posted = await self._send(snapshot, message, channel=channel, ts=ts, clients=clients)
        if posted is not None:
            async with self._db.transaction() as session:
                meeting = await repo.get_meeting(session, event_id)
                if meeting is not None:
                    meeting.rendered_hash = digest
                    meeting.rendered_state = decision.state.value

    async def _send(
        self,
        snapshot: _Snapshot,
        message: Message,
        *,
        channel: str | None,
        ts: str | None,
        clients: dict[str, AsyncWebClient],
    ) -> tuple[str, str] | None:
        """chat.update when ``ts`` is known, else post a new DM. Returns (channel, ts), or None if Slack refused."""
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
        except (SlackApiError, WorkspaceNotInstalled) as exc:
            error = exc.response.get("error") if isinstance(exc, SlackApiError) else "not_installed"
            logger.warning("meetings.slack_failed", extra={"recall_event_id": snapshot.event_id, "error": error})
            return None


@dataclass(frozen=True)
class _Snapshot:
    """What acting on a meeting needs, read inside a transaction and used outside it."""

    event_id: str
    team_id: str
    enterprise_id: str | None
    user_id: str
    current_key: str | None
    scheduled_key: str | None
    provider: str

    @classmethod
    def of(cls, meeting: Meeting, connection: CalendarConnection, member: Member) -> _Snapshot:
        return cls(
            event_id=meeting.recall_event_id,
            team_id=member.team_id,
            enterprise_id=member.enterprise_id,
            user_id=member.slack_user_id,
            current_key=meeting.current_key,
            scheduled_key=meeting.scheduled_key,
            provider=connection.provider,
        )
