"""The per-meeting DM: title, time in the reader's timezone, platform, organiser, bot state and buttons."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

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
from slackbot.meetings.bot_life import BotShown
from slackbot.meetings.decision import BotState, Decision, MeetingFacts, Reason
from slackbot.words import bot_status as bot_words
from slackbot.words import meetings as words
from storage.lifecycle import MediaState

MAX_TITLE = 200
MAX_ORGANIZER = 200


def display_title(title: str) -> str:
    return truncate(title.strip(), MAX_TITLE) if title and title.strip() else words.UNTITLED


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


def meeting_buttons(meeting: MeetingFacts, decision: Decision, *, event_id: str) -> list[ButtonElement]:
    """What the member can do: decide, override what a rule or series decided, undo a click, choose for the series."""

    def button(text: str, action: ActionId, style: str | None = None) -> ButtonElement:
        return ButtonElement(text=text, action_id=action, value=event_id, style=style)

    if not decision.actionable or decision.locked:
        return []
    if decision.state in (BotState.ASK, BotState.COVERED):
        label = words.SHARE_BUTTON if decision.state is BotState.COVERED else words.SCHEDULE_BUTTON
        buttons = [button(label, ActionId.SCHEDULE_BOT, "primary"), button(words.SKIP_BUTTON, ActionId.SKIP_BOT)]
    elif decision.reason is Reason.CLICK:
        buttons = [button(words.UNDO_BUTTON, ActionId.UNDO_CHOICE)]
    elif decision.state is BotState.SCHEDULED:
        buttons = [button(words.SKIP_ONE_BUTTON, ActionId.SKIP_BOT)]
    else:
        buttons = [button(words.SCHEDULE_BUTTON, ActionId.SCHEDULE_BOT)]
    if meeting.series_id:
        if decision.series_choice is None:
            buttons += [
                button(words.RECORD_SERIES_BUTTON, ActionId.RECORD_SERIES),
                button(words.SKIP_SERIES_BUTTON, ActionId.SKIP_SERIES),
            ]
        else:
            buttons.append(button(words.UNDO_SERIES_BUTTON, ActionId.UNDO_SERIES))
    return buttons


def bot_lines(bot: BotShown) -> list[str]:
    """Where the bot is, why it could not record, and whether its recording and transcript are ready (mrkdwn)."""
    life = bot.life
    lines = [bot_words.status_line(life.code or "", bot_name=bot.bot_name)]
    if life.reason_code is not None:
        why = bot_words.why(life.reason_code, life.sub_code, bot_name=bot.bot_name)
        if why:
            lines.append(why)
    if life.recording_ready:
        lines.append(bot_words.recording_ready_line(transcript=life.transcript is MediaState.READY))
        if life.transcript is MediaState.FAILED:
            lines.append(bot_words.transcript_failed_line())
    elif life.recording is MediaState.FAILED:
        lines.append(bot_words.recording_failed_line(life.recording_sub_code))
    elif life.recording is MediaState.EXPIRED:
        lines.append(bot_words.recording_expired_line())
    elif life.nothing_recorded and life.reason_code is None:
        lines.append(bot_words.no_recording_line())
    return lines


def bot_buttons(bot: BotShown, *, event_id: str) -> list[ButtonElement]:
    """Remove bot while it is in the call (for the member who scheduled it), the recording and transcript after."""
    life = bot.life
    if life.active:
        if not bot.removable:
            return []
        return [ButtonElement(text=bot_words.REMOVE_BOT_BUTTON, action_id=ActionId.REMOVE_BOT, value=event_id)]
    if not life.recording_ready:
        return []
    buttons = [
        ButtonElement(
            text=bot_words.GET_RECORDING_BUTTON, action_id=ActionId.GET_RECORDING, value=event_id, style="primary"
        )
    ]
    if life.transcript is MediaState.READY:
        buttons.append(
            ButtonElement(text=bot_words.GET_TRANSCRIPT_BUTTON, action_id=ActionId.GET_TRANSCRIPT, value=event_id)
        )
    return buttons


def status_and_buttons(
    meeting: MeetingFacts, decision: Decision, *, event_id: str, bot: BotShown | None
) -> tuple[str, list[ButtonElement]]:
    """Before the bot sets off: the decision and why, with its buttons. After: what the bot does."""
    if bot is not None and bot.life.started:
        return "\n".join(bot_lines(bot)), bot_buttons(bot, event_id=event_id)
    status = f"{words.STATE_LINES[decision.state]} · {words.reason(decision)}"
    return status, meeting_buttons(meeting, decision, event_id=event_id)


def notification_time(moment: datetime, tz: tzinfo) -> str:
    """The start as the notification shows it: in the member's own time zone (Slack's date tokens are not
    rendered in push notifications), with the zone named."""
    return moment.astimezone(tz).strftime("%a %d %b %H:%M %Z").strip()


def meeting_message(
    meeting: MeetingFacts, decision: Decision, *, event_id: str, bot: BotShown | None = None, tz: tzinfo = UTC
) -> Message:
    """Pure: the same inputs always give the same message (its digest decides whether to chat.update).

    ``tz`` is the member's time zone, for the notification text; the blocks use Slack's date tokens."""
    title = escape(display_title(meeting.title))
    heading = f"~{title}~" if decision.state is BotState.CANCELLED else f"*{title}*"
    details = [when(meeting)]
    facts = []
    platform = words.platform_name(meeting.meeting_platform)
    if platform:
        facts.append(escape(platform))
    if meeting.organizer:
        facts.append(words.organised_by(escape(truncate(meeting.organizer, MAX_ORGANIZER))))
    if meeting.series_id:
        facts.append(words.RECURRING)
    if facts:
        details.append(" · ".join(facts))
    body = truncate(f"{heading}\n" + "\n".join(details), MAX_SECTION_TEXT)
    status, buttons = status_and_buttons(meeting, decision, event_id=event_id, bot=bot)
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=body)),
        ContextBlock(elements=[MarkdownTextObject(text=truncate(status, MAX_SECTION_TEXT))]),
    ]
    if buttons:
        blocks.append(ActionsBlock(block_id=BlockId.MEETING_ACTIONS, elements=buttons))
    fallback_start = notification_time(meeting.start_time, tz)
    state = words.STATE_WORDS[decision.state]
    if bot is not None and bot.life.started:
        state = bot_words.plain_state(bot.life.code or "", recording_ready=bot.life.recording_ready)
    text = f"{display_title(meeting.title)} ({fallback_start}): {state}"
    return build_message(escape(text), blocks)


def admit_alert(title: str, *, bot_name: str) -> Message:
    """The one DM that notifies the member now: their bot waits in the waiting room to be admitted."""
    text = bot_words.waiting_room_alert(title, bot_name=bot_name)
    return build_message(text, [SectionBlock(text=MarkdownTextObject(text=text))])


def media_answer(text: str) -> Message:
    """A Get recording / Get transcript answer sent as a DM (the click came from the Home tab, where there is no
    ephemeral reply): the link reaches the member only, and a Home view never keeps it."""
    return build_message(text, [SectionBlock(text=MarkdownTextObject(text=text))])
