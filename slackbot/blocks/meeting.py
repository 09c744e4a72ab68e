"""The per-meeting DM: title, time in the reader's timezone, platform, organiser, bot state and buttons."""

from __future__ import annotations

from datetime import UTC

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from slackbot.blocks.text import MAX_SECTION_TEXT, Message, build_message, escape, slack_date, truncate
from slackbot.ids import ActionId, BlockId
from slackbot.meetings.decision import BotState, Decision, MeetingFacts

UNTITLED = "Untitled meeting"
MAX_TITLE = 200

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


def display_title(title: str) -> str:
    return truncate(title.strip(), MAX_TITLE) if title and title.strip() else UNTITLED


def platform_name(platform: str | None) -> str | None:
    if not platform:
        return None
    return PLATFORM_NAMES.get(platform, platform.replace("_", " ").title())


def duration_words(meeting: MeetingFacts) -> str:
    minutes = max(0, int((meeting.end_time - meeting.start_time).total_seconds() // 60))
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{hours} h {rest} min"
    return f"{hours} h" if hours else f"{rest} min"


def when(meeting: MeetingFacts) -> str:
    start = meeting.start_time.astimezone(UTC)
    end = meeting.end_time.astimezone(UTC)
    start_token = slack_date(start, "{date_short_pretty} at {time}", start.strftime("%a %d %b %Y %H:%M UTC"))
    end_token = slack_date(end, "{time}", end.strftime("%H:%M UTC"))
    return f"{start_token} – {end_token} ({duration_words(meeting)})"


def meeting_message(meeting: MeetingFacts, decision: Decision, *, event_id: str) -> Message:
    """Pure: the same inputs always give the same message (its hash decides whether to chat.update)."""
    title = escape(display_title(meeting.title))
    heading = f"~{title}~" if decision.state is BotState.CANCELLED else f"*{title}*"
    details = [when(meeting)]
    facts = []
    platform = platform_name(meeting.meeting_platform)
    if platform:
        facts.append(escape(platform))
    if meeting.organizer:
        facts.append(f"organised by {escape(truncate(meeting.organizer, 200))}")
    if meeting.series_id:
        facts.append("part of a recurring series")
    if facts:
        details.append(" · ".join(facts))
    body = truncate(f"{heading}\n" + "\n".join(details), MAX_SECTION_TEXT)
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=body)),
        ContextBlock(elements=[MarkdownTextObject(text=f"{STATE_LINES[decision.state]} · {decision.reason}")]),
    ]
    buttons: list[ButtonElement] = []
    if decision.state in (BotState.ASK, BotState.COVERED):
        label = "Share bot" if decision.state is BotState.COVERED else "Schedule bot"
        buttons = [
            ButtonElement(text=label, action_id=ActionId.SCHEDULE_BOT, value=event_id, style="primary"),
            ButtonElement(text="Skip", action_id=ActionId.SKIP_BOT, value=event_id),
        ]
    elif decision.state in (BotState.SCHEDULED, BotState.SKIPPED):
        buttons = [ButtonElement(text="Undo", action_id=ActionId.UNDO_CHOICE, value=event_id)]
    if buttons:
        blocks.append(ActionsBlock(block_id=BlockId.MEETING_ACTIONS, elements=buttons))
    fallback_start = meeting.start_time.astimezone(UTC).strftime("%a %d %b %H:%M UTC")
    text = f"{display_title(meeting.title)} ({fallback_start}): {STATE_WORDS[decision.state]}"
    return build_message(escape(text), blocks)
