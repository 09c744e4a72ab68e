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

from slackbot.blocks.connect import USAGE, ConnectionView, status_lines
from slackbot.blocks.text import MAX_VIEW_BLOCKS, to_dicts
from slackbot.ids import ActionId, BlockId
from slackbot.words import connect as words


def home_view(
    *, connections: Sequence[ConnectionView], available: Sequence[tuple[str, str]], connected_providers: set[str]
) -> dict[str, Any]:
    """``available`` is (provider, label) for each enabled provider."""
    blocks: list[Block] = [HeaderBlock(text=words.HOME_HEADER)]
    if connections:
        text = words.YOUR_CALENDARS + "\n" + "\n".join(status_lines(connections))
        blocks.append(SectionBlock(text=MarkdownTextObject(text=text)))
    else:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=words.HOME_INTRO)))
    buttons = [
        ButtonElement(
            text=words.connect_button(label, reconnect=provider in connected_providers),
            action_id=f"{ActionId.HOME_CONNECT}:{provider}",
            value=provider,
        )
        for provider, label in available
    ]
    if buttons:
        blocks.append(ActionsBlock(block_id=BlockId.HOME_CONNECTIONS, elements=buttons))
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=words.HOME_LINK_NOTE)]))
    else:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=words.NO_PROVIDERS)]))
    blocks.extend([DividerBlock(), SectionBlock(text=MarkdownTextObject(text=USAGE))])
    return {"type": "home", "blocks": to_dicts(blocks, limit=MAX_VIEW_BLOCKS)}
