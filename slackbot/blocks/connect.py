"""Messages about connecting calendars: the link DM, results, status, help."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from slackbot.blocks.text import Message, build_message, escape
from slackbot.ids import ActionId, BlockId
from slackbot.words import commands as command_words
from slackbot.words import connect as words

# Re-exported for the builders' callers and tests.
STATUS_WORDS = words.STATUS_WORDS
USAGE = command_words.USAGE


@dataclass(frozen=True)
class ConnectLink:
    provider: str
    label: str
    url: str


@dataclass(frozen=True)
class ConnectionView:
    provider_label: str
    email: str
    status: str


def connect_links(links: Sequence[ConnectLink], *, reconnect: bool = False) -> Message:
    intro = words.RECONNECT_INTRO if reconnect else words.CONNECT_INTRO
    buttons = [
        ButtonElement(
            text=words.connect_button(link.label, reconnect=reconnect),
            action_id=f"{ActionId.OPEN_CONNECT_LINK}:{link.provider}",
            url=link.url,
            style="primary" if i == 0 else None,
        )
        for i, link in enumerate(links)
    ]
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=intro)),
        ActionsBlock(block_id=BlockId.CONNECT_BUTTONS, elements=buttons),
        ContextBlock(elements=[MarkdownTextObject(text=words.LINK_FINE_PRINT)]),
    ]
    labels = " or ".join(link.label for link in links)
    fallback = words.connect_button(labels, reconnect=reconnect)
    return build_message(f"{fallback}: {' '.join(link.url for link in links)}", blocks)


def connected(*, provider_label: str, email: str, reconnected: bool, replaced_email: str | None) -> Message:
    headline = words.connected_headline(
        provider_label=provider_label,
        email=escape(email),
        reconnected=reconnected,
        replaced_email=escape(replaced_email) if replaced_email else None,
    )
    section = SectionBlock(text=MarkdownTextObject(text=f"{headline}\n{words.CONNECTED_BODY}"))
    return build_message(headline.replace("*", ""), [section])


def failed(*, title: str, detail: str, retry: ConnectLink | None = None) -> Message:
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=f":x: *{escape(title)}*\n{detail}"))]
    if retry is not None:
        blocks.append(
            ActionsBlock(
                block_id=BlockId.CONNECT_BUTTONS,
                elements=[
                    ButtonElement(
                        text=words.retry_button(retry.label),
                        action_id=f"{ActionId.OPEN_CONNECT_LINK}:{retry.provider}",
                        url=retry.url,
                    )
                ],
            )
        )
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=words.RETRY_LINK_FINE_PRINT)]))
    return build_message(f"{title}. {detail}", blocks)


def status_lines(connections: Sequence[ConnectionView]) -> list[str]:
    return [
        words.status_line(provider_label=c.provider_label, email=escape(c.email), status=escape(c.status))
        for c in connections
    ]


def status(connections: Sequence[ConnectionView], *, enabled_labels: Sequence[str]) -> Message:
    if not connections:
        return plain(words.no_connection(list(enabled_labels)))
    text = words.YOUR_CALENDARS + "\n" + "\n".join(status_lines(connections))
    return build_message(text.replace("*", ""), [SectionBlock(text=MarkdownTextObject(text=text))])


def plain(text: str) -> Message:
    return build_message(text, [SectionBlock(text=MarkdownTextObject(text=text))])


def usage(prefix: str | None = None) -> Message:
    text = f"{prefix}\n\n{USAGE}" if prefix else USAGE
    return plain(text)
