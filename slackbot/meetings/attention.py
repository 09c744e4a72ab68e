"""What a member hears about their meetings, and when: pure decisions over plain data (quiet by default).

- a DM of its own only for a meeting that is new since the member connected, as their notify setting allows;
- a daily agenda on working days at the member's local time;
- one reminder before a meeting nobody decided, early enough for Recall to send a bot.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slackbot.meetings.decision import Decision, Reason

DEFAULT_AGENDA_MINUTE = 8 * 60 + 30  # 08:30 local
WORKING_DAYS = frozenset(range(5))  # Monday to Friday
REMINDER_LEAD = timedelta(minutes=30)
# Recall wants bots scheduled at least 10 minutes ahead: a reminder after that cannot help any more.
REMINDER_LATEST = timedelta(minutes=10)
# How far ahead the App Home lists meetings.
HOME_DAYS = 7


class Notify(StrEnum):
    EACH = "each"  # a DM for every new meeting (the default)
    UNDECIDED = "undecided"  # a DM only when no rule or choice decides it
    OFF = "off"  # no per-meeting DMs


def is_new_meeting(*, provider_created_at: datetime | None, connected_at: datetime, first_sync: bool) -> bool:
    """Created after the member connected the calendar (by the provider's own clock); where the provider gives no
    creation time, anything that arrives after the calendar's first listing."""
    if provider_created_at is not None:
        return provider_created_at > connected_at
    return not first_sync


def announces(*, is_new: bool, notify: Notify, decision: Decision) -> bool:
    """Whether the meeting gets a DM of its own (quiet by default: never for cancelled, ended, link-less or
    declined meetings, nor for meetings that existed before connecting)."""
    if not is_new or not decision.worth_a_new_message:
        return False
    if notify is Notify.EACH:
        return True
    if notify is Notify.UNDECIDED:
        return decision.reason is Reason.NOBODY
    return False


def zone(name: str | None) -> ZoneInfo:
    """The member's time zone (Slack's `tz`); UTC when unknown or not a zone this machine knows."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo("UTC")


def local_day(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants a local day starts and ends (23 or 25 hours long on a DST change)."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start, end


def agenda_due(*, now: datetime, tz: ZoneInfo, agenda_minute: int | None) -> date | None:
    """The local day whose agenda is due now (a working day, at or after the member's agenda time, and before
    the day is over), or None. A process that was down at 08:30 still sends it later that day."""
    if agenda_minute is None:
        return None
    local = now.astimezone(tz)
    if local.weekday() not in WORKING_DAYS:
        return None
    if local.hour * 60 + local.minute < agenda_minute:
        return None
    return local.date()


def parse_agenda_time(text: str) -> int | None:
    """`HH:MM` (24-hour, `8:30` too) → minutes after midnight; None if it is not a time of day."""
    hours, sep, minutes = text.strip().partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2 or len(hours) > 2:
        return None
    h, m = int(hours), int(minutes)
    if h > 23 or m > 59:
        return None
    return h * 60 + m


def format_agenda_time(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


class ReminderStep(StrEnum):
    WAIT = "wait"  # not yet (or nothing to remind of)
    SEND = "send"
    MISS = "miss"  # too late to be useful: never send it


def reminder_step(*, start: datetime, now: datetime, remind: bool, decision: Decision) -> ReminderStep:
    """One DM 30 minutes before a meeting nobody decided; none when it was decided, cancelled, declined, or when
    it is too late for Recall to send a bot."""
    if start - now < REMINDER_LATEST:
        return ReminderStep.MISS
    if not remind or decision.reason is not Reason.NOBODY or not decision.actionable:
        return ReminderStep.WAIT  # decided (or reminders off) for now: looked at again until it is too late
    if start - now <= REMINDER_LEAD:
        return ReminderStep.SEND
    return ReminderStep.WAIT
