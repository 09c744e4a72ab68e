"""A meeting's message: its state, why the bot will or won't join, its buttons, and errors on a click."""

from __future__ import annotations

from recall.errors import RecallAPIError, RecallError
from slackbot.meetings.decision import BotState, Decision, Reason
from slackbot.meetings.rules import Miss, Rule, RuleKind
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
SKIP_ONE_BUTTON = "Skip this one"
UNDO_BUTTON = "Undo"
RECORD_SERIES_BUTTON = "Record every occurrence"
SKIP_SERIES_BUTTON = "Never record this series"
UNDO_SERIES_BUTTON = "Forget series choice"

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


RULE_LABELS = {
    RuleKind.ASK: "ask each time",
    RuleKind.ALL: "all meetings with a video link",
    RuleKind.ORGANISED: "meetings you organise",
    RuleKind.EXTERNAL: "meetings with people from outside your company",
    RuleKind.INTERNAL: "meetings with only people from your company",
}

MISSES = {
    Miss.NOT_ORGANISER: "you don't organise this one",
    Miss.ALL_INSIDE: "everyone in this one is from your company",
    Miss.SOMEONE_OUTSIDE: "someone in this one is from outside your company",
    Miss.NOT_ACCEPTED: "you haven't accepted this one",
}


def rule_label(rule: Rule) -> str:
    """`meetings you organise`, `meetings you organise that you've accepted`."""
    accepted = " that you've accepted" if rule.accepted_only and rule.decides else ""
    return f"{RULE_LABELS[rule.kind]}{accepted}"


def _still(covered: tuple[str, ...]) -> str:
    return f" {mentions(covered)}'s bot will still record it." if covered else ""


LOCKED_NOTE = " Workspace policy records all external meetings, so this one can't be skipped."


def reason(decision: Decision) -> str:
    """Why the bot will or won't join, in the member's words (mrkdwn)."""
    text = _reason(decision)
    if decision.locked and decision.reason is not Reason.ENFORCED:
        text += LOCKED_NOTE
    return text


def _reason(decision: Decision) -> str:
    covered = decision.covered_by
    match decision.state, decision.reason:
        case BotState.CANCELLED, _:
            return "This meeting was cancelled, so no bot will join."
        case BotState.ENDED, _:
            return "This meeting has ended."
        case BotState.NO_LINK, _:
            return "This meeting has no video link, so a bot can't join."
        case BotState.DECLINED, _:
            return "You declined this meeting, so your bot won't join."
        case BotState.SCHEDULED, Reason.CLICK:
            shared = f" It's the same bot as {mentions(covered)}'s." if covered else ""
            return f"You scheduled the bot for this meeting.{shared}"
        case BotState.SKIPPED, Reason.CLICK:
            return f"You skipped this meeting.{_still(covered)}"
        case BotState.SCHEDULED, Reason.SERIES:
            return "Recording: you chose every occurrence of this series."
        case BotState.SKIPPED, Reason.SERIES:
            return f"Not recording: you chose never to record this series.{_still(covered)}"
        case BotState.SCHEDULED, Reason.ENFORCED:
            return "Recording: workspace policy records all external meetings."
        case BotState.SKIPPED, Reason.KEYWORD:
            return f"Not recording: the title contains *{escape(decision.keyword or '')}*.{_still(covered)}"
        case BotState.SKIPPED, Reason.WORKSPACE_KEYWORD:
            keyword = escape(decision.keyword or "")
            return f"Not recording: the title contains *{keyword}*, excluded for this workspace.{_still(covered)}"
        case BotState.SCHEDULED, Reason.RULE if decision.rule is not None:
            return f"Recording, by your rule *{rule_label(decision.rule)}*."
        case BotState.SKIPPED, Reason.RULE if decision.rule is not None and decision.miss is not None:
            why = MISSES[decision.miss]
            return f"Not recording: your rule is *{rule_label(decision.rule)}*, and {why}.{_still(covered)}"
        case BotState.SCHEDULED, Reason.WORKSPACE_RULE if decision.rule is not None:
            return f"Recording, by your workspace's default rule *{rule_label(decision.rule)}*."
        case BotState.SKIPPED, Reason.WORKSPACE_RULE if decision.rule is not None and decision.miss is not None:
            why = MISSES[decision.miss]
            label = rule_label(decision.rule)
            return f"Not recording: your workspace's default rule is *{label}*, and {why}.{_still(covered)}"
        case BotState.COVERED, _:
            return f"{mentions(covered)}'s bot already covers this meeting. Schedule to share it."
        case BotState.ASK, _:
            return "The bot won't join unless you schedule it."
    raise ValueError(f"no words for {decision.state} by {decision.reason}")  # pragma: no cover - table test


REFUSED_REASONS = {
    BotState.CANCELLED: "This meeting was cancelled",
    BotState.ENDED: "This meeting has ended",
    BotState.DECLINED: "You declined this meeting",
    BotState.NO_LINK: "This meeting has no video link any more",
}


ENFORCED_REFUSAL = (
    ":lock: Your workspace records every meeting with people from outside the company, so this one can't be "
    "skipped. Nothing was changed."
)


def explain_refused_choice(state: BotState) -> str:
    """A Schedule / Skip / Undo on a meeting that can no longer be acted on."""
    why = REFUSED_REASONS.get(state, "This meeting can no longer be changed")
    return f":information_source: {why}, so nothing was changed."


def series_saved(choice_is_record: bool | None) -> str:
    if choice_is_record is None:
        return ":leftwards_arrow_with_hook: Series choice forgotten: each occurrence is decided on its own again."
    if choice_is_record:
        return ":repeat: Every occurrence of this series will be recorded, unless you skip one."
    return ":no_entry_sign: No occurrence of this series will be recorded, unless you schedule one."


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
        ":hourglass: The meeting starts too soon: Recall has no bot free this close to the start. "
        "Nothing was changed. Try again in a minute."
    )
    if status == 400 and "ended" in details:
        return ":checkered_flag: This meeting has already ended, so a bot can't join it. Nothing was changed."
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
