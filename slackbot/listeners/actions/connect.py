"""Buttons that start connecting a calendar."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from slackbot.calendar_oauth.flow import Requester
from slackbot.services.connect_links import send_connect_links
from slackbot.services.registry import Services

logger = logging.getLogger(__name__)


async def ack_link_button(ack: AsyncAck) -> None:
    await ack()


class HomeActions:
    def __init__(self, services: Services) -> None:
        self._services = services

    async def connect(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        """App Home "Connect ..." button: DM a fresh single-use link for that provider."""
        await ack()
        action = body["actions"][0]
        provider = action.get("value") or ""
        if provider not in self._services.flow.providers:
            return  # a tampered value, or a provider switched off since the Home tab was drawn
        requester = Requester(
            team_id=context.team_id or body["user"]["team_id"],
            user_id=context.user_id or body["user"]["id"],
            enterprise_id=context.enterprise_id,
        )
        try:
            await send_connect_links(
                flow=self._services.flow,
                gateway=self._services.gateway,
                requester=requester,
                providers=[provider],
                client=client,
            )
        except SlackApiError as exc:
            logger.warning("home.connect.dm_failed", extra={"error": exc.response.get("error")})
