"""Buttons that start connecting a calendar."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck

from slackbot.registry import Services
from slackbot.requester import Requester
from slackbot.slack.gateway import SLACK_FAILURES, slack_error_name

logger = logging.getLogger(__name__)


async def ack_link_button(ack: AsyncAck) -> None:
    """URL buttons open the browser themselves; Slack still sends the click, which must be acknowledged."""
    await ack()


class HomeActions:
    def __init__(self, services: Services) -> None:
        self._services = services

    async def connect(self, ack: AsyncAck, body: dict[str, Any], requester: Requester) -> None:
        """App Home "Connect ..." button: DM a fresh single-use link for that provider."""
        await ack()
        provider = (body.get("actions") or [{}])[0].get("value") or ""
        if provider not in self._services.connect.providers:
            return  # a tampered value, or a provider switched off since the Home tab was drawn
        try:
            await self._services.connect.send_links(requester=requester, providers=[provider])
        except SLACK_FAILURES as exc:
            logger.warning("home.connect.dm_failed", extra={"error": slack_error_name(exc)})
