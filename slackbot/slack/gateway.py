"""The one way the app sends to Slack: DMs, in-place updates and App Home views, for any workspace.

It finds each workspace's bot token, opens a member's DM channel once and keeps its id on the member, shares
one connection pool, and retries what Slack asks to be retried (dropped connections, 429 with Retry-After).
No other module builds a Slack client to send with; a request's own reply (`ack`, `respond`) stays with Bolt.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from slackbot.requester import Requester
from slackbot.slack.message import Message
from slackbot.slack.pacing import Lane, SlackPacer
from storage import members
from storage.db import Database

logger = logging.getLogger(__name__)

# How long a workspace's bot token is reused before it is looked up again (an uninstall also forgets it).
TOKEN_CACHE_SECONDS = 300.0


def retry_handlers() -> list[Any]:
    """Retry dropped connections and 429s (honouring Retry-After); the default retries connections only. For
    Bolt's own client (a request's reply)."""
    return [AsyncConnectionErrorRetryHandler(max_retry_count=2), AsyncRateLimitErrorRetryHandler(max_retry_count=2)]


def gateway_retry_handlers() -> list[Any]:
    """The gateway retries dropped connections only: a 429 is raised to the caller, which tries again after its
    Retry-After without holding a meeting (our own pacing keeps 429s rare)."""
    return [AsyncConnectionErrorRetryHandler(max_retry_count=2)]


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


def outcome_unknown(exc: BaseException) -> bool:
    """Whether a failed call may still have been carried out: no answer came back (the connection dropped or timed
    out after the request left). An answer, even an error, means Slack did not act on it."""
    return not isinstance(exc, SlackApiError | WorkspaceNotInstalled)


def slack_error_name(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error"))
    if isinstance(exc, WorkspaceNotInstalled):
        return "not_installed"
    return type(exc).__name__


def is_admin(user: dict[str, Any]) -> bool:
    return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))


__all__ = [
    "SLACK_FAILURES",
    "Lane",
    "PostedMessage",
    "SlackGateway",
    "WorkspaceNotInstalled",
    "event_mark",
    "outcome_unknown",
    "slack_error_name",
]

# Our clock against Slack's, when a message is looked for around the time it was sent.
CLOCK_SKEW_SECONDS = 10.0


def event_mark(kind: str, recall_event_id: str) -> dict[str, Any]:
    """Slack message metadata naming the meeting a message is about, so `find_posted` can find it again."""
    return {"event_type": kind, "event_payload": {"recall_event_id": recall_event_id}}


# Pages of a DM's history read to find one message (see `find_posted`).
MAX_LOOKUP_PAGES = 3
LOOKUP_PAGE_SIZE = 100


@dataclass(frozen=True)
class PostedMessage:
    channel: str
    ts: str


class SlackGateway:
    def __init__(
        self,
        *,
        api_url: str,
        db: Database,
        bot_token: str | None = None,
        installation_store: AsyncInstallationStore | None = None,
        pacer: SlackPacer | None = None,
    ) -> None:
        self._api_url = api_url
        self._pacer = pacer
        self._db = db
        self._bot_token = bot_token or None
        self._store = installation_store
        self._tokens: dict[str, tuple[str, float]] = {}
        self._dm_channels: dict[tuple[str, str], str] = {}
        self._dm_locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._session: aiohttp.ClientSession | None = None

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    # ---- what the app sends ------------------------------------------------------------------------------------

    async def post_dm(
        self,
        to: Requester,
        message: Message,
        *,
        channel: str | None = None,
        lane: Lane = Lane.BACKGROUND,
        metadata: dict[str, Any] | None = None,
        before_send: Callable[[str], Awaitable[None]] | None = None,
    ) -> PostedMessage:
        """A new message in the member's DM with the app (``channel``: its id, when the caller knows it).

        ``metadata`` (Slack message metadata) marks the message so that `find_posted` can find it if no answer
        comes back; such a post is never re-sent on a dropped connection (that could post it twice): the caller
        looks for it instead. ``before_send`` is awaited with the channel id just before the request leaves."""
        client = await self._client(to)
        channel = channel or await self._dm_channel(client, to, lane)
        await self._pace(to, "chat.postMessage", lane, channel)
        if before_send is not None:
            await before_send(channel)
        if metadata is not None:
            client = await self._client(to, retries=[])
            response = await client.chat_postMessage(channel=channel, metadata=metadata, **message.as_kwargs())
        else:
            response = await client.chat_postMessage(channel=channel, **message.as_kwargs())
        return PostedMessage(channel=response["channel"], ts=response["ts"])

    async def dm_channel(self, to: Requester, *, lane: Lane = Lane.BACKGROUND) -> str:
        """The id of the member's DM with the app (remembered, else opened once)."""
        return await self._dm_channel(await self._client(to), to, lane)

    async def find_posted(
        self,
        to: Requester,
        channel: str,
        *,
        metadata: dict[str, Any],
        oldest: float,
        latest: float,
        lane: Lane = Lane.BACKGROUND,
    ) -> PostedMessage | None:
        """The app's message in ``channel`` posted with ``metadata`` between the Unix times ``oldest`` and
        ``latest``, or None (looked for in at most `MAX_LOOKUP_PAGES` pages of `conversations.history`)."""
        client = await self._client(to)
        cursor: str | None = None
        for _ in range(MAX_LOOKUP_PAGES):
            await self._pace(to, "conversations.history", lane)
            response = await client.conversations_history(
                channel=channel,
                oldest=f"{oldest:.6f}",
                latest=f"{latest:.6f}",
                inclusive=True,
                limit=LOOKUP_PAGE_SIZE,
                include_all_metadata=True,
                cursor=cursor,
            )
            for found in response.get("messages") or []:
                if found.get("metadata") == metadata and found.get("ts"):
                    return PostedMessage(channel=channel, ts=str(found["ts"]))
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not response.get("has_more") or cursor is None:
                return None
        logger.warning("slack.lookup_inconclusive", extra={"team_id": to.team_id})
        return None

    async def try_post_dm(
        self, to: Requester, message: Message, *, lane: Lane = Lane.BACKGROUND
    ) -> PostedMessage | None:
        """`post_dm`, or None (logged) if Slack refuses: for messages nobody can do better than try."""
        try:
            return await self.post_dm(to, message, lane=lane)
        except SLACK_FAILURES as exc:
            logger.warning("slack.dm_failed", extra={"team_id": to.team_id, "error": slack_error_name(exc)})
            return None

    async def update(
        self, to: Requester, posted: PostedMessage, message: Message, *, lane: Lane = Lane.BACKGROUND
    ) -> None:
        """Change a message the app posted, in place (its metadata stays)."""
        client = await self._client(to)
        await self._pace(to, "chat.update", lane)
        await client.chat_update(channel=posted.channel, ts=posted.ts, **message.as_kwargs())

    async def publish_home(self, to: Requester, view: dict[str, Any], *, lane: Lane = Lane.MEMBER) -> None:
        client = await self._client(to)
        await self._pace(to, "views.publish", lane)
        await client.views_publish(user_id=to.user_id, view=view)

    async def user_info(self, who: Requester, *, lane: Lane = Lane.MEMBER) -> dict[str, Any]:
        """`users.info`: the member's profile, time zone, roles, and whether they were deactivated."""
        client = await self._client(who)
        await self._pace(who, "users.info", lane)
        response = await client.users_info(user=who.user_id)
        user = response.get("user")
        return user if isinstance(user, dict) else {}

    async def is_admin(self, who: Requester) -> bool:
        """Workspace admins and owners (`users.info` `is_admin` / `is_owner`) may set the workspace's policy."""
        user = await self.user_info(who)
        return is_admin(user)

    def forget_workspace(self, team_id: str) -> None:
        """The app was uninstalled: drop what is cached for the workspace."""
        self._tokens.pop(team_id, None)
        for key in [k for k in self._dm_channels if k[0] == team_id]:
            del self._dm_channels[key]

    # ---- plumbing ---------------------------------------------------------------------------------------------

    async def _pace(self, to: Requester, method: str, lane: Lane, channel: str | None = None) -> None:
        if self._pacer is not None:
            await self._pacer.wait(to.team_id, method, lane=lane, channel=channel)

    def _web_client(self, token: str, retries: list[Any] | None = None) -> AsyncWebClient:
        """A client on the shared connection pool (slack_sdk otherwise opens a connection per call)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return AsyncWebClient(
            token=token,
            base_url=self._api_url,
            retry_handlers=gateway_retry_handlers() if retries is None else retries,
            session=self._session,
        )

    async def _client(self, to: Requester, retries: list[Any] | None = None) -> AsyncWebClient:
        return self._web_client(await self._token(to), retries)

    async def _token(self, to: Requester) -> str:
        if self._bot_token:
            return self._bot_token
        cached = self._tokens.get(to.team_id)
        if cached is not None and time.monotonic() - cached[1] < TOKEN_CACHE_SECONDS:
            return cached[0]
        if self._store is None:
            raise WorkspaceNotInstalled(to.team_id)
        bot = await self._store.async_find_bot(enterprise_id=to.enterprise_id, team_id=to.team_id)
        if bot is None or not bot.bot_token:
            raise WorkspaceNotInstalled(to.team_id)
        self._tokens[to.team_id] = (bot.bot_token, time.monotonic())
        return bot.bot_token

    async def _dm_channel(self, client: AsyncWebClient, to: Requester, lane: Lane) -> str:
        """The member's DM channel: remembered on the member, else opened once (one call even when concurrent)."""
        key = (to.team_id, to.user_id)
        if key in self._dm_channels:
            return self._dm_channels[key]
        async with self._dm_locks.setdefault(key, asyncio.Lock()):
            if key not in self._dm_channels:  # found while we waited
                async with self._db.transaction() as session:
                    channel = await members.dm_channel(session, team_id=to.team_id, slack_user_id=to.user_id)
                if channel is None:
                    await self._pace(to, "conversations.open", lane)
                    response = await client.conversations_open(users=to.user_id)
                    channel = response["channel"]["id"]
                    async with self._db.transaction() as session:
                        await members.remember_dm_channel(
                            session, team_id=to.team_id, slack_user_id=to.user_id, channel_id=channel
                        )
                self._dm_channels[key] = channel
        self._dm_locks.pop(key, None)
        return self._dm_channels[key]
