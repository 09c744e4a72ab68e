"""`/recall` replies: usage, and what each subcommand answers."""

from __future__ import annotations

from collections.abc import Sequence

from slackbot.calendar_oauth.links import LINK_TTL
from slackbot.words.common import command_word, duration, provider_label
from slackbot.words.connect import NO_PROVIDERS

USAGE = (
    "*Recall for Slack commands*\n"
    "• `/recall connect` — connect Google Calendar or Microsoft Outlook (`/recall connect google`, "
    "`/recall connect outlook`)\n"
    "• `/recall status` — see which calendars are connected\n"
    "• `/recall disconnect` — disconnect your calendars and delete what this app stored "
    "(`/recall disconnect google` for just one)\n"
    "• `/recall rule [ask|all|organised|external|internal] [accepted]` — decide once which meetings are recorded "
    "(`/recall rule` shows yours)\n"
    "• `/recall exclude [add|remove <word or phrase>]` — never record meetings whose title contains it\n"
    "• `/recall notify each|undecided|off` — a DM for every new meeting, only undecided ones, or none\n"
    "• `/recall agenda [HH:MM|off]` — your daily agenda's time (Monday to Friday, your time zone)\n"
    "• `/recall remind on|off` — a reminder 30 minutes before meetings nobody decided\n"
    "• `/recall admin` — the workspace's policy (admins)\n"
    "• `/recall help` — this message"
)

NAME_ONE_CALENDAR = "Name one calendar: `google` or `outlook`."
NO_PROVIDER_SET_UP = NO_PROVIDERS
DM_FAILED = "I couldn't send you a DM just now, so no link was sent. Please try `/recall connect` again in a minute."
TRY_AGAIN_SOON = ":hourglass: I couldn't do that just now, so nothing was changed. Please try again in a minute."
SOMETHING_WENT_WRONG = ":warning: Something went wrong on my side, so nothing was changed. Please try again."


def unknown_subcommand(clipped: str) -> str:
    return f"I don't know `/recall {clipped}`."


def unknown_calendar(clipped: str) -> str:
    return f"I don't know the calendar “{clipped}”. Use `google` or `outlook`."


def provider_not_available(provider: str, enabled: Sequence[str]) -> str:
    available = " or ".join(f"`/recall connect {command_word(p)}`" for p in enabled)
    return f"{provider_label(provider)} isn't available in this workspace. Try {available}."


def link_sent(providers: Sequence[str]) -> str:
    labels = " or ".join(provider_label(p) for p in providers)
    return (
        f":envelope_with_arrow: I've sent you a DM with a link to connect {labels}. "
        f"It works once and expires in {duration(LINK_TTL)}."
    )


def nothing_to_disconnect(provider: str | None) -> str:
    what = provider_label(provider) if provider else "calendar"
    return f"You have no {what} connected, so there's nothing to disconnect."


def disconnected(lines: Sequence[str]) -> str:
    """``lines``: one escaped line per calendar."""
    return (
        ":wave: Disconnected:\n" + "\n".join(lines) + "\nRecall deleted the calendar and any bots it had scheduled, "
        "and I deleted your stored access. Type `/recall connect` to connect again."
    )


def not_disconnected(lines: Sequence[str], *, some_removed: bool) -> str:
    nothing = "these are still connected" if some_removed else "nothing was disconnected"
    return (
        f":warning: Recall didn't answer, so {nothing}:\n" + "\n".join(lines) + "\nPlease try `/recall disconnect` "
        "again in a few minutes."
    )


def calendar_line(*, provider: str, email: str) -> str:
    """``email`` must already be escaped."""
    return f"• {provider_label(provider)} ({email})"
