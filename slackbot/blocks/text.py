"""Escaping and Slack limits shared by every builder."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import Block

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_BUTTON_TEXT = 75


def escape(text: str) -> str:
    """Escape user-supplied text for mrkdwn so `<!channel>` or `<url|label>` renders as text and pings nobody.

    Slack asks for exactly these three: https://docs.slack.dev/messaging/formatting-message-text#escaping
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_date(moment: datetime, token_format: str, fallback: str | None = None) -> str:
    """A `<!date^...>` token: every reader sees ``moment`` in their own timezone."""
    epoch = int(moment.timestamp())
    fallback_text = fallback or moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{epoch}^{token_format}|{escape(fallback_text)}>"


def to_dicts(blocks: Sequence[Block], *, limit: int = MAX_MESSAGE_BLOCKS) -> list[dict[str, Any]]:
    """Serialise (slack_sdk validates lengths here) and enforce the per-surface block count."""
    if len(blocks) > limit:
        raise ValueError(f"{len(blocks)} blocks exceed Slack's limit of {limit}")
    return [block.to_dict() for block in blocks]


@dataclass(frozen=True)
class Message:
    """Fallback text plus blocks, ready for chat.postMessage, chat.update or respond."""

    text: str
    blocks: list[dict[str, Any]]

    def as_kwargs(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def build_message(text: str, blocks: Sequence[Block]) -> Message:
    return Message(text=text, blocks=to_dicts(blocks))
