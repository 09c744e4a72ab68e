"""What acting on a meeting means: a pure plan from what is true now and what should be true.

Sans-I/O: `plan()` takes plain data and returns the steps (the bot, the message) and the meeting's next status;
the reconciler carries the steps out, and when the bot step fails it asks `plan()` again with the failure as an
input (the member then sees the truth: no bot yet). Each transition has a row in the table test.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from slackbot.meetings.attention import Notify, announces
from slackbot.meetings.decision import BotState, Decision
from storage.lifecycle import ReconcileStatus, backoff

FIRST_RETRY = timedelta(minutes=2)
MAX_RETRY = timedelta(hours=6)


class BotStep(StrEnum):
    NOTHING = "nothing"
    SCHEDULE = "schedule"  # POST the bot under `Plan.key` (a moved or relinked meeting gets a fresh POST)
    UNSCHEDULE = "unschedule"  # DELETE our bot (Recall keeps it if a colleague's calendar shares it)


class MessageStep(StrEnum):
    NOTHING = "nothing"
    POST = "post"  # the member's first message about the meeting
    UPDATE = "update"  # chat.update in place: what the member sees changed


@dataclass(frozen=True)
class Current:
    """What is true now about one member's meeting at Recall and in Slack."""

    current_key: str | None  # the meeting's dedup key as it is now (None: no video link)
    scheduled_key: str | None  # the key our bot is scheduled under (None: no bot of ours)
    calendar_live: bool  # Recall keeps no bots on a disconnected calendar: wait for the reconnect
    message_posted: bool
    rendered_hash: str | None  # hash of what the member last saw of the meeting (posted or not)
    attempts: int  # failed attempts in a row so far
    end_time: datetime
    is_new: bool = True  # created after the member connected: it may get a DM of its own
    notify: Notify = Notify.EACH
    reminder_posted: bool = False
    reachable: bool = True  # False once the member left the workspace or was deactivated: nothing is sent
    # The meeting's bot is on its way to the call or in it (Recall said so): its scheduling is closed, whatever
    # changes now. Once it has finished, a moved or relinked meeting gets a new bot as usual.
    bot_active: bool = False
    bot_waiting: bool = False  # it waits in the meeting's waiting room for someone to admit it
    alert_sent: bool = False  # the member was told so (once per meeting)
    bot_news: bool = False  # its recording is ready, or it finished without one: worth a message of its own


@dataclass(frozen=True)
class Settlement:
    """The meeting's next status, when to act on it again, and the failures counted so far."""

    status: ReconcileStatus
    due_at: datetime | None
    attempts: int


@dataclass(frozen=True)
class Plan:
    bot: BotStep
    key: str | None  # the key to schedule under, or the key of the bot being unscheduled
    message: MessageStep
    # When every step succeeds:
    scheduled_key: str | None
    settlement: Settlement
    reminder: MessageStep = MessageStep.NOTHING  # the reminder (if one was sent) follows the meeting too
    shown_changed: bool = False  # what the member sees of it changed: digests and the Home show it too
    alert: MessageStep = MessageStep.NOTHING  # POST: tell the member the bot waits to be admitted


def retry_later(current: Current, *, now: datetime, not_before: timedelta | None = None) -> Settlement:
    """A step failed: try again after a back-off (2 min, 4 min ... capped at six hours), and no sooner than the
    service asked (``not_before``: a 429's Retry-After)."""
    attempts = current.attempts + 1
    wait = backoff(attempts, first=FIRST_RETRY, cap=MAX_RETRY)
    if not_before is not None and not_before > wait:
        wait = not_before
    return Settlement(ReconcileStatus.RETRYING, now + wait, attempts)


def _bot(current: Current, decision: Decision) -> tuple[BotStep, str | None, str | None]:
    """(step, key, scheduled key afterwards)."""
    if current.bot_active:
        # Recall's bot is on its way or in the call: a late click, rule or calendar change cannot unschedule or
        # replace it (Remove bot makes it leave).
        return BotStep.NOTHING, None, current.scheduled_key
    if decision.wants_bot:
        key = current.current_key
        if key is None or key == current.scheduled_key or not current.calendar_live:
            return BotStep.NOTHING, None, current.scheduled_key
        return BotStep.SCHEDULE, key, key
    if current.scheduled_key is None:
        return BotStep.NOTHING, None, None
    if decision.state in (BotState.CANCELLED, BotState.ENDED):
        # Recall drops the bots of deleted events itself; an ended meeting's bot has done its job.
        return BotStep.NOTHING, None, None
    return BotStep.UNSCHEDULE, current.scheduled_key, None


def _message(current: Current, decision: Decision, digest: str) -> MessageStep:
    if not current.reachable:
        return MessageStep.NOTHING
    if current.message_posted:
        return MessageStep.UPDATE if digest != current.rendered_hash else MessageStep.NOTHING
    if announces(is_new=current.is_new, notify=current.notify, decision=decision):
        return MessageStep.POST
    if current.bot_news and current.notify is not Notify.OFF:
        return MessageStep.POST  # the recording (or why there is none) reaches members who had no DM about it
    return MessageStep.NOTHING


def _alert(current: Current) -> MessageStep:
    if current.reachable and current.bot_waiting and not current.alert_sent:
        return MessageStep.POST
    return MessageStep.NOTHING


def _reminder(current: Current, digest: str) -> MessageStep:
    if current.reachable and current.reminder_posted and digest != current.rendered_hash:
        return MessageStep.UPDATE
    return MessageStep.NOTHING


def plan(
    current: Current,
    decision: Decision,
    *,
    digest: str,
    now: datetime,
    bot_failed: bool = False,
    not_before: timedelta | None = None,
) -> Plan:
    """``digest``: hash of the message ``decision`` renders to. ``bot_failed``: the bot step of the first plan
    failed; ``decision`` is then what the member should see instead, and the meeting is retried later."""
    if bot_failed:
        step, key, scheduled_key = BotStep.NOTHING, None, current.scheduled_key
        settlement = retry_later(current, now=now, not_before=not_before)
    else:
        step, key, scheduled_key = _bot(current, decision)
        # A message with buttons goes stale when the meeting ends: act again then to take them off.
        settlement = Settlement(ReconcileStatus.SETTLED, current.end_time if decision.actionable else None, 0)
    return Plan(
        step,
        key,
        _message(current, decision, digest),
        scheduled_key,
        settlement,
        reminder=_reminder(current, digest),
        shown_changed=digest != current.rendered_hash,
        alert=_alert(current),
    )


def shown_after_bot_failure(decision: Decision, *, current: Current, fallback: Decision) -> Decision:
    """What the member sees when the bot step failed: a wanted bot that does not exist yet is not shown as
    scheduled (``fallback`` is the decision without the member's choice); anything else is shown as decided."""
    if decision.wants_bot and current.scheduled_key is None:
        return fallback
    return decision
