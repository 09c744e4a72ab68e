"""Slack's limits and the message type shared by every builder (escaping lives in `words.markup`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import Block

from slackbot.slack.message import Message
from slackbot.words.markup import escape, slack_date, truncate

__all__ = [
    "MAX_BUTTON_TEXT",
    "MAX_MESSAGE_BLOCKS",
    "MAX_SECTION_TEXT",
    "MAX_VIEW_BLOCKS",
    "Message",
    "build_message",
    "escape",
    "slack_date",
    "to_dicts",
    "truncate",
]

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_BUTTON_TEXT = 75


def to_dicts(blocks: Sequence[Block], *, limit: int = MAX_MESSAGE_BLOCKS) -> list[dict[str, Any]]:
    """Serialise (slack_sdk validates lengths here) and enforce the per-surface block count."""
    if len(blocks) > limit:
        raise ValueError(f"{len(blocks)} blocks exceed Slack's limit of {limit}")
    return [block.to_dict() for block in blocks]


def build_message(text: str, blocks: Sequence[Block]) -> Message:
    return Message(text=text, blocks=to_dicts(blocks))
