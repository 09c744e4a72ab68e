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

STATUS_WORDS = {
    "connected": ":white_check_mark: connected",
    "connecting": ":hourglass_flowing_sand: connecting (Recall is syncing your events)",
    "disconnected": ":warning: disconnected (type `/recall connect` to reconnect)",
}

USAGE = (
    "*Recall notetaker commands*\n"
    "• `/recall connect` — connect Google Calendar or Microsoft Outlook (`/recall connect google`, "
    "`/recall connect outlook`)\n"
    "• `/recall status` — see which calendars are connected\n"
    "• `/recall disconnect` — disconnect your calendars and delete what Recall stored "
    "(`/recall disconnect google` for just one)\n"
    "• `/recall help` — this message"
)


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
    verb = "Reconnect" if reconnect else "Connect"
    intro = (
        "Your calendar connection needs to be renewed. Sign in again to keep Recall's notetaker on your meetings."
        if reconnect
        else "Connect your calendar and I'll message you about each upcoming meeting, so you can choose "
        "where Recall's notetaker joins."
    )
    buttons = [
        ButtonElement(
            text=f"{verb} {link.label}",
            action_id=f"{ActionId.OPEN_CONNECT_LINK}:{link.provider}",
            url=link.url,
            style="primary" if i == 0 else None,
        )
        for i, link in enumerate(links)
    ]
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=intro)),
        ActionsBlock(block_id=BlockId.CONNECT_BUTTONS, elements=buttons),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Read-only access to your events. Each link works once, for you only, "
                    "and expires in 10 minutes."
                )
            ]
        ),
    ]
    labels = " or ".join(link.label for link in links)
    return build_message(f"{verb} {labels}: {' '.join(link.url for link in links)}", blocks)


def connected(*, provider_label: str, email: str, reconnected: bool, replaced_email: str | None) -> Message:
    if reconnected:
        headline = f":white_check_mark: *{provider_label}* is reconnected for {escape(email)}."
    elif replaced_email:
        headline = (
            f":white_check_mark: *{provider_label}* is now connected for {escape(email)} "
            f"(replacing {escape(replaced_email)})."
        )
    else:
        headline = f":white_check_mark: *{provider_label}* is connected for {escape(email)}."
    body = (
        "Recall is syncing your events now. I'll DM you about upcoming meetings that have a video link. "
        "Type `/recall status` any time to check."
    )
    return build_message(headline.replace("*", ""), [SectionBlock(text=MarkdownTextObject(text=f"{headline}\n{body}"))])


def failed(*, title: str, detail: str, retry: ConnectLink | None = None) -> Message:
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=f":x: *{escape(title)}*\n{detail}"))]
    if retry is not None:
        blocks.append(
            ActionsBlock(
                block_id=BlockId.CONNECT_BUTTONS,
                elements=[
                    ButtonElement(
                        text=f"Try again with {retry.label}",
                        action_id=f"{ActionId.OPEN_CONNECT_LINK}:{retry.provider}",
                        url=retry.url,
                    )
                ],
            )
        )
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text="This link works once and expires in 10 minutes.")])
        )
    return build_message(f"{title}. {detail}", blocks)


def status(connections: Sequence[ConnectionView], *, enabled_labels: Sequence[str]) -> Message:
    if not connections:
        options = " or ".join(enabled_labels) if enabled_labels else "a calendar"
        text = f"You have no calendar connected. Type `/recall connect` to connect {options}."
        return build_message(text, [SectionBlock(text=MarkdownTextObject(text=text))])
    lines = [
        f"• *{c.provider_label}* ({escape(c.email)}): {STATUS_WORDS.get(c.status, escape(c.status))}"
        for c in connections
    ]
    text = "*Your calendars*\n" + "\n".join(lines)
    return build_message(text.replace("*", ""), [SectionBlock(text=MarkdownTextObject(text=text))])


def plain(text: str) -> Message:
    return build_message(text, [SectionBlock(text=MarkdownTextObject(text=text))])


def usage(prefix: str | None = None) -> Message:
    text = f"{prefix}\n\n{USAGE}" if prefix else USAGE
    return plain(text)
