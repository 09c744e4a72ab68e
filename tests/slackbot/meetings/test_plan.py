"""`plan()`: every transition of a meeting's reconcile, as a table of plain data (no servers, no database)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from slackbot.meetings.attention import Notify
from slackbot.meetings.decision import BotState, Decision, Reason
from slackbot.meetings.plan import (
    FIRST_RETRY,
    MAX_RETRY,
    BotStep,
    Current,
    MessageStep,
    Plan,
    Settlement,
    plan,
    retry_later,
    shown_after_bot_failure,
)
from storage.lifecycle import ReconcileStatus

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
END = NOW + timedelta(hours=2)
KEY = "2026-11-30T10:00:00Z-https://zoom.us/j/1"
OLD_KEY = "2026-11-30T09:30:00Z-https://zoom.us/j/1"
SHOWN = "digest-of-what-the-member-sees"


def current(**overrides: object) -> Current:
    base: dict[str, object] = {
        "current_key": KEY,
        "scheduled_key": None,
        "calendar_live": True,
        "message_posted": True,
        "rendered_hash": SHOWN,
        "attempts": 0,
        "end_time": END,
    }
    base.update(overrides)
    return Current(**base)  # type: ignore[arg-type]


def wants(state: BotState) -> Decision:
    return Decision(state, state is BotState.SCHEDULED)


SETTLED_LIVE = Settlement(ReconcileStatus.SETTLED, END, 0)  # buttons shown: due again when the meeting ends
SETTLED_DONE = Settlement(ReconcileStatus.SETTLED, None, 0)  # nothing left to change by itself

# (name, current, decision, digest, expected plan)
TABLE: list[tuple[str, Current, Decision, str, Plan]] = [
    # ---- the bot ---------------------------------------------------------------------------------------------
    (
        "schedule a wanted bot",
        current(),
        wants(BotState.SCHEDULED),
        "new",
        Plan(BotStep.SCHEDULE, KEY, MessageStep.UPDATE, KEY, SETTLED_LIVE),
    ),
    (
        "wanted bot already scheduled under the current key: nothing to do",
        current(scheduled_key=KEY),
        wants(BotState.SCHEDULED),
        SHOWN,
        Plan(BotStep.NOTHING, None, MessageStep.NOTHING, KEY, SETTLED_LIVE),
    ),
    (
        "meeting moved or relinked: a fresh POST under the new key (Recall never moves the bot)",
        current(scheduled_key=OLD_KEY),
        wants(BotState.SCHEDULED),
        "moved",
        Plan(BotStep.SCHEDULE, KEY, MessageStep.UPDATE, KEY, SETTLED_LIVE),
    ),
    (
        "wanted but the calendar is disconnected: wait for the reconnect",
        current(calendar_live=False),
        wants(BotState.SCHEDULED),
        SHOWN,
        Plan(BotStep.NOTHING, None, MessageStep.NOTHING, None, SETTLED_LIVE),
    ),
    (
        "wanted but the link is gone: nothing to schedule",
        current(current_key=None),
        wants(BotState.SCHEDULED),
        SHOWN,
        Plan(BotStep.NOTHING, None, MessageStep.NOTHING, None, SETTLED_LIVE),
    ),
    (
        "skipped with our bot scheduled: unschedule it",
        current(scheduled_key=KEY),
        wants(BotState.SKIPPED),
        "skipped",
        Plan(BotStep.UNSCHEDULE, KEY, MessageStep.UPDATE, None, SETTLED_LIVE),
    ),
    (
        "declined with our bot scheduled: unschedule it",
        current(scheduled_key=KEY),
        wants(BotState.DECLINED),
        "declined",
        Plan(BotStep.UNSCHEDULE, KEY, MessageStep.UPDATE, None, SETTLED_DONE),
    ),
    (
        "undo back to ask: unschedule",
        current(scheduled_key=OLD_KEY),
        wants(BotState.ASK),
        "ask",
        Plan(BotStep.UNSCHEDULE, OLD_KEY, MessageStep.UPDATE, None, SETTLED_LIVE),
    ),
    (
        "cancelled: Recall drops the bot itself, we only forget it",
        current(scheduled_key=KEY),
        wants(BotState.CANCELLED),
        "cancelled",
        Plan(BotStep.NOTHING, None, MessageStep.UPDATE, None, SETTLED_DONE),
    ),
    (
        "ended: the bot did its job, we only forget it",
        current(scheduled_key=KEY),
        wants(BotState.ENDED),
        "ended",
        Plan(BotStep.NOTHING, None, MessageStep.UPDATE, None, SETTLED_DONE),
    ),
    (
        "no bot and none wanted: nothing",
        current(),
        wants(BotState.ASK),
        SHOWN,
        Plan(BotStep.NOTHING, None, MessageStep.NOTHING, None, SETTLED_LIVE),
    ),
    (
        "covered by a colleague: our own bot is not wanted",
        current(),
        Decision(BotState.COVERED, False, ("U0BOB",)),
        SHOWN,
        Plan(BotStep.NOTHING, None, MessageStep.NOTHING, None, SETTLED_LIVE),
    ),
    # ---- the message -----------------------------------------------------------------------------------------
    (
        "first message for a meeting worth one",
        current(message_posted=False, rendered_hash=None),
        wants(BotState.ASK),
        "ask",
        Plan(BotStep.NOTHING, None, MessageStep.POST, None, SETTLED_LIVE),
    ),
    (
        "no first message for a meeting without a link",
        current(message_posted=False, rendered_hash=None, current_key=None),
        wants(BotState.NO_LINK),
        "no-link",
        Plan(BotStep.NOTHING, None, MessageStep.NOTHING, None, SETTLED_DONE),
    ),
    (
        "no first message for a cancelled meeting",
        current(message_posted=False, rendered_hash=None),
        wants(BotState.CANCELLED),
        "cancelled",
        Plan(BotStep.NOTHING, None, MessageStep.NOTHING, None, SETTLED_DONE),
    ),
    (
        "no first message for a declined meeting",
        current(message_posted=False, rendered_hash=None),
        wants(BotState.DECLINED),
        "declined",
        Plan(BotStep.NOTHING, None, MessageStep.NOTHING, None, SETTLED_DONE),
    ),
    (
        "no first message for a meeting that has ended",
        current(message_posted=False, rendered_hash=None),
        wants(BotState.ENDED),
        "ended",
        Plan(BotStep.NOTHING, None, MessageStep.NOTHING, None, SETTLED_DONE),
    ),
    (
        "a posted message whose content is unchanged is not updated",
        current(),
        wants(BotState.ASK),
        SHOWN,
        Plan(BotStep.NOTHING, None, MessageStep.NOTHING, None, SETTLED_LIVE),
    ),
    (
        "a posted message whose content changed is updated in place",
        current(),
        wants(BotState.ASK),
        "renamed",
        Plan(BotStep.NOTHING, None, MessageStep.UPDATE, None, SETTLED_LIVE),
    ),
    (
        "a posted message about a link-less meeting still follows it",
        current(current_key=None),
        wants(BotState.NO_LINK),
        "no-link",
        Plan(BotStep.NOTHING, None, MessageStep.UPDATE, None, SETTLED_DONE),
    ),
    (
        "schedule and post together",
        current(message_posted=False, rendered_hash=None),
        wants(BotState.SCHEDULED),
        "scheduled",
        Plan(BotStep.SCHEDULE, KEY, MessageStep.POST, KEY, SETTLED_LIVE),
    ),
    (
        "a failed run's attempts are cleared once everything succeeds",
        current(attempts=4),
        wants(BotState.SKIPPED),
        SHOWN,
        Plan(BotStep.NOTHING, None, MessageStep.NOTHING, None, SETTLED_LIVE),
    ),
    # ---- after the bot set off for the call ------------------------------------------------------------------
    (
        "a skip after the bot set off does not unschedule it (Remove bot makes it leave)",
        current(scheduled_key=KEY, bot_active=True),
        wants(BotState.SKIPPED),
        "in call",
        Plan(BotStep.NOTHING, None, MessageStep.UPDATE, KEY, SETTLED_LIVE),
    ),
    (
        "a moved meeting whose bot set off keeps that bot: no second POST",
        current(scheduled_key=OLD_KEY, bot_active=True),
        wants(BotState.SCHEDULED),
        SHOWN,
        Plan(BotStep.NOTHING, None, MessageStep.NOTHING, OLD_KEY, SETTLED_LIVE),
    ),
    (
        "the meeting ended while its bot is still in the call: its key is kept, the message follows the bot",
        current(scheduled_key=KEY, bot_active=True),
        wants(BotState.ENDED),
        "recording",
        Plan(BotStep.NOTHING, None, MessageStep.UPDATE, KEY, SETTLED_DONE),
    ),
    (
        "the bot waits to be admitted: one alert DM",
        current(scheduled_key=KEY, bot_active=True, bot_waiting=True),
        wants(BotState.SCHEDULED),
        "waiting",
        Plan(BotStep.NOTHING, None, MessageStep.UPDATE, KEY, SETTLED_LIVE, alert=MessageStep.POST),
    ),
    (
        "the alert was sent already: never twice",
        current(scheduled_key=KEY, bot_active=True, bot_waiting=True, alert_sent=True),
        wants(BotState.SCHEDULED),
        SHOWN,
        Plan(BotStep.NOTHING, None, MessageStep.NOTHING, KEY, SETTLED_LIVE),
    ),
    (
        "a member who left the workspace gets no alert",
        current(scheduled_key=KEY, bot_active=True, bot_waiting=True, reachable=False),
        wants(BotState.SCHEDULED),
        "waiting",
        Plan(BotStep.NOTHING, None, MessageStep.NOTHING, KEY, SETTLED_LIVE),
    ),
    (
        "a recording ready for a member who had no DM about the meeting: one now",
        current(message_posted=False, rendered_hash=None, is_new=False, bot_active=True, bot_news=True),
        wants(BotState.ENDED),
        "ready",
        Plan(BotStep.NOTHING, None, MessageStep.POST, None, SETTLED_DONE),
    ),
    (
        "... but not for a member who turned per-meeting DMs off",
        current(
            message_posted=False, rendered_hash=None, is_new=False, bot_active=True, bot_news=True, notify=Notify.OFF
        ),
        wants(BotState.ENDED),
        "ready",
        Plan(BotStep.NOTHING, None, MessageStep.NOTHING, None, SETTLED_DONE),
    ),
    (
        "the bot is in the call (no news yet) for a member without a DM: still quiet",
        current(message_posted=False, rendered_hash=None, is_new=False, bot_active=True),
        wants(BotState.SCHEDULED),
        "recording",
        Plan(BotStep.NOTHING, None, MessageStep.NOTHING, None, SETTLED_LIVE),
    ),
]


@pytest.mark.parametrize(("name", "now", "decision", "digest", "expected"), TABLE, ids=[row[0] for row in TABLE])
def test_plan_table(name: str, now: Current, decision: Decision, digest: str, expected: Plan) -> None:
    shown_changed = digest != now.rendered_hash
    assert plan(now, decision, digest=digest, now=NOW) == dataclasses.replace(expected, shown_changed=shown_changed)


def test_every_state_appears_in_the_table() -> None:
    assert {row[2].state for row in TABLE} == set(BotState)


def test_every_step_appears_in_the_table() -> None:
    assert {row[4].bot for row in TABLE} == set(BotStep)
    assert {row[4].message for row in TABLE} == set(MessageStep)


# (name, current, shown decision, digest, expected) after the first plan's bot step failed
FAILED: list[tuple[str, Current, Decision, str, Plan]] = [
    (
        "schedule failed: the member sees no bot yet, retried after the first back-off",
        current(),
        wants(BotState.ASK),
        SHOWN,
        Plan(
            BotStep.NOTHING, None, MessageStep.NOTHING, None, Settlement(ReconcileStatus.RETRYING, NOW + FIRST_RETRY, 1)
        ),
    ),
    (
        "re-POST after a move failed: the old bot is kept, the moved time is shown",
        current(scheduled_key=OLD_KEY, attempts=1),
        wants(BotState.SCHEDULED),
        "moved",
        Plan(
            BotStep.NOTHING,
            None,
            MessageStep.UPDATE,
            OLD_KEY,
            Settlement(ReconcileStatus.RETRYING, NOW + 2 * FIRST_RETRY, 2),
        ),
    ),
    (
        "unschedule failed: the bot is still ours, retried",
        current(scheduled_key=KEY, attempts=2),
        wants(BotState.SKIPPED),
        "skipped",
        Plan(
            BotStep.NOTHING,
            None,
            MessageStep.UPDATE,
            KEY,
            Settlement(ReconcileStatus.RETRYING, NOW + 4 * FIRST_RETRY, 3),
        ),
    ),
    (
        "a first message is still posted when the bot call failed",
        current(message_posted=False, rendered_hash=None),
        wants(BotState.ASK),
        "ask",
        Plan(BotStep.NOTHING, None, MessageStep.POST, None, Settlement(ReconcileStatus.RETRYING, NOW + FIRST_RETRY, 1)),
    ),
]


@pytest.mark.parametrize(("name", "now", "decision", "digest", "expected"), FAILED, ids=[row[0] for row in FAILED])
def test_plan_after_the_bot_step_failed(
    name: str, now: Current, decision: Decision, digest: str, expected: Plan
) -> None:
    result = plan(now, decision, digest=digest, now=NOW, bot_failed=True)
    assert result == dataclasses.replace(expected, shown_changed=digest != now.rendered_hash)


@pytest.mark.parametrize(
    ("attempts", "wait"),
    [
        (0, FIRST_RETRY),
        (1, 2 * FIRST_RETRY),
        (2, 4 * FIRST_RETRY),
        (6, 64 * FIRST_RETRY),
        (7, 128 * FIRST_RETRY),
        (8, MAX_RETRY),
        (1000, MAX_RETRY),
    ],
)
def test_retry_backs_off_to_the_cap(attempts: int, wait: timedelta) -> None:
    assert retry_later(current(attempts=attempts), now=NOW) == Settlement(
        ReconcileStatus.RETRYING, NOW + wait, attempts + 1
    )
    assert 128 * FIRST_RETRY < MAX_RETRY < 256 * FIRST_RETRY


@pytest.mark.parametrize(
    ("decision", "scheduled_key", "shown"),
    [
        (wants(BotState.SCHEDULED), None, "fallback"),  # wanted, none exists: show no bot
        (wants(BotState.SCHEDULED), OLD_KEY, "decision"),  # an (older) bot of ours still exists
        (wants(BotState.SKIPPED), KEY, "decision"),  # unschedule failed: the skip is still what was chosen
        (wants(BotState.ASK), None, "decision"),
    ],
)
def test_what_the_member_sees_after_a_failed_bot_call(
    decision: Decision, scheduled_key: str | None, shown: str
) -> None:
    fallback = wants(BotState.ASK)
    result = shown_after_bot_failure(decision, current=current(scheduled_key=scheduled_key), fallback=fallback)
    assert result is (fallback if shown == "fallback" else decision)


def test_plan_is_pure_and_frozen() -> None:
    first = plan(current(), wants(BotState.SCHEDULED), digest="x", now=NOW)
    assert first == plan(current(), wants(BotState.SCHEDULED), digest="x", now=NOW)
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.bot = BotStep.NOTHING  # type: ignore[misc]


# (name, current, decision, expected message step, expected reminder step): what the member hears (issue #8)
HEARS: list[tuple[str, Current, Decision, MessageStep, MessageStep]] = [
    (
        "a meeting that existed before connecting gets no DM of its own",
        current(message_posted=False, rendered_hash=None, is_new=False),
        wants(BotState.ASK),
        MessageStep.NOTHING,
        MessageStep.NOTHING,
    ),
    (
        "a new meeting gets its DM (notify each)",
        current(message_posted=False, rendered_hash=None),
        wants(BotState.ASK),
        MessageStep.POST,
        MessageStep.NOTHING,
    ),
    (
        "notify undecided: no DM for a meeting a rule decided",
        current(message_posted=False, rendered_hash=None, notify=Notify.UNDECIDED),
        Decision(BotState.SCHEDULED, True, reason=Reason.RULE),
        MessageStep.NOTHING,
        MessageStep.NOTHING,
    ),
    (
        "notify undecided: a DM for a meeting nobody decided",
        current(message_posted=False, rendered_hash=None, notify=Notify.UNDECIDED),
        Decision(BotState.ASK, False, reason=Reason.NOBODY),
        MessageStep.POST,
        MessageStep.NOTHING,
    ),
    (
        "notify off: no DM",
        current(message_posted=False, rendered_hash=None, notify=Notify.OFF),
        Decision(BotState.ASK, False, reason=Reason.NOBODY),
        MessageStep.NOTHING,
        MessageStep.NOTHING,
    ),
    (
        "a DM already posted follows the meeting whatever the setting is now",
        current(notify=Notify.OFF),
        wants(BotState.SKIPPED),
        MessageStep.UPDATE,
        MessageStep.NOTHING,
    ),
    (
        "a reminder that was sent follows the meeting too",
        current(reminder_posted=True),
        wants(BotState.SCHEDULED),
        MessageStep.UPDATE,
        MessageStep.UPDATE,
    ),
    (
        "a reminder is not touched when nothing the member sees changed",
        current(reminder_posted=True),
        wants(BotState.ASK),
        MessageStep.NOTHING,
        MessageStep.NOTHING,
    ),
]


@pytest.mark.parametrize(("name", "now", "decision", "message", "reminder"), HEARS, ids=[row[0] for row in HEARS])
def test_what_the_member_hears(
    name: str, now: Current, decision: Decision, message: MessageStep, reminder: MessageStep
) -> None:
    digest = SHOWN if name.startswith("a reminder is not touched") else "changed"
    result = plan(now, decision, digest=digest, now=NOW)
    assert (result.message, result.reminder) == (message, reminder)
    assert result.shown_changed is (digest != now.rendered_hash)
