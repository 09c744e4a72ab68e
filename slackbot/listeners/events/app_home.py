"""Publish the App Home tab when a member opens it."""

from __future__ import annotations

from typing import Any

from slackbot.blocks.connect import ConnectionView
from slackbot.blocks.home import home_view
from slackbot.registry import Services
from slackbot.requester import Requester
from slackbot.words import provider_label


class AppHome:
    def __init__(self, services: Services) -> None:
        self._services = services

    async def opened(self, event: dict[str, Any], requester: Requester) -> None:
        if event.get("tab", "home") != "home":
            return
        infos = await self._services.connections.list(
            team_id=requester.team_id, user_id=requester.user_id, refresh=False
        )
        view = home_view(
            connections=[ConnectionView(provider_label(i.provider), i.email, i.status) for i in infos],
            available=[(name, creds.spec.label) for name, creds in self._services.connect.providers.items()],
            connected_providers={i.provider for i in infos},
        )
        await self._services.gateway.publish_home(requester, view)
