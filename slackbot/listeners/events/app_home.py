"""Publish the App Home tab when a member opens it."""

from __future__ import annotations

from typing import Any

from slackbot.registry import Services
from slackbot.requester import Requester


class AppHome:
    def __init__(self, services: Services) -> None:
        self._services = services

    async def opened(self, event: dict[str, Any], requester: Requester) -> None:
        if event.get("tab", "home") != "home":
            return
        await self._services.home.opened(requester)
