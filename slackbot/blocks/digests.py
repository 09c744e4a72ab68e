"""Messages that show several meetings (the daily agenda, the connect summary, the Home tab's list) and the
reminder: pure builders, one row per meeting with the same buttons as its own message."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, tzinfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    MarkdownTextObject,
    SectionBlock,
)

from slackbot.blocks.meeting import display_title, meeting_message, status_and_buttons, when
from slackbot.blocks.text import (
    MAX_MESSAGE_BLOCKS,
    MAX_SECTION_TEXT,
    Message,
    build_message,
    escape,
    truncate,
)
from slackbot.ids import ActionId, BlockId
from slackbot.meetings.bot_life import BotShown
from slackbot.meetings.decision import Decision, MeetingFacts
from slackbot.meetings.rules import Rule
from slackbot.words import digests as words

# Rows in one message: two blocks each, leaving room for the header and footer within Slack's 50.
MAX_AGENDA_ROWS = 20
MAX_SUMMARY_ROWS = 10


@dataclass(frozen=True)
class Row:
    event_id: str
    facts: MeetingFacts
    decision: Decision
    bot: BotShown | None = None


def row_blocks(row: Row) -> list[Block]:
    """One meeting: what, when, its state and why, and its buttons (block ids unique within a message)."""
    title = escape(display_title(row.facts.title))
    heading = f"~{title}~" if row.decision.state.value == "cancelled" else f"*{title}*"
    status, buttons = status_and_buttons(row.facts, row.decision, event_id=row.event_id, bot=row.bot)
    text = truncate(f"{heading}\n{when(row.facts)}\n{status}", MAX_SECTION_TEXT)
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=text))]
    if buttons:
        blocks.append(ActionsBlock(block_id=f"{BlockId.MEETING_ACTIONS}:{row.event_id}", elements=buttons))
    return blocks


def _rows(rows: Sequence[Row], limit: int) -> tuple[list[Block], int]:
    blocks: list[Block] = []
    for row in rows[:limit]:
        blocks.extend(row_blocks(row))
    return blocks, max(0, len(rows) - limit)


def _day_text(day: date) -> str:
    """The member's local day (a date token would shift it for readers in far-off zones)."""
    return f"{day.strftime('%A')} {day.day} {day.strftime('%B')}"


def agenda_message(*, day: date, rows: Sequence[Row]) -> Message:
    """The day's meetings with a video link, in order; more than fit go to the Home tab."""
    recorded = sum(1 for r in rows if r.decision.wants_bot)
    head = f"{words.agenda_title(_day_text(day))}\n{words.agenda_counts(len(rows), recorded)}"
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=head)), DividerBlock()]
    shown, more = _rows(rows, MAX_AGENDA_ROWS)
    blocks.extend(shown)
    footer = words.more_on_home(more) + " " + words.AGENDA_FOOTER if more else words.AGENDA_FOOTER
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=footer)]))
    assert len(blocks) <= MAX_MESSAGE_BLOCKS
    fallback = f"Your meetings on {_day_text(day)}: {words.agenda_counts(len(rows), recorded)}"
    return build_message(fallback, blocks)


def summary_message(
    *,
    provider_label: str,
    email: str,
    replaced_email: str | None,
    syncing: bool,
    upcoming: int,
    recorded: int,
    rule: Rule | None,
    workspace_rule: Rule | None,
    rows: Sequence[Row],
    home_url: str | None,
) -> Message:
    """The one message on connecting: what was found, what the rule does with it, the next meetings with their
    buttons (at most ten; the rest are on the Home tab)."""
    headline = words.summary_headline(
        provider_label=provider_label,
        email=escape(email),
        replaced_email=escape(replaced_email) if replaced_email else None,
    )
    if syncing:
        body = words.SUMMARY_SYNCING
    else:
        body = words.summary_found(upcoming=upcoming, recorded=recorded, rule=rule, workspace_rule=workspace_rule)
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=f"{headline}\n{body}"))]
    if rows:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=words.SUMMARY_NEXT)))
        shown, more = _rows(rows, MAX_SUMMARY_ROWS)
        blocks.extend(shown)
        if more:
            blocks.append(ContextBlock(elements=[MarkdownTextObject(text=words.more_on_home(more))]))
    if home_url:
        button = ButtonElement(text=words.HOME_BUTTON, url=home_url, action_id=ActionId.OPEN_HOME)
        blocks.append(ActionsBlock(block_id=BlockId.SUMMARY_HOME, elements=[button]))
    return build_message(headline.replace("*", ""), blocks)


def reminder_message(row: Row, *, tz: tzinfo = UTC) -> Message:
    """The meeting's own message under a heading: starts in 30 minutes, nobody decided."""
    inner = meeting_message(row.facts, row.decision, event_id=row.event_id, bot=row.bot, tz=tz)
    head = SectionBlock(text=MarkdownTextObject(text=words.REMINDER_HEAD)).to_dict()
    return Message(text=f"Starts in 30 minutes: {inner.text}", blocks=[head, *inner.blocks])


def home_url(*, team_id: str, app_id: str | None) -> str | None:
    """A deep link to the app's Home tab (Slack's `slack://app` scheme), when the app's id is known."""
    return f"slack://app?team={team_id}&id={app_id}&tab=home" if app_id else None
