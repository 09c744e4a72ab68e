"""A meeting's message: its state, why the bot will or won't join, its buttons, and errors on a click."""

from __future__ import annotations

from recall.errors import RecallAPIError, RecallError
from slackbot.meetings.decision import BotState, Decision
from slackbot.words.common import mentions
from slackbot.words.markup import escape

UNTITLED = "Untitled meeting"
RECURRING = "part of a recurring series"

PLATFORM_NAMES = {
    "zoom": "Zoom",
    "zoom_rtms": "Zoom",
    "google_meet": "Google Meet",
    "google_meet_media_api": "Google Meet",
    "microsoft_teams": "Microsoft Teams",
    "microsoft_teams_live": "Microsoft Teams",
    "webex": "Webex",
    "goto_meeting": "GoTo Meeting",
    "chime_sdk": "Amazon Chime",
    "webrtc": "Web call",
    "slack_authenticator": "Slack huddle",
    "slack_huddle_observer": "Slack huddle",
}

STATE_LINES = {
    BotState.ASK: ":grey_question: *Bot not scheduled*",
    BotState.COVERED: ":busts_in_silhouette: *Covered by a colleague's bot*",
    BotState.SCHEDULED: ":white_check_mark: *Bot scheduled*",
    BotState.SKIPPED: ":no_entry_sign: *Skipped*",
    BotState.CANCELLED: ":x: *Cancelled*",
    BotState.ENDED: ":checkered_flag: *Ended*",
    BotState.NO_LINK: ":link: *No video link*",
    BotState.DECLINED: ":no_entry_sign: *Declined*",
}

# The plain-text fallback (notifications, screen readers).
STATE_WORDS = {
    BotState.ASK: "bot not scheduled",
    BotState.COVERED: "covered by a colleague's bot",
    BotState.SCHEDULED: "bot scheduled",
    BotState.SKIPPED: "skipped",
    BotState.CANCELLED: "cancelled",
    BotState.ENDED: "ended",
    BotState.NO_LINK: "no video link",
    BotState.DECLINED: "declined",
}

SCHEDULE_BUTTON = "Schedule bot"
SHARE_BUTTON = "Share bot"
SKIP_BUTTON = "Skip"
UNDO_BUTTON = "Undo"

NOT_YOURS = (
    ":no_entry: That button belongs to a meeting on someone else's calendar, or one I no longer know, "
    "so nothing was changed."
)


def platform_name(platform: str | None) -> str | None:
    if not platform:
        return None
    return PLATFORM_NAMES.get(platform, platform.replace("_", " ").title())


def organised_by(organizer: str) -> str:
    """``organizer`` must already be escaped."""
    return f"organised by {organizer}"


def reason(decision: Decision) -> str:
    """Why the bot will or won't join, in the member's words (mrkdwn)."""
    covered = decision.covered_by
    match decision.state:
        case BotState.CANCELLED:
            return "This meeting was cancelled, so no bot will join."
        case BotState.ENDED:
            return "This meeting has ended."
        case BotState.NO_LINK:
            return "This meeting has no video link, so a bot can't join."
        case BotState.DECLINED:
            return "You declined this meeting, so your bot won't join."
        case BotState.SCHEDULED:
            shared = f" It's the same bot as {mentions(covered)}'s." if covered else ""
            return f"You scheduled the bot for this meeting.{shared}"
        case BotState.SKIPPED:
            still = f" {mentions(covered)}'s bot will still record it." if covered else ""
            return f"You skipped this meeting.{still}"
        case BotState.COVERED:
            return f"{mentions(covered)}'s bot already covers this meeting. Schedule to share it."
        case BotState.ASK:
            return "The bot won't join unless you schedule it."
    raise ValueError(decision.state)  # pragma: no cover - exhaustive match


REFUSED_REASONS = {
    BotState.CANCELLED: "This meeting was cancelled",
    BotState.ENDED: "This meeting has ended",
    BotState.DECLINED: "You declined this meeting",
    BotState.NO_LINK: "This meeting has no video link any more",
}


def explain_refused_choice(state: BotState) -> str:
    """A Schedule / Skip / Undo on a meeting that can no longer be acted on."""
    why = REFUSED_REASONS.get(state, "This meeting can no longer be changed")
    return f":information_source: {why}, so nothing was changed."


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
        reason_text = f" ({escape(' '.join(reasons))})" if reasons else ""
        return f":warning: Recall didn't accept that for this meeting{reason_text}. Nothing was changed."
    return ":warning: Recall isn't answering right now, so nothing was changed. Please try again in a few minutes."
