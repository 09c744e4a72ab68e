"""The daily agenda, the summary on connecting a calendar, the reminder before an undecided meeting."""

from __future__ import annotations

from datetime import date

from slackbot.meetings.attention import format_agenda_time
from slackbot.meetings.rules import Rule
from slackbot.words.meetings import rule_label


def meetings(n: int) -> str:
    return f"{n} meeting{'' if n == 1 else 's'}"


def agenda_title(day: str) -> str:
    return f":spiral_calendar_pad: *Your meetings today, {day}*"


def agenda_counts(total: int, recorded: int) -> str:
    waiting = total - recorded
    parts = [f"{meetings(total)} with a video link", f"{recorded} will be recorded"]
    if waiting:
        parts.append(f"{waiting} not")
    return ", ".join(parts) + "."


AGENDA_FOOTER = (
    "I keep this agenda up to date through the day. `/recall agenda HH:MM` moves it, `/recall agenda off` stops it."
)


def more_on_home(n: int) -> str:
    return f"…and {meetings(n)} more on the Home tab."


def summary_headline(*, provider_label: str, email: str, replaced_email: str | None) -> str:
    """Mrkdwn; the emails must already be escaped."""
    if replaced_email:
        return f":white_check_mark: *{provider_label}* is now connected for {email} (replacing {replaced_email})."
    return f":white_check_mark: *{provider_label}* is connected for {email}."


SUMMARY_SYNCING = (
    "Recall is syncing your events now. I'll put your upcoming meetings here, and DM you about new ones as they "
    "come in. Type `/recall status` any time to check."
)


def summary_found(*, upcoming: int, recorded: int, rule: Rule | None, workspace_rule: Rule | None) -> str:
    if upcoming == 0:
        return "I found no upcoming meetings with a video link yet. I'll DM you about new ones as they come in."
    found = f"I found {meetings(upcoming)} coming up with a video link."
    if rule is not None and rule.decides:
        how = f"Your rule *{rule_label(rule)}* records {recorded} of them."
    elif rule is None and workspace_rule is not None and workspace_rule.decides:
        how = f"Your workspace's default rule *{rule_label(workspace_rule)}* records {recorded} of them."
    else:
        how = "None is recorded unless you schedule it (or set a rule: `/recall rule`)."
        if recorded:
            how = f"{recorded} will be recorded; the others only if you schedule them (or set a rule: `/recall rule`)."
    return f"{found} {how} I won't DM you about each of these; new meetings get a message of their own."


SUMMARY_NEXT = "*Coming up:*"
HOME_BUTTON = "Open the Home tab"

REMINDER_HEAD = ":alarm_clock: *Starts in 30 minutes, and nobody decided:* record it?"


def agenda_setting(minute: int | None) -> str:
    if minute is None:
        return "Your daily agenda is off. `/recall agenda 08:30` turns it on."
    return (
        f"Your daily agenda comes at *{format_agenda_time(minute)}* your time, Monday to Friday, when you have "
        "meetings. `/recall agenda HH:MM` moves it, `/recall agenda off` stops it."
    )


def agenda_set(minute: int | None) -> str:
    if minute is None:
        return ":white_check_mark: No more daily agenda. `/recall agenda 08:30` brings it back."
    return (
        f":white_check_mark: Your daily agenda now comes at *{format_agenda_time(minute)}* your time, Monday to "
        "Friday, when you have meetings."
    )


AGENDA_BAD_TIME = (
    ":warning: Give the time as `HH:MM` (24-hour, e.g. `/recall agenda 08:30`) or `off`. Nothing was changed."
)

NOTIFY_LABELS = {
    "each": "a DM for every new meeting",
    "undecided": "a DM only for new meetings no rule or choice decides",
    "off": "no per-meeting DMs (the agenda and the Home tab still show them)",
}


def notify_setting(mode: str) -> str:
    return (
        f"You get *{NOTIFY_LABELS[mode]}*. Change it with `/recall notify each`, `/recall notify undecided` "
        "or `/recall notify off`."
    )


def notify_set(mode: str) -> str:
    return f":white_check_mark: From now on you get *{NOTIFY_LABELS[mode]}*."


NOTIFY_BAD = (
    ":warning: Use `/recall notify each`, `/recall notify undecided` or `/recall notify off`. Nothing was changed."
)


def remind_setting(on: bool) -> str:
    if on:
        return (
            "Reminders are on: 30 minutes before a meeting nobody decided, I DM you. `/recall remind off` stops them."
        )
    return "Reminders are off. `/recall remind on` brings them back."


def remind_set(on: bool) -> str:
    return ":white_check_mark: Reminders are on." if on else ":white_check_mark: No more reminders."


REMIND_BAD = ":warning: Use `/recall remind on` or `/recall remind off`. Nothing was changed."


HOME_NOTIFY_TITLE = "*Messages about new meetings*"
HOME_AGENDA_TOGGLE = "Daily agenda (Mon–Fri)"
HOME_REMIND_TOGGLE = "Reminders before undecided meetings"
HOME_AGENDA_TIME = "Agenda time"
HOME_UPCOMING = "Your next 7 days"
HOME_NOTHING_UPCOMING = "No meetings with a video link in the next 7 days."


def day_heading(day: date) -> str:
    return f"{day.strftime('%A')} {day.day} {day.strftime('%B')}"


def home_more(n: int) -> str:
    return f"…and {meetings(n)} more in the next 7 days."
