"""Connect links: how long they work and the browser cookie that binds the provider round trip to one browser."""

from __future__ import annotations

from datetime import timedelta

LINK_TTL = timedelta(minutes=10)
BROWSER_COOKIE = "recall_connect"


def connect_path(provider: str) -> str:
    return f"/calendar/connect/{provider}"


def callback_path(provider: str) -> str:
    return f"/calendar/oauth/{provider}/callback"
