"""The App Home tab: connection status and buttons to connect."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from slackbot.blocks.connect import STATUS_WORDS, USAGE, ConnectionView
from slackbot.blocks.text import MAX_VIEW_BLOCKS, escape, to_dicts
from slackbot.ids import ActionId, BlockId


def home_view(
    *, connections: Sequence[ConnectionView], available: Sequence[tuple[str, str]], connected_providers: set[str]
) -> dict[str, Any]:
    """``available`` is (provider, label) for each enabled provider."""
    blocks: list[Block] = [HeaderBlock(text="Recall notetaker")]
    if connections:
        lines = [
            f"• *{c.provider_label}* ({escape(c.email)}): {STATUS_WORDS.get(c.status, escape(c.status))}"
            for c in connections
        ]
        blocks.append(SectionBlock(text=MarkdownTextObject(text="*Your calendars*\n" + "\n".join(lines))))
    else:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text="Connect your calendar and I'll DM you about each upcoming meeting that has a video "
                    "link, so you can choose where Recall's notetaker joins."
                )
            )
        )
    buttons = [
        ButtonElement(
            text=("Reconnect " if provider in connected_providers else "Connect ") + label,
            action_id=f"{ActionId.HOME_CONNECT}:{provider}",
            value=provider,
        )
        for provider, label in available
    ]
    if buttons:
        blocks.append(ActionsBlock(block_id=BlockId.HOME_CONNECTIONS, elements=buttons))
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text="I'll DM you a link that works once.")]))
    else:
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text="No calendar provider is set up for this app yet.")])
        )
    blocks.extend([DividerBlock(), SectionBlock(text=MarkdownTextObject(text=USAGE))])
    return {"type": "home", "blocks": to_dicts(blocks, limit=MAX_VIEW_BLOCKS)}
