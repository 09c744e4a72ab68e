"""Uninstall and token revocation: delete the workspace's installation and every piece of its data."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext

from slackbot.registry import Services

logger = logging.getLogger(__name__)


class Uninstall:
    """Replaces Bolt's built-in revocation listeners, which delete only the installation rows."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def app_uninstalled(self, context: AsyncBoltContext) -> None:
        await self._purge(context)

    async def tokens_revoked(self, event: dict[str, Any], context: AsyncBoltContext) -> None:
        # We hold only bot tokens; a revoked bot token leaves the app unable to act for this workspace.
        if event.get("tokens", {}).get("bot"):
            await self._purge(context)

    async def _purge(self, context: AsyncBoltContext) -> None:
        team_id = context.team_id
        if not team_id:
            logger.warning("workspace.purge_without_team")
            return
        await self._services.connections.purge_workspace(team_id=team_id, enterprise_id=context.enterprise_id)
        self._services.gateway.forget_workspace(team_id)
