"""Small pieces of wording shared by every topic."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from slackbot.calendar_oauth.providers import PROVIDERS


def provider_label(provider: str) -> str:
    spec = PROVIDERS.get(provider)
    return spec.label if spec else "your calendar"


def command_word(provider: str) -> str:
    """What a member types after `/recall connect` for ``provider``."""
    return "outlook" if provider == "microsoft" else provider


def duration(span: timedelta) -> str:
    """`10 minutes`, `1 hour`, `2 hours 30 minutes`, `45 seconds`: a span as members read it."""
    seconds = int(span.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{value} {unit}{'' if value == 1 else 's'}"
        for value, unit in ((hours, "hour"), (minutes, "minute"), (secs, "second"))
        if value
    ]
    return " ".join(parts) or "0 seconds"


def mentions(user_ids: Sequence[str], *, most: int = 3) -> str:
    """`<@U1>`, `<@U1> and <@U2>`, `<@U1>, <@U2>, <@U3> and 2 more`."""
    names = [f"<@{u}>" for u in user_ids[:most]]
    if len(user_ids) > most:
        names.append(f"{len(user_ids) - most} more")
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]
