"""Slack Web API access outside a Slack request: token lookup per workspace, DM channels, posting."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from slackbot.blocks.text import Message

logger = logging.getLogger(__name__)


def retry_handlers() -> list:
    """Retry dropped connections and 429s (honouring Retry-After); the default retries connections only."""
    return [AsyncConnectionErrorRetryHandler(max_retry_count=2), AsyncRateLimitErrorRetryHandler(max_retry_count=2)]


class WorkspaceNotInstalled(Exception):
    """No bot token is stored for the workspace (never installed, or uninstalled)."""


# What a Slack call can fail with after slack_sdk's own retries: an API error, no token, or the network.
SLACK_FAILURES: tuple[type[BaseException], ...] = (
    SlackApiError,
    WorkspaceNotInstalled,
    aiohttp.ClientError,
    TimeoutError,
    OSError,
)


def slack_error_name(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error"))
    if isinstance(exc, WorkspaceNotInstalled):
        return "not_installed"
    return type(exc).__name__


@dataclass(frozen=True)
class PostedMessage:
    channel: str
    ts: str


class SlackGateway:
    """Finds the bot token for a workspace and sends DMs with it."""

    def __init__(
        self,
        *,
        api_url: str,
        bot_token: str | None = None,
        installation_store: AsyncInstallationStore | None = None,
    ) -> None:
        self._api_url = api_url
        self._bot_token = bot_token or None
        self._store = installation_store
        self._dm_channels: dict[tuple[str, str], str] = {}
        self._dm_locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._session: aiohttp.ClientSession | None = None

    def client(self, token: str | None = None) -> AsyncWebClient:
        """A client on one shared connection pool (slack_sdk otherwise opens a connection per call)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return AsyncWebClient(
            token=token, base_url=self._api_url, retry_handlers=retry_handlers(), session=self._session
        )

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def client_for(self, *, team_id: str, enterprise_id: str | None = None) -> AsyncWebClient:
        if self._bot_token:
            return self.client(self._bot_token)
        if self._store is None:
            raise WorkspaceNotInstalled(team_id)
        bot = await self._store.async_find_bot(enterprise_id=enterprise_id, team_id=team_id)
        if bot is None or not bot.bot_token:
            raise WorkspaceNotInstalled(team_id)
        return self.client(bot.bot_token)

    async def dm_channel(self, client: AsyncWebClient, *, team_id: str, user_id: str) -> str:
        key = (team_id, user_id)
        if key not in self._dm_channels:
            async with self._dm_locks.setdefault(key, asyncio.Lock()):
                if key not in self._dm_channels:  # opened while we waited
                    response = await client.conversations_open(users=user_id)
                    self._dm_channels[key] = response["channel"]["id"]
            self._dm_locks.pop(key, None)
        return self._dm_channels[key]

    async def send_dm(
        self, *, team_id: str, user_id: str, message: Message, enterprise_id: str | None = None
    ) -> PostedMessage:
        client = await self.client_for(team_id=team_id, enterprise_id=enterprise_id)
        channel = await self.dm_channel(client, team_id=team_id, user_id=user_id)
        response = await client.chat_postMessage(channel=channel, **message.as_kwargs())
        return PostedMessage(channel=response["channel"], ts=response["ts"])

    async def try_send_dm(
        self, *, team_id: str, user_id: str, message: Message, enterprise_id: str | None = None
    ) -> PostedMessage | None:
        """Send a DM; log and return None if Slack refuses (the caller has nothing better to do)."""
        try:
            return await self.send_dm(team_id=team_id, user_id=user_id, message=message, enterprise_id=enterprise_id)
        except SLACK_FAILURES as exc:
            logger.warning("slack.dm_failed", extra={"team_id": team_id, "error": slack_error_name(exc)})
            return None

    def forget_workspace(self, team_id: str) -> None:
        for key in [k for k in self._dm_channels if k[0] == team_id]:
            del self._dm_channels[key]
