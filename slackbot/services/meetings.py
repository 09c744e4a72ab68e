"""Meetings in and out: store the events a listing brought, act on each changed one, handle a member's click,
and pick up what is due again (failures to retry, messages whose meeting ended)."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable, Iterable
from datetime import datetime

from recall.models import CalendarEvent
from slackbot.meetings.attention import is_new_meeting
from slackbot.meetings.decision import Choice
from slackbot.meetings.facts import bot_still_scheduled, facts_from_event, key_of
from slackbot.requester import Requester
from slackbot.services.digests import DigestService
from slackbot.services.intake_lull import IntakeLull
from slackbot.services.reconciler import Click, NotYourMeeting, Outcome, Reconciler
from storage import connections, syncs
from storage import meetings as repo
from storage.db import Database
from storage.lifecycle import ReconcileStatus
from storage.models import Meeting, utcnow

logger = logging.getLogger(__name__)

# Meetings acted on at once within one process (each waits mostly on the database, Recall or Slack).
RECONCILE_CONCURRENCY = 4
# Waiting-room alerts sent at once (each one DM; Slack's posting budget is far above its update limit).
ALERT_CONCURRENCY = 8

__all__ = ["MeetingService", "NotYourMeeting", "Outcome"]


def _store(meeting: Meeting, event: CalendarEvent, *, owner_emails: frozenset[str]) -> None:
    facts = facts_from_event(event, owner_emails=owner_emails)
    meeting.provider_created_at = event.provider_created_at
    meeting.recall_updated_at = event.updated_at
    meeting.start_time = facts.start_time
    meeting.end_time = facts.end_time
    meeting.title = facts.title
    meeting.meeting_url = facts.meeting_url
    meeting.meeting_platform = facts.meeting_platform
    meeting.organizer = facts.organizer
    meeting.series_id = facts.series_id
    meeting.self_response = facts.self_response
    meeting.is_deleted = facts.is_deleted
    meeting.organizer_is_self = facts.organizer_is_self
    meeting.attendee_domains = list(facts.attendee_domains)
    meeting.current_key = key_of(facts)
    if meeting.scheduled_key and meeting.bot_id is None:
        # Our schedule call's answer was lost (a crash): the listing names the bot.
        meeting.bot_id = next((b.bot_id for b in event.bots if b.deduplication_key == meeting.scheduled_key), None)
    if meeting.scheduled_key and not bot_still_scheduled(event, meeting.scheduled_key):
        # Recall no longer has our bot (calendar disconnected, bot removed): schedule again if still wanted.
        meeting.scheduled_key = None


class MeetingService:
    def __init__(
        self,
        *,
        db: Database,
        reconciler: Reconciler,
        digests: DigestService | None = None,
        lull: IntakeLull | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._db = db
        self._reconciler = reconciler
        self._digests = digests
        # Background work waits for a burst of webhooks to pass (bounded); a member's click never does.
        self._lull = lull
        self._clock = clock
        # One lock per meeting while anyone in this process acts on it (a double click, a sync, a colleague).
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def _lock(self, event_id: str) -> asyncio.Lock:
        lock = self._locks.get(event_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[event_id] = lock
        return lock

    def _now(self) -> datetime:
        return self._clock()

    # ---- events in --------------------------------------------------------------------------------------------

    async def apply_events(self, events: Iterable[CalendarEvent]) -> int:
        """Store changed events of calendars we know, then act on each. Returns the meetings acted on."""
        events = list(events)
        now = self._now()
        async with self._db.transaction() as session:
            owners = await connections.connections_by_calendar(session, sorted({e.calendar_id for e in events}))
            existing = await repo.meetings_by_ids(session, [e.id for e in events if e.calendar_id in owners])
            first_sync = await syncs.never_listed(session, sorted(owners))
            changed: list[str] = []
            for event in events:
                owner = owners.get(event.calendar_id)
                if owner is None:
                    continue  # a calendar of another app or workspace sharing the Recall account
                meeting = existing.get(event.id)
                if meeting is not None and meeting.recall_updated_at >= event.updated_at:
                    if meeting.status is ReconcileStatus.PENDING:
                        changed.append(event.id)  # stored earlier, never acted on (a crash)
                    continue  # already seen (redelivery, overlapping listing)
                if meeting is None:
                    connection, member = owner
                    meeting = Meeting(
                        recall_event_id=event.id,
                        connection_id=connection.id,
                        team_id=member.team_id,
                        version=0,
                        # Quiet by default: only a meeting created after the member connected gets its own DM.
                        is_new=is_new_meeting(
                            provider_created_at=event.provider_created_at,
                            connected_at=connection.created_at,
                            first_sync=event.calendar_id in first_sync,
                        ),
                    )
                    session.add(meeting)
                    existing[event.id] = meeting
                _store(meeting, event, owner_emails=frozenset({owner[0].email.lower()}))
                repo.mark_pending(meeting, now=now)
                changed.append(event.id)
        # Recall advises handling future events in chronological order (scheduling guide, rate limits).
        ordered = sorted(changed, key=lambda event_id: existing[event_id].start_time)
        done = await self._reconcile_all(ordered)
        await self._after()
        return done

    # ---- a member's click -------------------------------------------------------------------------------------

    async def choose(self, *, requester: Requester, event_id: str, choice: Choice | None) -> Outcome:
        """Schedule (``SCHEDULE``), skip (``SKIP``) or undo (``None``) for the member who owns the meeting.
        Raises NotYourMeeting for anyone else, and for a meeting we do not know."""
        outcome = await self._reconcile(event_id, click=Click(requester, choice))
        await self._after()
        return outcome

    async def _after(self) -> None:
        """Digests that show changed meetings (agenda, connect summary) follow right away."""
        if self._digests is not None:
            await self._digests.run_due()

    # ---- what is due again ------------------------------------------------------------------------------------

    async def repair(self) -> int:
        """Act again on meetings whose last attempt failed (after their back-off), or that a crash left pending."""
        return await self._due([ReconcileStatus.PENDING, ReconcileStatus.RETRYING])

    async def refresh_ended(self) -> int:
        """Take the buttons off messages of meetings that have ended."""
        return await self._due([ReconcileStatus.SETTLED])

    async def _due(self, statuses: list[ReconcileStatus]) -> int:
        async with self._db.transaction() as session:
            ids = await repo.due_meetings(session, statuses=statuses, now=self._now())
        done = await self._reconcile_all(ids, only_if_due=statuses)
        await self._after()
        return done

    # ---- acting -----------------------------------------------------------------------------------------------

    async def follow_bots(self, event_ids: Iterable[str]) -> int:
        """Meetings whose bot moved on (Recall's bot webhooks): waiting-room alerts first, all at once (each a new
        DM, which Slack lets through far faster than message updates), then each meeting's message."""
        event_ids = list(event_ids)
        slots = asyncio.Semaphore(ALERT_CONCURRENCY)

        async def alert(event_id: str) -> None:
            async with slots:
                try:
                    await self._reconciler.send_admit_alert(event_id)
                except Exception:
                    # The reconcile below tries again (the alert is given back unless Slack may have taken it).
                    logger.warning("meetings.admit_alert_failed", extra={"recall_event_id": event_id})

        await asyncio.gather(*(alert(event_id) for event_id in event_ids))
        return await self.reconcile(event_ids)

    async def reconcile(self, event_ids: Iterable[str]) -> int:
        """Act on meetings marked to be decided again (a rule or policy changed)."""
        done = await self._reconcile_all(event_ids)
        await self._after()
        return done

    async def _reconcile(
        self, event_id: str, *, click: Click | None = None, only_if_due: list[ReconcileStatus] | None = None
    ) -> Outcome:
        async with self._lock(event_id):
            outcome = await self._reconciler.run(event_id, now=self._now(), click=click, only_if_due=only_if_due)
        # Colleagues' meetings sharing the bot say so now. One this process is acting on right now is waited for
        # (its lock) rather than skipped: the change may have landed after that run checked its version.
        if outcome.colleagues:
            await self._reconcile_all(outcome.colleagues, background=click is None)
        return outcome

    async def _reconcile_all(
        self,
        event_ids: Iterable[str],
        *,
        only_if_due: list[ReconcileStatus] | None = None,
        background: bool = True,
    ) -> int:
        """A few at a time: each waits mostly on I/O, so overlapping them shortens a large sync. Background work
        lets a burst of webhooks be answered first."""
        slots = asyncio.Semaphore(RECONCILE_CONCURRENCY)

        async def one(event_id: str) -> bool:
            async with slots:
                if background and self._lull is not None:
                    await self._lull.wait()
                try:
                    outcome = await self._reconcile(event_id, only_if_due=only_if_due)
                except NotYourMeeting:
                    return False  # disconnected meanwhile: its rows are gone
                except Exception:
                    # One meeting must not hold up the others; it stays due and the repair job retries it.
                    logger.exception("meetings.reconcile_failed", extra={"recall_event_id": event_id})
                    return False
                return not outcome.deferred

        return sum(await asyncio.gather(*(one(event_id) for event_id in event_ids)))
