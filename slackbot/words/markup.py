"""Slack mrkdwn helpers every sentence uses: escaping user text, clipping it, date tokens."""

from __future__ import annotations

from datetime import datetime


def escape(text: str) -> str:
    """Escape user-supplied text for mrkdwn so `<!channel>` or `<url|label>` renders as text and pings nobody.

    Slack asks for exactly these three: https://docs.slack.dev/messaging/formatting-message-text#escaping
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """What the member typed: Slack escapes `&`, `<` and `>` in a slash command's text."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clip(text: str, limit: int = 40) -> str:
    """User input quoted back in a reply: short, escaped, and unable to close a `code` span."""
    return escape(truncate(text, limit)).replace("`", "'")


def slack_date(moment: datetime, token_format: str, fallback: str | None = None) -> str:
    """A `<!date^...>` token: every reader sees ``moment`` in their own timezone."""
    epoch = int(moment.timestamp())
    fallback_text = fallback or moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{epoch}^{token_format}|{escape(fallback_text)}>"


def sentence_case(text: str) -> str:
    """First letter up, the rest as written (`str.capitalize` would turn "DMs" into "dms")."""
    return text[:1].upper() + text[1:]
