"""Domain errors turned into words for members, in one place (pages, DMs and ephemeral replies use these)."""

from __future__ import annotations

from dataclasses import dataclass

from recall.errors import RecallAPIError, RecallError
from slackbot.blocks.text import escape
from slackbot.calendar_oauth.flow import ConnectFailure
from slackbot.calendar_oauth.providers import PROVIDERS


@dataclass(frozen=True)
class Explanation:
    title: str
    detail: str
    # Whether running `/recall connect` again is the way forward.
    retry_with_new_link: bool = True


def provider_label(provider: str) -> str:
    spec = PROVIDERS.get(provider)
    return spec.label if spec else "your calendar"


def explain_connect_failure(failure: ConnectFailure, provider: str) -> Explanation:
    label = provider_label(provider)
    match failure:
        case ConnectFailure.PROVIDER_DISABLED:
            return Explanation(
                f"{label} isn't available here",
                f"This workspace's Recall app isn't set up for {label}. Ask your Slack admin, "
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
                "Connect links work for 10 minutes. Type `/recall connect` in Slack for a fresh one.",
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
                "Sign-ins must finish within 10 minutes of getting the link. Nothing was changed. "
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
                f"Recall needs to read your {label} to send its notetaker to your meetings. Nothing was "
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
                f"{label} let you sign in but didn't grant the ongoing access Recall needs. "
                "Remove this app from your account's third-party access settings, then type "
                "`/recall connect` again and approve every permission.",
            )
        case ConnectFailure.SCOPE_MISSING:
            return Explanation(
                "Calendar access wasn't ticked",
                f"You signed in, but the box that lets Recall read your {label} events was left unticked. "
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


def explain_refused_choice(state: str) -> str:
    """A Schedule / Skip / Undo on a meeting that can no longer be acted on."""
    reasons = {
        "cancelled": "This meeting was cancelled",
        "ended": "This meeting has ended",
        "declined": "You declined this meeting",
        "no_link": "This meeting has no video link any more",
    }
    return (
        f":information_source: {reasons.get(state, 'This meeting can no longer be changed')}, so nothing was changed."
    )


def explain_recall_error(error: RecallError) -> str:
    """Why a schedule / skip did not happen, for the member; the message itself stays as it was."""
    status = getattr(error, "status", None)
    reasons: list[str] = []
    if isinstance(error, RecallAPIError):
        # Recall's own words live in errors.non_field_errors; `message` is often a generic envelope.
        reasons = error.non_field_errors
        if not reasons and isinstance(error.errors, list):
            reasons = [str(item) for item in error.errors]
        if not reasons and error.message and error.code != "invalid_request_data":
            reasons = [error.message]
    details = " ".join(reasons).lower()
    too_soon = (
        ":hourglass: The meeting starts too soon: Recall has no notetaker free this close to the start. "
        "Nothing was changed. Try again in a minute."
    )
    if status == 400 and "ended" in details:
        return ":checkered_flag: This meeting has already ended, so a notetaker can't join it. Nothing was changed."
    if status == 507 or (status == 400 and "not enough time" in details):
        return too_soon
    if status == 404:
        return (
            ":grey_question: Recall no longer has this meeting on your calendar (it was removed or the calendar "
            "was reconnected). Nothing was changed."
        )
    if status == 400:
        reason = f" ({escape(' '.join(reasons))})" if reasons else ""
        return f":warning: Recall didn't accept that for this meeting{reason}. Nothing was changed."
    return ":warning: Recall isn't answering right now, so nothing was changed. Please try again in a few minutes."
