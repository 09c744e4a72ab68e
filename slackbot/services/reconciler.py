"""Carries out a meeting's plan: Recall's bot, then the member's message, then the outcome in the database.

Thin on purpose: what to do comes from `meetings.decision.decide` and `meetings.plan.plan`; this module only
reads the meeting, performs the steps and records what happened. One process acts on a meeting at a time
(a lease on the row); a run settles the meeting only if nothing changed while it ran (the row's version),
otherwise it runs again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from slack_sdk.errors import SlackApiError

from recall.client import RecallClient
from recall.errors import RecallError, RecallRateLimited
from slackbot.blocks.digests import Row, reminder_message
from slackbot.blocks.meeting import admit_alert, meeting_message
from slackbot.blocks.text import Message
from slackbot.meetings.attention import HOME_DAYS, Notify, zone
from slackbot.meetings.bot_life import BotShown
from slackbot.meetings.decision import Choice, Decision, MeetingFacts, decide
from slackbot.meetings.plan import (
    BotStep,
    Current,
    MessageStep,
    Plan,
    Settlement,
    plan,
    retry_later,
    shown_after_bot_failure,
)
from slackbot.meetings.rules import Policy
from slackbot.requester import Requester
from slackbot.services.bot_config import BotSetup, bot_config
from slackbot.services.from_rows import facts_of, life_of, policy_for
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
from storage import bots, digests, leases, members, policies
from storage import meetings as repo
from storage.connections import DISCONNECTED
from storage.db import Database
from storage.lifecycle import AlertStatus, BotPhase, ReconcileStatus
from storage.models import Meeting

logger = logging.getLogger(__name__)

# Digests (the agenda, the connect summary) and the Home tab show meetings of the next days only.
SHOWN_ELSEWHERE = timedelta(days=HOME_DAYS)
# A Home opened this recently may still be on the member's screen (see services.home).
HOME_OPEN_WINDOW = timedelta(minutes=30)

# Runs of one meeting in a row when changes keep arriving while it is acted on (each sees the newer facts).
MAX_RUNS = 3

# A meeting's first DM carries this Slack message metadata, so that a DM Slack took without our hearing back (a
# crash, a lost reply) is found in the DM's history and updated instead of sent twice.
MEETING_METADATA_TYPE = "recall_meeting"
# The one DM saying the meeting's bot waits to be admitted.
ADMIT_ALERT_METADATA_TYPE = "recall_admit_alert"
# Where to look for it, around the time it was sent: our clock against Slack's, and one request's time out.
CLOCK_SKEW = timedelta(seconds=CLOCK_SKEW_SECONDS)
REQUEST_TIMEOUT = timedelta(seconds=30)
# The claim of a meeting without a message notes the time (no transaction of its own); a first DM that leaves
# within this long after it needs no other note. One held up longer (Slack's pacing, a slow Recall) notes its own.
POST_WINDOW = timedelta(seconds=10)


def meeting_metadata(event_id: str) -> dict[str, Any]:
    return event_mark(MEETING_METADATA_TYPE, event_id)


def _lost_lease(
    meeting: Meeting,
    *,
    choice: Choice | None,
    clicked: bool,
    stored: str | None,
    steps: Plan,
    sent: PostedMessage | None,
    now: datetime,
) -> None:
    """Our lease ran out while we acted (a stalled process) and another process took the meeting over: what we
    read is older than what it read, so nothing of ours is written over its results. Only facts it cannot know
    are kept: the member's click, the bot call we made (Recall now holds our bot, or none of ours), a first
    message we posted. The meeting is due again, so the next run acts on all of it."""
    logger.warning("meetings.lease_lost", extra={"recall_event_id": meeting.recall_event_id})
    if clicked and meeting.choice == stored:
        meeting.choice = choice.value if choice else None
    if steps.bot is not BotStep.NOTHING:
        meeting.scheduled_key = steps.scheduled_key
    if sent is not None and meeting.message_ts is None:
        meeting.channel_id, meeting.message_ts = sent.channel, sent.ts
        meeting.post_sent_at = None
    meeting.rendered_hash = None  # whatever the member sees now, the next run brings it in line
    repo.mark_pending(meeting, now=now)


@dataclass
class _Left:
    """Whether this run's first DM left for Slack (``at``), and whether no answer came back (``unanswered``)."""

    at: datetime | None = None
    unanswered: bool = False


class NotYourMeeting(Exception):
    """A button for a meeting that is not on the clicking member's calendar (or does not exist)."""


@dataclass(frozen=True)
class Click:
    """A member's Schedule (``SCHEDULE``), Skip (``SKIP``) or Undo (``None``) on a meeting's button."""

    requester: Requester
    choice: Choice | None


@dataclass(frozen=True)
class Outcome:
    decision: Decision  # what the member sees now
    error: RecallError | None = None  # Recall refused the click; nothing was changed
    refused: bool = False  # the meeting can no longer be acted on (ended, cancelled, declined, no link)
    bot_active: bool = False  # ... because its bot is on its way to the call or in it
    deferred: bool = False  # another process is acting on the meeting; it picks the change up
    # Colleagues' meetings whose message changes because our bot came or went (marked PENDING).
    colleagues: tuple[str, ...] = ()
    changed_meanwhile: bool = False  # the meeting changed while this run acted: run again


@dataclass(frozen=True)
class _Snapshot:
    """What acting on a meeting needs, read inside a transaction and used outside it."""

    event_id: str
    member_id: int
    owner: Requester
    dm_channel: str | None
    facts: MeetingFacts
    colleagues: tuple[str, ...]
    stored_choice: Choice | None
    series_choice: Choice | None
    policy: Policy
    bot_name: str
    tz: tzinfo  # the member's, for the notification text
    current: Current
    posted: PostedMessage | None
    reminder: PostedMessage | None
    version: int
    home_open_since: datetime | None
    post_sent_at: datetime | None  # a first DM left then and was never recorded (see `_find_unconfirmed`)
    bot: BotShown | None  # the meeting's bot, once Recall said where it is
    setup: BotSetup  # what a bot scheduled now is told (metadata, transcript, consent notice)
    noted_at: float | None = None  # Unix time this run's claim noted as the first DM's (see `POST_WINDOW`)


def retry_after_of(exc: BaseException) -> timedelta | None:
    """A 429's Retry-After (Recall's or Slack's), honoured by trying again later rather than sleeping while the
    meeting is held."""
    if isinstance(exc, RecallRateLimited) and exc.retry_after is not None:
        return timedelta(seconds=exc.retry_after)
    if isinstance(exc, SlackApiError) and exc.response.status_code == 429:
        header = exc.response.headers.get("Retry-After") or exc.response.headers.get("retry-after")
        try:
            return timedelta(seconds=float(header)) if header is not None else None
        except ValueError:
            return None
    return None


def _refuses(before: Decision, click: Click, *, bot_active: bool = False) -> bool:
    """A click that cannot change the meeting: it ended, was cancelled or declined, has no link, its bot already
    set off for the call, or workspace policy records it and members may not skip it."""
    return not before.actionable or bot_active or (before.locked and click.choice is not Choice.SCHEDULE)


class Reconciler:
    def __init__(
        self,
        *,
        db: Database,
        recall: RecallClient,
        gateway: SlackGateway,
        bot_name: str,
        lease: timedelta = leases.DEFAULT_LEASE,
        transcript_provider: str | None = None,
    ) -> None:
        self._db = db
        self._recall = recall
        self._gateway = gateway
        self._bot_name = bot_name
        self._lease = lease
        # Recall's transcription provider every bot is scheduled with (None: no transcript).
        self._transcript_provider = transcript_provider

    async def run(
        self,
        event_id: str,
        *,
        now: datetime,
        click: Click | None = None,
        only_if_due: Sequence[ReconcileStatus] | None = None,
    ) -> Outcome:
        """Bring Recall's bot and the member's message in line with the meeting (and the member's click).
        ``only_if_due``: leave it (deferred) unless it is still due in one of these statuses."""
        outcome = await self._once(event_id, now=now, click=click, only_if_due=only_if_due)
        runs = 1
        while outcome.changed_meanwhile and runs < MAX_RUNS:
            again = await self._once(event_id, now=now)
            outcome = replace(
                outcome,
                decision=again.decision,
                deferred=again.deferred,
                colleagues=tuple(dict.fromkeys(outcome.colleagues + again.colleagues)),
                changed_meanwhile=again.changed_meanwhile,
            )
            runs += 1
        return outcome

    async def _once(
        self,
        event_id: str,
        *,
        now: datetime,
        click: Click | None = None,
        only_if_due: Sequence[ReconcileStatus] | None = None,
    ) -> Outcome:
        snapshot, claimed = await self._read(event_id, now=now, click=click, only_if_due=only_if_due)
        before = self._decide(snapshot, snapshot.stored_choice, now)
        started = snapshot.current.bot_active
        refused = click is not None and _refuses(before, click, bot_active=started)
        if not claimed:
            return Outcome(before, refused=refused, bot_active=refused and started, deferred=True)
        clicked = click is not None and not refused
        choice = click.choice if clicked and click is not None else snapshot.stored_choice
        lane = Lane.MEMBER if click is not None else Lane.BACKGROUND
        async with leases.holding(self._db, Meeting, [event_id], lease=self._lease):
            snapshot, found, unconfirmed = await self._find_unconfirmed(snapshot, lane)
            decision = self._decide(snapshot, choice, now)
            message = self._render(snapshot, decision)
            steps = plan(snapshot.current, decision, digest=message.digest(), now=now)
            if steps.bot is BotStep.SCHEDULE and snapshot.bot is not None and snapshot.bot.dedup_key != steps.key:
                # A new bot replaces the finished one shown (the meeting moved or got a new link): the member sees
                # the meeting as scheduled again, and the new bot's own life from its first status on.
                current = replace(snapshot.current, bot_waiting=False, alert_sent=False, bot_news=False)
                snapshot = replace(snapshot, bot=None, current=current)
                message = self._render(snapshot, decision)
                steps = plan(snapshot.current, decision, digest=message.digest(), now=now)
            bot_id: str | None = None
            try:
                bot_id = await self._bot(snapshot, steps)
            except RecallError as exc:
                logger.warning(
                    "meetings.bot_call_failed",
                    extra={
                        "recall_event_id": event_id,
                        "error": type(exc).__name__,
                        "status": getattr(exc, "status", None),
                    },
                )
                if clicked:
                    # The member's click did not happen: everything stays as it was.
                    await self._release(event_id, forget_note=snapshot.noted_at is not None)
                    return Outcome(before, error=exc)
                fallback = self._decide(snapshot, None, now)
                decision = shown_after_bot_failure(decision, current=snapshot.current, fallback=fallback)
                message = self._render(snapshot, decision)
                steps = plan(
                    snapshot.current,
                    decision,
                    digest=message.digest(),
                    now=now,
                    bot_failed=True,
                    not_before=retry_after_of(exc),
                )
            # A first DM found in Slack is the meeting's message whatever this run does with it.
            sent, settlement, delivered = found, steps.settlement, True
            left = _Left()
            alerted = False
            if unconfirmed is not None:
                # Whether Slack took the first DM is still unknown: nothing is sent until it is known.
                settlement = retry_later(snapshot.current, now=now, not_before=retry_after_of(unconfirmed))
                delivered = False
            else:
                try:
                    sent = await self._send(snapshot, steps.message, message, lane, left) or sent
                    if steps.reminder is MessageStep.UPDATE and snapshot.reminder is not None:
                        reminder = reminder_message(
                            Row(event_id, snapshot.facts, decision, snapshot.bot), tz=snapshot.tz
                        )
                        await self._gateway.update(snapshot.owner, snapshot.reminder, reminder, lane=lane)
                    if steps.alert is MessageStep.POST:
                        alerted = await self._alert(
                            snapshot.event_id,
                            snapshot.owner,
                            title=snapshot.facts.title,
                            bot_name=snapshot.bot_name,
                            channel=snapshot.dm_channel,
                            lane=lane,
                        )
                except SLACK_FAILURES as exc:
                    logger.warning(
                        "meetings.slack_failed", extra={"recall_event_id": event_id, "error": slack_error_name(exc)}
                    )
                    settlement = retry_later(snapshot.current, now=now, not_before=retry_after_of(exc))
                    delivered = False
                    left.unanswered = sent is None and left.at is not None and outcome_unknown(exc)
        changed_meanwhile = await self._record(
            snapshot,
            choice=choice if clicked else None,
            clicked=clicked,
            steps=steps,
            sent=sent,
            digest=message.digest() if delivered else None,
            settlement=settlement,
            now=now,
            first_post_unknown=unconfirmed is not None or left.unanswered,
            bot_id=bot_id,
            alerted=alerted,
        )
        colleagues: tuple[str, ...] = ()
        if steps.scheduled_key != snapshot.current.scheduled_key:
            keys = sorted(k for k in (snapshot.current.scheduled_key, steps.scheduled_key) if k)
            async with self._db.transaction() as session:
                colleagues = tuple(
                    await repo.mark_sharing_key_pending(
                        session, team_id=snapshot.owner.team_id, keys=keys, except_event_id=event_id, now=now
                    )
                )
        return Outcome(
            decision,
            refused=refused,
            bot_active=refused and started,
            colleagues=colleagues,
            changed_meanwhile=changed_meanwhile,
        )

    # ---- steps ------------------------------------------------------------------------------------------------

    async def _read(
        self, event_id: str, *, now: datetime, click: Click | None, only_if_due: Sequence[ReconcileStatus] | None
    ) -> tuple[_Snapshot, bool]:
        async with self._db.transaction() as session:
            meeting = await repo.get_meeting(session, event_id)
            owner = await repo.owner_of(session, meeting) if meeting else None
            if meeting is None or owner is None:
                raise NotYourMeeting(event_id)
            connection, member = owner
            requester = Requester(member.team_id, member.slack_user_id, member.enterprise_id)
            if click is not None and (click.requester.team_id, click.requester.user_id) != (
                requester.team_id,
                requester.user_id,
            ):
                raise NotYourMeeting(event_id)
            workspace = await policies.workspace_policy(session, member.team_id)
            series = (
                await policies.series_choice(session, member_id=member.id, series_id=meeting.series_id)
                if meeting.series_id
                else None
            )
            colleagues = (
                await repo.colleagues_with_bot(
                    session, team_id=member.team_id, key=meeting.current_key, exclude_user_id=member.slack_user_id
                )
                if meeting.current_key
                else []
            )
            posted = (
                PostedMessage(meeting.channel_id, meeting.message_ts)
                if meeting.channel_id and meeting.message_ts
                else None
            )
            reminder = (
                PostedMessage(meeting.reminder_channel_id, meeting.reminder_ts)
                if meeting.reminder_channel_id and meeting.reminder_ts
                else None
            )
            bot_name = workspace.bot_name if workspace and workspace.bot_name else self._bot_name
            bot_row = (await bots.bots_for(session, [meeting])).get(event_id)
            life = life_of(bot_row)
            shown = (
                BotShown(
                    life,
                    bot_name,
                    removable=bot_row.scheduled_by == member.slack_user_id,
                    dedup_key=bot_row.dedup_key,
                )
                if bot_row is not None and life.started
                else None
            )
            own_bot = bot_row if bot_row is not None and bot_row.bot_id == meeting.bot_id else None
            sharing = (
                await repo.event_ids_sharing_key(session, team_id=member.team_id, key=meeting.current_key)
                if meeting.current_key
                else []
            )
            snapshot = _Snapshot(
                event_id=event_id,
                member_id=member.id,
                owner=requester,
                dm_channel=meeting.channel_id or member.dm_channel_id,
                facts=facts_of(meeting),
                colleagues=tuple(colleagues),
                stored_choice=Choice(meeting.choice) if meeting.choice else None,
                series_choice=Choice(series) if series else None,
                policy=policy_for(member=member, emails=[connection.email], workspace=workspace),
                bot_name=bot_name,
                tz=zone(member.timezone),
                current=Current(
                    current_key=meeting.current_key,
                    scheduled_key=meeting.scheduled_key,
                    calendar_live=connection.status != DISCONNECTED,
                    message_posted=posted is not None,
                    rendered_hash=meeting.rendered_hash,
                    attempts=meeting.attempts,
                    end_time=meeting.end_time,
                    is_new=meeting.is_new,
                    notify=Notify(member.notify) if member.notify in Notify._value2member_map_ else Notify.EACH,
                    reminder_posted=reminder is not None,
                    reachable=member.active,
                    bot_active=own_bot is not None and life.active,
                    bot_waiting=life.phase is BotPhase.WAITING,
                    alert_sent=meeting.admit_alert is not AlertStatus.NONE,
                    bot_news=life.recording_ready or life.nothing_recorded,
                ),
                posted=posted,
                reminder=reminder,
                home_open_since=member.home_opened_at,
                version=meeting.version,
                post_sent_at=meeting.post_sent_at if meeting.message_ts is None else None,
                bot=shown,
                setup=BotSetup(
                    team_id=member.team_id,
                    user_id=member.slack_user_id,
                    event_ids=tuple(dict.fromkeys([event_id, *sharing])),
                    bot_name=bot_name,
                    member_label=connection.email,
                    transcript_provider=self._transcript_provider,
                    consent=workspace.consent_enabled if workspace else True,
                    consent_text=workspace.consent_text if workspace else None,
                ),
            )
            claimed = await repo.claim_meeting(
                session, event_id, owner=leases.PROCESS_ID, lease=self._lease, now=now, only_if_due=only_if_due
            )
            if claimed and meeting.message_ts is None and meeting.post_sent_at is None:
                # Whatever this run posts first leaves soon: noted now, in the claim's own transaction.
                noted = time.time()
                meeting.post_sent_at = datetime.fromtimestamp(noted, UTC)
                snapshot = replace(snapshot, noted_at=noted)
            if not claimed and click is not None:
                # Another process is acting on it: leave the click for that run to pick up.
                before = self._decide(snapshot, snapshot.stored_choice, now)
                if not _refuses(before, click, bot_active=own_bot is not None and life.active):
                    meeting.choice = click.choice.value if click.choice else None
                    repo.mark_pending(meeting, now=now)
        return snapshot, claimed

    def _decide(self, snapshot: _Snapshot, choice: Choice | None, now: datetime) -> Decision:
        return decide(
            snapshot.facts,
            choice=choice,
            covered_by=snapshot.colleagues,
            now=now,
            series_choice=snapshot.series_choice,
            policy=snapshot.policy,
        )

    def _render(self, snapshot: _Snapshot, decision: Decision) -> Message:
        return meeting_message(snapshot.facts, decision, event_id=snapshot.event_id, bot=snapshot.bot, tz=snapshot.tz)

    async def _bot(self, snapshot: _Snapshot, steps: Plan) -> str | None:
        """Carry out the bot step; returns the id of the bot Recall scheduled (None: none scheduled now)."""
        if steps.bot is BotStep.SCHEDULE and steps.key is not None:
            event = await self._recall.schedule_bot(
                snapshot.event_id, deduplication_key=steps.key, bot_config=bot_config(snapshot.setup)
            )
            logger.info("meetings.bot_scheduled", extra={"recall_event_id": snapshot.event_id})
            return next((b.bot_id for b in event.bots if b.deduplication_key == steps.key), None)
        if steps.bot is BotStep.UNSCHEDULE:
            await self._recall.unschedule_bot(snapshot.event_id)
            logger.info("meetings.bot_unscheduled", extra={"recall_event_id": snapshot.event_id})
        return None

    async def send_admit_alert(self, event_id: str) -> bool:
        """The waiting-room alert on its own, ahead of the meeting's message update (which Slack paces at 50 a
        minute: 200 meetings starting at once would otherwise hear of their waiting bot over four minutes).
        Sends it if the meeting's own bot waits and nobody sent it yet; the reconcile that follows records it."""
        async with self._db.transaction() as session:
            meeting = await repo.get_meeting(session, event_id)
            owner = await repo.owner_of(session, meeting) if meeting else None
            if meeting is None or owner is None or meeting.admit_alert is not AlertStatus.NONE or not meeting.bot_id:
                return False
            member = owner[1]
            bot = await bots.get_bot(session, meeting.bot_id)
            if bot is None or bot.phase is not BotPhase.WAITING or not member.active:
                return False
            workspace = await policies.workspace_policy(session, member.team_id)
            bot_name = workspace.bot_name if workspace and workspace.bot_name else self._bot_name
            requester = Requester(member.team_id, member.slack_user_id, member.enterprise_id)
            channel = meeting.channel_id or member.dm_channel_id
            title = meeting.title
        sent = await self._alert(
            event_id, requester, title=title, bot_name=bot_name, channel=channel, lane=Lane.BACKGROUND
        )
        if sent:
            async with self._db.transaction() as session:
                await repo.finish_admit_alert(session, event_id)
        return sent

    async def _alert(
        self, event_id: str, owner: Requester, *, title: str, bot_name: str, channel: str | None, lane: Lane
    ) -> bool:
        """The bot waits to be admitted: one DM that notifies the member now. At most once: claimed before it is
        sent, never re-sent on a dropped connection (it carries metadata), and given back for another try only when
        Slack answered that it did not take it. A crash or a lost answer loses it rather than sending it twice (the
        meeting's message says the bot waits, too)."""
        async with self._db.transaction() as session:
            if not await repo.claim_admit_alert(session, event_id):
                return False
        try:
            await self._gateway.post_dm(
                owner,
                admit_alert(title, bot_name=bot_name),
                channel=channel,
                lane=lane,
                metadata=event_mark(ADMIT_ALERT_METADATA_TYPE, event_id),
            )
        except SLACK_FAILURES as exc:
            if not outcome_unknown(exc):
                async with self._db.transaction() as session:
                    await repo.release_admit_alert(session, event_id)
            raise
        return True

    async def _find_unconfirmed(
        self, snapshot: _Snapshot, lane: Lane
    ) -> tuple[_Snapshot, PostedMessage | None, BaseException | None]:
        """A first DM sent earlier without an answer (a crash, a lost reply) is looked for in the DM's history. Found:
        it becomes the meeting's message (updated from now on). Not there: it is posted as usual. Slack not
        answering: the third item, and nothing is posted until it is known."""
        if snapshot.post_sent_at is None or snapshot.posted is not None:
            return snapshot, None, None
        sent_at = snapshot.post_sent_at
        try:
            channel = snapshot.dm_channel or await self._gateway.dm_channel(snapshot.owner, lane=lane)
            found = await self._gateway.find_posted(
                snapshot.owner,
                channel,
                metadata=meeting_metadata(snapshot.event_id),
                oldest=(sent_at - CLOCK_SKEW).timestamp(),
                latest=(sent_at + POST_WINDOW + REQUEST_TIMEOUT + CLOCK_SKEW).timestamp(),
                lane=lane,
            )
        except SlackApiError as exc:
            if exc.response.get("error") != "missing_scope":
                return self._lookup_failed(snapshot, exc)
            # Installed before `im:history` was asked for: post again, as the app always did, until reinstalled.
            logger.warning("meetings.unconfirmed_post_not_searchable", extra={"recall_event_id": snapshot.event_id})
            return snapshot, None, None
        except SLACK_FAILURES as exc:
            return self._lookup_failed(snapshot, exc)
        logger.info(
            "meetings.unconfirmed_post", extra={"recall_event_id": snapshot.event_id, "found": found is not None}
        )
        if found is None:
            return snapshot, None, None
        current = replace(snapshot.current, message_posted=True, rendered_hash=None)
        return replace(snapshot, current=current, posted=found), found, None

    @staticmethod
    def _lookup_failed(
        snapshot: _Snapshot, exc: BaseException
    ) -> tuple[_Snapshot, PostedMessage | None, BaseException | None]:
        logger.warning(
            "meetings.unconfirmed_post_lookup_failed",
            extra={"recall_event_id": snapshot.event_id, "error": slack_error_name(exc)},
        )
        return snapshot, None, exc

    async def _send(
        self, snapshot: _Snapshot, step: MessageStep, message: Message, lane: Lane, left: _Left
    ) -> PostedMessage | None:
        if step is MessageStep.POST:

            async def leaving(channel: str) -> None:
                now_wall = time.time()  # Slack's clock, not the run's `now`
                left.at = datetime.fromtimestamp(now_wall, UTC)
                if snapshot.noted_at is not None and now_wall - snapshot.noted_at <= POST_WINDOW.total_seconds():
                    return  # the claim's note covers it
                async with self._db.transaction() as session:
                    await repo.note_post_sent(
                        session, snapshot.event_id, owner=leases.PROCESS_ID, at=left.at, channel=channel
                    )

            return await self._gateway.post_dm(
                snapshot.owner,
                message,
                channel=snapshot.dm_channel,
                lane=lane,
                metadata=meeting_metadata(snapshot.event_id),
                before_send=leaving,
            )
        if step is MessageStep.UPDATE and snapshot.posted is not None:
            await self._gateway.update(snapshot.owner, snapshot.posted, message, lane=lane)
            return snapshot.posted
        return None

    async def _record(
        self,
        snapshot: _Snapshot,
        *,
        choice: Choice | None,
        clicked: bool,
        steps: Plan,
        sent: PostedMessage | None,
        digest: str | None,
        settlement: Settlement,
        now: datetime,
        first_post_unknown: bool = False,
        bot_id: str | None = None,
        alerted: bool = False,
    ) -> bool:
        """Write what happened; settle only if nothing changed meanwhile. Returns whether something did.
        ``digest``: what the member now sees of the meeting (None: a message could not be brought in line).
        ``first_post_unknown``: whether Slack took a first DM is still not known (the next run looks for it)."""
        async with self._db.transaction() as session:
            meeting = await repo.get_meeting(session, snapshot.event_id)
            if meeting is None:
                return False  # disconnected meanwhile: its rows are gone
            stored = snapshot.stored_choice.value if snapshot.stored_choice else None
            if meeting.claimed_by != leases.PROCESS_ID:
                _lost_lease(meeting, choice=choice, clicked=clicked, stored=stored, steps=steps, sent=sent, now=now)
                return False
            if clicked and meeting.choice == stored:
                # Compare-and-set: a click stored meanwhile (on another replica, while we acted) is newer.
                meeting.choice = choice.value if choice else None
            if steps.scheduled_key != snapshot.current.scheduled_key:
                meeting.scheduled_key = steps.scheduled_key
            if steps.bot is BotStep.UNSCHEDULE and meeting.bot_id is not None:
                bot = await bots.get_bot(session, meeting.bot_id, for_update=True)
                if bot is not None and bot.scheduled_by == snapshot.owner.user_id:
                    await bots.hand_over(session, bot, leaving_event_id=snapshot.event_id)
                meeting.bot_id = None
                meeting.admit_alert = AlertStatus.NONE
            elif bot_id is not None:
                if bot_id != meeting.bot_id:
                    meeting.admit_alert = AlertStatus.NONE  # a new bot: its own waiting room
                meeting.bot_id = bot_id
                await bots.ensure_bot(
                    session,
                    bot_id=bot_id,
                    team_id=snapshot.owner.team_id,
                    scheduled_by=snapshot.owner.user_id,
                    dedup_key=steps.key,
                )
            if alerted:
                meeting.admit_alert = AlertStatus.SENT
            if sent is not None:
                meeting.channel_id, meeting.message_ts = sent.channel, sent.ts
            if not first_post_unknown:
                meeting.post_sent_at = None
            if digest is not None and digest != meeting.rendered_hash:
                meeting.rendered_hash = digest
                # The agenda, the connect summary and an open Home tab show the next days' meetings too.
                if meeting.start_time < now + SHOWN_ELSEWHERE:
                    await digests.mark_member_digests_pending(session, member_id=snapshot.member_id, now=now)
                    if snapshot.home_open_since is not None and snapshot.home_open_since > now - HOME_OPEN_WINDOW:
                        await members.mark_home_due(session, member_id=snapshot.member_id, now=now)
            changed = meeting.version != snapshot.version
            if not changed:
                meeting.status, meeting.due_at, meeting.attempts = (
                    settlement.status,
                    settlement.due_at,
                    settlement.attempts,
                )
            if meeting.claimed_by == leases.PROCESS_ID:
                meeting.claimed_by = meeting.claimed_until = None
            return changed

    async def _release(self, event_id: str, *, forget_note: bool) -> None:
        """Give the meeting back untouched (``forget_note``: and the claim's note, as nothing was posted)."""
        async with self._db.transaction() as session:
            values = {"post_sent_at": None} if forget_note else None
            await leases.release(session, Meeting, event_id, owner=leases.PROCESS_ID, values=values)
