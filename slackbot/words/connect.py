"""Connecting a calendar: the link DM, results, failures (as pages and DMs), status."""

from __future__ import annotations

from dataclasses import dataclass

from slackbot.calendar_oauth.failures import ConnectFailure
from slackbot.calendar_oauth.links import LINK_TTL
from slackbot.words.common import duration, provider_label

LINK_LIFETIME = duration(LINK_TTL)

STATUS_WORDS = {
    "connected": ":white_check_mark: connected",
    "connecting": ":hourglass_flowing_sand: connecting (Recall is syncing your events)",
    "disconnected": ":warning: disconnected (type `/recall connect` to reconnect)",
}

CONNECT_INTRO = (
    "Connect your calendar and I'll message you about each upcoming meeting, so you can choose where the "
    "recording bot joins."
)
RECONNECT_INTRO = (
    "Your calendar connection needs to be renewed. Sign in again to keep the recording bot on your meetings."
)
LINK_FINE_PRINT = (
    f"Read-only access to your events. Each link works once, for you only, and expires in {LINK_LIFETIME}."
)
RETRY_LINK_FINE_PRINT = f"This link works once and expires in {LINK_LIFETIME}."
CONNECTED_BODY = (
    "Recall is syncing your events now. I'll DM you about upcoming meetings that have a video link. "
    "Type `/recall status` any time to check."
)
HOME_INTRO = (
    "Connect your calendar and I'll DM you about each upcoming meeting that has a video link, so you can choose "
    "where the recording bot joins."
)
HOME_LINK_NOTE = "I'll DM you a link that works once."
NO_PROVIDERS = (
    "No calendar can be connected here yet: Google Calendar and Microsoft Outlook aren't set up for this app. "
    "Ask your Slack admin to set them up."
)
HOME_HEADER = "Recall for Slack"
TRY_LATER_TITLE = "Please try again in a minute"
TRY_LATER_DETAIL = (
    "We couldn't reach our database just now, so nothing was changed. Your link still works: open it again in a minute."
)
YOUR_CALENDARS = "*Your calendars*"


def connect_button(label: str, *, reconnect: bool) -> str:
    return f"{'Reconnect' if reconnect else 'Connect'} {label}"


def retry_button(label: str) -> str:
    return f"Try again with {label}"


def connected_headline(*, provider_label: str, email: str, reconnected: bool, replaced_email: str | None) -> str:
    """Mrkdwn; ``email`` and ``replaced_email`` must already be escaped."""
    if reconnected:
        return f":white_check_mark: *{provider_label}* is reconnected for {email}."
    if replaced_email:
        return f":white_check_mark: *{provider_label}* is now connected for {email} (replacing {replaced_email})."
    return f":white_check_mark: *{provider_label}* is connected for {email}."


def no_connection(enabled_labels: list[str]) -> str:
    options = " or ".join(enabled_labels) if enabled_labels else "a calendar"
    return f"You have no calendar connected. Type `/recall connect` to connect {options}."


def status_line(*, provider_label: str, email: str, status: str) -> str:
    """Mrkdwn; ``email`` and ``status`` must already be escaped."""
    return f"• *{provider_label}* ({email}): {STATUS_WORDS.get(status, status)}"


def success_page(*, label: str, email: str, reconnected: bool) -> tuple[str, str]:
    verb = "reconnected" if reconnected else "connected"
    return (
        f"{label} {verb}",
        f"{email} is {verb}. Recall is syncing your events; I'll message you in Slack about upcoming meetings. "
        "You can close this tab.",
    )


@dataclass(frozen=True)
class Explanation:
    title: str
    detail: str
    # Whether running `/recall connect` again is the way forward.
    retry_with_new_link: bool = True


def explain_connect_failure(failure: ConnectFailure, provider: str) -> Explanation:
    label = provider_label(provider)
    match failure:
        case ConnectFailure.PROVIDER_DISABLED:
            return Explanation(
                f"{label} isn't available here",
                f"This app isn't set up for {label} in this workspace. Ask your Slack admin, "
                "or type `/recall connect` to see which calendars you can connect.",
                retry_with_new_link=False,
            )
        case ConnectFailure.PROVIDER_UNAVAILABLE:
            return Explanation(
                f"We couldn't reach {label}",
                f"{label}'s sign-in service didn't answer. Nothing was changed. Please try again in a few minutes.",
            )
        case ConnectFailure.LINK_UNKNOWN:
            return Explanation(
                "This link isn't valid",
                "The link is incomplete or wasn't made by this app. Type `/recall connect` in Slack for a fresh one.",
            )
        case ConnectFailure.LINK_EXPIRED:
            return Explanation(
                "This link has expired",
                f"Connect links work for {LINK_LIFETIME}. Type `/recall connect` in Slack for a fresh one.",
            )
        case ConnectFailure.LINK_USED:
            return Explanation(
                "This link was already used",
                "Each connect link works once. Type `/recall connect` in Slack for a fresh one.",
            )
        case ConnectFailure.STATE_UNKNOWN:
            return Explanation(
                "We don't recognise this sign-in",
                f"{label} sent you back with a sign-in we didn't start. Nothing was changed. "
                "Type `/recall connect` in Slack to start again.",
            )
        case ConnectFailure.STATE_EXPIRED:
            return Explanation(
                "This sign-in took too long",
                f"Sign-ins must finish within {LINK_LIFETIME} of getting the link. Nothing was changed. "
                "Type `/recall connect` in Slack for a fresh link.",
            )
        case ConnectFailure.STATE_USED:
            return Explanation(
                "This sign-in was already completed",
                "This page was reloaded or opened twice, so we ignored it. Type `/recall status` in Slack "
                "to see what's connected.",
            )
        case ConnectFailure.WRONG_BROWSER:
            return Explanation(
                "Finish in the browser you started in",
                "This sign-in was started from a connect link in another browser (or by someone else). "
                "Nothing was changed. Open the link from your own Slack DM and finish there.",
            )
        case ConnectFailure.DENIED:
            return Explanation(
                "You didn't allow access",
                f"This app needs to read your {label} to send the recording bot to your meetings. Nothing was "
                "connected. If you change your mind, type `/recall connect` in Slack.",
            )
        case ConnectFailure.PROVIDER_ERROR:
            return Explanation(
                f"{label} couldn't complete the sign-in",
                f"{label} returned an error instead of a sign-in. Nothing was changed. Please try again; "
                "if it keeps happening, your IT admin may need to allow this app.",
            )
        case ConnectFailure.TOKEN_EXCHANGE_FAILED:
            return Explanation(
                f"{label} didn't accept the sign-in",
                f"We couldn't finish signing in with {label}. Nothing was changed. Please try again.",
            )
        case ConnectFailure.NO_REFRESH_TOKEN:
            return Explanation(
                f"{label} didn't give lasting access",
                f"{label} let you sign in but didn't grant the ongoing access this app needs. "
                "Remove this app from your account's third-party access settings, then type "
                "`/recall connect` again and approve every permission.",
            )
        case ConnectFailure.SCOPE_MISSING:
            return Explanation(
                "Calendar access wasn't ticked",
                f"You signed in, but the box that lets this app read your {label} events was left unticked. "
                "Type `/recall connect` again and tick the calendar permission on the consent screen.",
            )
        case ConnectFailure.NO_EMAIL:
            return Explanation(
                "We couldn't read your account's email",
                f"{label} didn't share the email address of the account. Type `/recall connect` again and "
                "allow access to your email address.",
            )
        case ConnectFailure.RECALL_FAILED:
            return Explanation(
                "Recall couldn't set up your calendar",
                "Your sign-in worked, but Recall didn't accept the calendar just now. Nothing was changed. "
                "Please try again in a few minutes.",
            )
    raise ValueError(failure)  # pragma: no cover - exhaustive match
