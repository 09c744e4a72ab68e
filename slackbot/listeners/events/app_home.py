"""Publish the App Home tab when a member opens it."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from slackbot.blocks.connect import ConnectionView
from slackbot.blocks.home import home_view
from slackbot.services.registry import Services
from slackbot.words import provider_label


class AppHome:
    def __init__(self, services: Services) -> None:
        self._services = services

    async def opened(self, event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext) -> None:
        if event.get("tab", "home") != "home":
            return
        user_id = event["user"]
        infos = await self._services.connections.list(team_id=context.team_id or "", user_id=user_id, refresh=False)
        view = home_view(
            connections=[ConnectionView(provider_label(i.provider), i.email, i.status) for i in infos],
            available=[(name, creds.spec.label) for name, creds in self._services.flow.providers.items()],
            connected_providers={i.provider for i in infos},
        )
        await client.views_publish(user_id=user_id, view=view)
