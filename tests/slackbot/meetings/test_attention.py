"""Table tests for what a member hears and when (slackbot/meetings/attention.py): pure functions, plain data."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from slackbot.meetings.attention import (
    DEFAULT_AGENDA_MINUTE,
    Notify,
    ReminderStep,
    agenda_due,
    announces,
    day_bounds,
    format_agenda_time,
    is_new_meeting,
    local_day,
    parse_agenda_time,
    reminder_step,
    zone,
)
from slackbot.meetings.decision import BotState, Decision, Reason

CONNECTED = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("moment", "tz", "day"),
    [
        (datetime(2026, 11, 30, 3, 0, tzinfo=UTC), NEW_YORK, date(2026, 11, 29)),  # still Sunday evening there
        (datetime(2026, 11, 30, 12, 0, tzinfo=UTC), ZoneInfo("Pacific/Kiritimati"), date(2026, 12, 1)),  # +14
        (datetime(2026, 11, 30, 12, 0, tzinfo=UTC), ZoneInfo("UTC"), date(2026, 11, 30)),
    ],
)
def test_local_day_is_the_members_day_not_the_servers(moment: datetime, tz: ZoneInfo, day: date) -> None:
    assert local_day(moment, tz) == day


@pytest.mark.parametrize(
    ("text", "minute"),
    [
        ("08:30", 8 * 60 + 30),
        ("8:30", 8 * 60 + 30),
        ("  07:05 ", 7 * 60 + 5),
        ("00:00", 0),
        ("23:00", 23 * 60),
        ("23:59", 23 * 60 + 59),
        ("12:59", 12 * 60 + 59),
        ("24:00", None),
        ("23:60", None),
        ("12:5", None),
        ("12:050", None),
        ("123:00", None),
        ("008:30", None),
        ("1:2:30", None),
        ("12:30:00", None),
        ("ab:30", None),
        ("12:ab", None),
        (":30", None),
        ("12:", None),
        ("1230", None),
        ("", None),
        ("-1:30", None),
        ("８:30", 8 * 60 + 30),  # full-width digits, as a Japanese keyboard types them
    ],
)
def test_parse_agenda_time(text: str, minute: int | None) -> None:
    assert parse_agenda_time(text) == minute


@pytest.mark.parametrize("minute", [0, 5, 8 * 60 + 30, 23 * 60 + 59])
def test_format_and_parse_round_trip(minute: int) -> None:
    assert parse_agenda_time(format_agenda_time(minute)) == minute


def test_format_agenda_time_pads() -> None:
    assert format_agenda_time(8 * 60 + 5) == "08:05"
    assert format_agenda_time(DEFAULT_AGENDA_MINUTE) == "08:30"


def ask() -> Decision:
    return Decision(state=BotState.ASK, wants_bot=False, reason=Reason.NOBODY)


def by_rule(state: BotState = BotState.SCHEDULED) -> Decision:
    return Decision(state=state, wants_bot=state is BotState.SCHEDULED, reason=Reason.RULE)


START = datetime(2026, 11, 3, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("minutes_before", "remind", "decision", "step"),
    [
        (60, True, ask(), ReminderStep.WAIT),  # too early
        (31, True, ask(), ReminderStep.WAIT),
        (30, True, ask(), ReminderStep.SEND),  # exactly the lead
        (20, True, ask(), ReminderStep.SEND),
        (10, True, ask(), ReminderStep.SEND),  # still in time for Recall
        (9, True, ask(), ReminderStep.MISS),  # too late for a bot
        (-5, True, ask(), ReminderStep.MISS),
        (20, False, ask(), ReminderStep.WAIT),  # reminders off
        (20, True, by_rule(), ReminderStep.WAIT),  # a rule decided
        (20, True, by_rule(BotState.SKIPPED), ReminderStep.WAIT),
        (20, True, Decision(state=BotState.CANCELLED, wants_bot=False, reason=Reason.NOBODY), ReminderStep.WAIT),
        (20, True, Decision(state=BotState.DECLINED, wants_bot=False, reason=Reason.NOBODY), ReminderStep.WAIT),
        (20, True, Decision(state=BotState.COVERED, wants_bot=False, reason=Reason.NOBODY), ReminderStep.SEND),
        (9, False, by_rule(), ReminderStep.MISS),
    ],
)
def test_reminder_step(minutes_before: int, remind: bool, decision: Decision, step: ReminderStep) -> None:
    now = START - timedelta(minutes=minutes_before)
    assert reminder_step(start=START, now=now, remind=remind, decision=decision) is step


MONDAY = date(2026, 11, 2)


@pytest.mark.parametrize(
    ("local", "agenda_minute", "due"),
    [
        (datetime(2026, 11, 2, 8, 29), DEFAULT_AGENDA_MINUTE, None),  # Monday, a minute early
        (datetime(2026, 11, 2, 8, 30), DEFAULT_AGENDA_MINUTE, MONDAY),  # on time
        (datetime(2026, 11, 2, 16, 0), DEFAULT_AGENDA_MINUTE, MONDAY),  # a process down at 08:30: later that day
        (datetime(2026, 11, 2, 23, 59), DEFAULT_AGENDA_MINUTE, MONDAY),
        (datetime(2026, 11, 6, 9, 0), DEFAULT_AGENDA_MINUTE, date(2026, 11, 6)),  # Friday
        (datetime(2026, 11, 7, 9, 0), DEFAULT_AGENDA_MINUTE, None),  # Saturday
        (datetime(2026, 11, 8, 9, 0), DEFAULT_AGENDA_MINUTE, None),  # Sunday
        (datetime(2026, 11, 2, 9, 0), None, None),  # agenda off
        (datetime(2026, 11, 2, 7, 0), 7 * 60, MONDAY),
        (datetime(2026, 11, 2, 6, 59), 7 * 60, None),
        (datetime(2026, 11, 2, 0, 0), 0, MONDAY),
    ],
)
def test_agenda_due_in_the_members_own_time(local: datetime, agenda_minute: int | None, due: date | None) -> None:
    now = local.replace(tzinfo=NEW_YORK).astimezone(UTC)
    assert agenda_due(now=now, tz=NEW_YORK, agenda_minute=agenda_minute) == due


def test_agenda_day_follows_the_members_zone_not_utc() -> None:
    # 02:00 UTC on Tuesday is still Monday 21:00 in New York.
    now = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
    assert agenda_due(now=now, tz=NEW_YORK, agenda_minute=DEFAULT_AGENDA_MINUTE) == MONDAY
    assert agenda_due(now=now, tz=ZoneInfo("UTC"), agenda_minute=DEFAULT_AGENDA_MINUTE) is None


def test_a_day_on_a_dst_change_is_25_hours_long() -> None:
    start, end = day_bounds(date(2026, 11, 1), NEW_YORK)  # clocks go back
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=25)  # as instants, not wall clock
    spring_start, spring_end = day_bounds(date(2026, 3, 8), NEW_YORK)  # clocks go forward
    assert spring_end.astimezone(UTC) - spring_start.astimezone(UTC) == timedelta(hours=23)


@pytest.mark.parametrize(("name", "key"), [("America/New_York", "America/New_York"), (None, "UTC"), ("", "UTC")])
def test_zone(name: str | None, key: str) -> None:
    assert zone(name).key == key


@pytest.mark.parametrize("name", ["Not/AZone", "../etc/passwd", "\x00"])
def test_an_unknown_zone_is_utc(name: str) -> None:
    assert zone(name).key == "UTC"


@pytest.mark.parametrize(
    ("created", "first_sync", "new"),
    [
        (CONNECTED - timedelta(days=3), False, False),  # existed before connecting
        (CONNECTED, False, False),  # the same instant is not after
        (CONNECTED + timedelta(seconds=1), True, True),  # the provider's clock wins over the first sync
        (None, True, False),  # no creation time: the first listing's meetings were there already
        (None, False, True),
    ],
)
def test_is_new_meeting(created: datetime | None, first_sync: bool, new: bool) -> None:
    assert is_new_meeting(provider_created_at=created, connected_at=CONNECTED, first_sync=first_sync) is new


@pytest.mark.parametrize(
    ("is_new", "notify", "decision", "dm"),
    [
        (True, Notify.EACH, ask(), True),
        (True, Notify.EACH, by_rule(), True),
        (True, Notify.UNDECIDED, ask(), True),
        (True, Notify.UNDECIDED, by_rule(), False),
        (True, Notify.OFF, ask(), False),
        (False, Notify.EACH, ask(), False),  # existed before connecting: the summary covers it
        (True, Notify.EACH, Decision(state=BotState.CANCELLED, wants_bot=False), False),
        (True, Notify.EACH, Decision(state=BotState.DECLINED, wants_bot=False), False),
        (True, Notify.EACH, Decision(state=BotState.NO_LINK, wants_bot=False), False),
        (True, Notify.EACH, Decision(state=BotState.ENDED, wants_bot=False), False),
        (True, Notify.UNDECIDED, Decision(state=BotState.CANCELLED, wants_bot=False), False),
    ],
)
def test_announces(is_new: bool, notify: Notify, decision: Decision, dm: bool) -> None:
    assert announces(is_new=is_new, notify=notify, decision=decision) is dm
