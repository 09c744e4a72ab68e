"""Connect / status / usage messages, the App Home view, and the shared text helpers."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from slack_sdk.models.blocks import Block, DividerBlock, MarkdownTextObject, SectionBlock

from slackbot.blocks import connect, home
from slackbot.blocks.connect import STATUS_WORDS, USAGE, ConnectionView, ConnectLink
from slackbot.blocks.text import (
    MAX_BUTTON_TEXT,
    MAX_MESSAGE_BLOCKS,
    MAX_SECTION_TEXT,
    MAX_VIEW_BLOCKS,
    Message,
    build_message,
    escape,
    slack_date,
    to_dicts,
    truncate,
)
from slackbot.ids import ActionId, BlockId

GOOGLE = ConnectLink(
    provider="google", label="Google Calendar", url="https://bot.example/calendar/connect/google?t=abc"
)
MICROSOFT = ConnectLink(
    provider="microsoft", label="Microsoft Outlook", url="https://bot.example/calendar/connect/microsoft?t=def"
)
HOSTILE_EMAIL = "a<b>@x.com"
ESCAPED_EMAIL = "a&lt;b&gt;@x.com"


def assert_valid(blocks: list[dict[str, Any]], *, limit: int = MAX_MESSAGE_BLOCKS) -> None:
    assert 0 < len(blocks) <= limit
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None, block
        assert parsed.to_dict() == block
    json.dumps(blocks)
    for block in blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= MAX_SECTION_TEXT
        for element in block.get("elements", []):
            if element.get("type") == "button":
                assert len(element["text"]["text"]) <= MAX_BUTTON_TEXT


def assert_valid_message(message: Message) -> None:
    assert isinstance(message, Message)
    assert message.text.strip()
    assert_valid(message.blocks)


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def serialized(message: Message) -> str:
    return message.text + json.dumps(message.blocks, ensure_ascii=False)


# ---------------------------------------------------------------------------------------------------------------------
# connect_links
# ---------------------------------------------------------------------------------------------------------------------


def test_connect_links_one_provider() -> None:
    message = connect.connect_links([GOOGLE])
    assert_valid_message(message)
    [button] = buttons(message.blocks)
    assert button["action_id"] == "open_connect_link:google"
    assert button["action_id"].startswith(f"{ActionId.OPEN_CONNECT_LINK}:")
    assert button["url"] == GOOGLE.url
    assert button["text"]["text"] == "Connect Google Calendar"
    assert button["style"] == "primary"
    assert "value" not in button
    [actions] = [b for b in message.blocks if b["type"] == "actions"]
    assert actions["block_id"] == BlockId.CONNECT_BUTTONS
    assert GOOGLE.url in message.text
    assert message.text.startswith("Connect Google Calendar")
    assert "expires in 10 minutes" in json.dumps(message.blocks)
    assert "Read-only" in json.dumps(message.blocks)


def test_connect_links_two_providers() -> None:
    message = connect.connect_links([GOOGLE, MICROSOFT])
    assert_valid_message(message)
    found = buttons(message.blocks)
    assert [b["action_id"] for b in found] == ["open_connect_link:google", "open_connect_link:microsoft"]
    assert all(b["action_id"].startswith("open_connect_link:") for b in found)
    assert len({b["action_id"] for b in found}) == 2  # Slack needs unique action ids within a block
    assert [b["url"] for b in found] == [GOOGLE.url, MICROSOFT.url]
    assert found[0]["style"] == "primary"
    assert "style" not in found[1]
    assert "Google Calendar or Microsoft Outlook" in message.text
    assert GOOGLE.url in message.text
    assert MICROSOFT.url in message.text


def test_connect_links_reconnect_wording() -> None:
    message = connect.connect_links([MICROSOFT], reconnect=True)
    assert_valid_message(message)
    [button] = buttons(message.blocks)
    assert button["text"]["text"] == "Reconnect Microsoft Outlook"
    assert message.text.startswith("Reconnect Microsoft Outlook")
    assert "renewed" in message.blocks[0]["text"]["text"]


# ---------------------------------------------------------------------------------------------------------------------
# connected / failed / status / usage
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reconnected", "replaced", "fragment"),
    [
        (False, None, "is connected for"),
        (True, None, "is reconnected for"),
        (False, "old<i>@x.com", "is now connected for"),
    ],
)
def test_connected_messages_are_valid_and_escaped(reconnected: bool, replaced: str | None, fragment: str) -> None:
    message = connect.connected(
        provider_label="Google Calendar", email=HOSTILE_EMAIL, reconnected=reconnected, replaced_email=replaced
    )
    assert_valid_message(message)
    section = message.blocks[0]["text"]["text"]
    assert fragment in section
    assert ESCAPED_EMAIL in section
    assert ESCAPED_EMAIL in message.text
    assert HOSTILE_EMAIL not in serialized(message)
    assert "*Google Calendar*" in section
    assert "*" not in message.text  # the fallback (notification) text is plain
    if replaced:
        assert "replacing old&lt;i&gt;@x.com" in section
        assert "old<i>" not in serialized(message)


def test_failed_without_retry() -> None:
    message = connect.failed(title="This link has expired", detail="Type `/recall connect` for a fresh one.")
    assert_valid_message(message)
    assert len(message.blocks) == 1
    assert message.blocks[0]["text"]["text"] == ":x: *This link has expired*\nType `/recall connect` for a fresh one."
    assert buttons(message.blocks) == []
    assert message.text == "This link has expired. Type `/recall connect` for a fresh one."


def test_failed_with_retry_button() -> None:
    message = connect.failed(title="We couldn't reach Google", detail="Try again.", retry=GOOGLE)
    assert_valid_message(message)
    [button] = buttons(message.blocks)
    assert button["action_id"] == "open_connect_link:google"
    assert button["url"] == GOOGLE.url
    assert button["text"]["text"] == "Try again with Google Calendar"
    assert [b["type"] for b in message.blocks] == ["section", "actions", "context"]


def test_failed_title_is_escaped_in_blocks() -> None:
    message = connect.failed(title="<!channel> & co", detail="detail")
    assert_valid_message(message)
    assert "&lt;!channel&gt; &amp; co" in message.blocks[0]["text"]["text"]
    assert "<!channel>" not in json.dumps(message.blocks)


def test_status_without_connections() -> None:
    message = connect.status([], enabled_labels=["Google Calendar", "Microsoft Outlook"])
    assert_valid_message(message)
    assert "no calendar connected" in message.text
    assert "Google Calendar or Microsoft Outlook" in message.text
    none_enabled = connect.status([], enabled_labels=[])
    assert_valid_message(none_enabled)
    assert "connect a calendar" in none_enabled.text


def test_status_with_connections_escapes_and_words_states() -> None:
    views = [
        ConnectionView(provider_label="Google Calendar", email=HOSTILE_EMAIL, status="connected"),
        ConnectionView(provider_label="Microsoft Outlook", email="me@corp.example", status="disconnected"),
        ConnectionView(provider_label="Google Calendar", email="x@y.z", status="connecting"),
        ConnectionView(provider_label="Google Calendar", email="w@y.z", status="<weird & new>"),
    ]
    message = connect.status(views, enabled_labels=["Google Calendar"])
    assert_valid_message(message)
    section = message.blocks[0]["text"]["text"]
    assert section.startswith("*Your calendars*\n")
    assert f"• *Google Calendar* ({ESCAPED_EMAIL}): {STATUS_WORDS['connected']}" in section
    assert STATUS_WORDS["disconnected"] in section
    assert STATUS_WORDS["connecting"] in section
    assert "&lt;weird &amp; new&gt;" in section
    assert HOSTILE_EMAIL not in serialized(message)
    assert "<weird" not in serialized(message)
    assert "*" not in message.text
    assert section.count("\n•") == len(views)


def test_usage_and_plain() -> None:
    message = connect.usage()
    assert_valid_message(message)
    assert message.text == USAGE
    for command in ("/recall connect", "/recall status", "/recall disconnect", "/recall help"):
        assert command in message.text
    prefixed = connect.usage("I don't know `/recall dance`.")
    assert_valid_message(prefixed)
    assert prefixed.text == f"I don't know `/recall dance`.\n\n{USAGE}"
    plain = connect.plain("hello")
    assert plain.text == "hello"
    assert plain.blocks == [{"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}]


# ---------------------------------------------------------------------------------------------------------------------
# App Home
# ---------------------------------------------------------------------------------------------------------------------

AVAILABLE = [("google", "Google Calendar"), ("microsoft", "Microsoft Outlook")]


def test_home_view_without_connections() -> None:
    view = home.home_view(connections=[], available=AVAILABLE, connected_providers=set())
    assert view["type"] == "home"
    assert_valid(view["blocks"], limit=MAX_VIEW_BLOCKS)
    assert view["blocks"][0]["type"] == "header"
    assert view["blocks"][0]["text"]["text"] == "Recall for Slack"
    found = buttons(view["blocks"])
    assert [b["action_id"] for b in found] == ["home_connect:google", "home_connect:microsoft"]
    assert all(b["action_id"].startswith(f"{ActionId.HOME_CONNECT}:") for b in found)
    assert [b["value"] for b in found] == ["google", "microsoft"]
    assert [b["text"]["text"] for b in found] == ["Connect Google Calendar", "Connect Microsoft Outlook"]
    [actions] = [b for b in view["blocks"] if b["type"] == "actions"]
    assert actions["block_id"] == BlockId.HOME_CONNECTIONS
    assert USAGE in json.dumps(view["blocks"], ensure_ascii=False).replace("\\n", "\n")


def test_home_view_with_connections() -> None:
    view = home.home_view(
        connections=[ConnectionView(provider_label="Google Calendar", email=HOSTILE_EMAIL, status="connected")],
        available=AVAILABLE,
        connected_providers={"google"},
    )
    assert_valid(view["blocks"], limit=MAX_VIEW_BLOCKS)
    text = json.dumps(view["blocks"], ensure_ascii=False)
    assert ESCAPED_EMAIL in text
    assert HOSTILE_EMAIL not in text
    assert "*Your calendars*" in text
    labels = [b["text"]["text"] for b in buttons(view["blocks"])]
    assert labels == ["Reconnect Google Calendar", "Connect Microsoft Outlook"]


def test_home_view_without_providers() -> None:
    view = home.home_view(connections=[], available=[], connected_providers=set())
    assert_valid(view["blocks"], limit=MAX_VIEW_BLOCKS)
    assert buttons(view["blocks"]) == []
    assert "No calendar can be connected here yet" in json.dumps(view["blocks"])


def test_home_view_is_pure() -> None:
    kwargs: dict[str, Any] = {
        "connections": [ConnectionView("Google Calendar", "a@b.c", "connected")],
        "available": AVAILABLE,
        "connected_providers": {"google"},
    }
    assert home.home_view(**kwargs) == home.home_view(**kwargs)


# ---------------------------------------------------------------------------------------------------------------------
# text.py helpers
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("", ""),
        ("plain text", "plain text"),
        ("a & b", "a &amp; b"),
        ("<!channel>", "&lt;!channel&gt;"),
        ("<https://evil|click>", "&lt;https://evil|click&gt;"),
        ("<@U123>", "&lt;@U123&gt;"),
        ("&lt;", "&amp;lt;"),  # ampersand first, so entities are not double-decoded
        ("<<>>&&", "&lt;&lt;&gt;&gt;&amp;&amp;"),
        ("*bold* _it_ ~s~ `c`", "*bold* _it_ ~s~ `c`"),  # only the three characters Slack asks for
        ("émoji 😀 \"quotes\" 'x'", "émoji 😀 \"quotes\" 'x'"),
    ],
)
def test_escape(raw: str, escaped: str) -> None:
    assert escape(raw) == escaped
    assert "<" not in escape(raw)
    assert ">" not in escape(raw)


def test_escape_is_reversible() -> None:
    raw = "<a> & <b> &amp; &lt;"
    unescaped = escape(raw).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert unescaped == raw


def test_truncate() -> None:
    assert truncate("abc", 3) == "abc"
    assert truncate("abcd", 3) == "ab…"
    assert len(truncate("x" * 5000, MAX_SECTION_TEXT)) == MAX_SECTION_TEXT


def test_slack_date() -> None:
    moment = datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    assert slack_date(moment, "{time}", "10:00 UTC") == "<!date^1714557600^{time}|10:00 UTC>"
    assert (
        slack_date(datetime(2024, 5, 1, 10, tzinfo=UTC), "{date}") == "<!date^1714557600^{date}|2024-05-01 10:00 UTC>"
    )
    assert slack_date(moment, "{time}", "<x & y>") == "<!date^1714557600^{time}|&lt;x &amp; y&gt;>"


def _sections(n: int) -> list[Block]:
    return [SectionBlock(text=MarkdownTextObject(text=f"s{i}")) for i in range(n)]


def test_to_dicts_limits() -> None:
    assert len(to_dicts(_sections(MAX_MESSAGE_BLOCKS))) == MAX_MESSAGE_BLOCKS
    with pytest.raises(ValueError, match=r"51 blocks exceed Slack's limit of 50"):
        to_dicts(_sections(MAX_MESSAGE_BLOCKS + 1))
    assert len(to_dicts(_sections(MAX_VIEW_BLOCKS), limit=MAX_VIEW_BLOCKS)) == MAX_VIEW_BLOCKS
    with pytest.raises(ValueError, match=r"101 blocks exceed Slack's limit of 100"):
        to_dicts(_sections(MAX_VIEW_BLOCKS + 1), limit=MAX_VIEW_BLOCKS)
    assert to_dicts([]) == []
    assert to_dicts([DividerBlock()]) == [{"type": "divider"}]


def test_to_dicts_validates_section_length() -> None:
    from slack_sdk.errors import SlackObjectFormationError

    with pytest.raises(SlackObjectFormationError):
        to_dicts([SectionBlock(text=MarkdownTextObject(text="x" * (MAX_SECTION_TEXT + 1)))])


def test_build_message_and_limits_constants() -> None:
    message = build_message("fallback", _sections(2))
    assert message == Message(text="fallback", blocks=[s.to_dict() for s in _sections(2)])
    assert message.as_kwargs() == {"text": "fallback", "blocks": message.blocks}
    with pytest.raises(ValueError):
        build_message("x", _sections(MAX_MESSAGE_BLOCKS + 1))
    assert (MAX_MESSAGE_BLOCKS, MAX_VIEW_BLOCKS, MAX_SECTION_TEXT, MAX_BUTTON_TEXT) == (50, 100, 3000, 75)


def test_no_raw_user_markup_anywhere_in_connect_messages() -> None:
    messages = [
        connect.connected(
            provider_label="Google Calendar", email=HOSTILE_EMAIL, reconnected=False, replaced_email=None
        ),
        connect.status(
            [ConnectionView("Google Calendar", "<!channel>@x.com", "<https://evil|x>")], enabled_labels=["Google"]
        ),
    ]
    for message in messages:
        text = serialized(message)
        assert not re.search(r"<[!@#h]", text), text
