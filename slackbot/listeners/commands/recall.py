"""`/recall connect | status | disconnect | help`."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from slackbot.blocks import connect as blocks
from slackbot.blocks.text import escape, truncate
from slackbot.calendar_oauth.flow import Requester
from slackbot.calendar_oauth.providers import PROVIDER_ALIASES
from slackbot.services.connect_links import send_connect_links
from slackbot.services.registry import Services
from slackbot.words import provider_label

logger = logging.getLogger(__name__)


def parse(text: str | None) -> tuple[str, list[str]]:
    """Subcommand and its arguments, lower-cased, tolerant of extra spaces."""
    words = (text or "").lower().split()
    return (words[0], words[1:]) if words else ("", [])


class RecallCommand:
    def __init__(self, services: Services) -> None:
        self._services = services

    async def handle(
        self,
        ack: AsyncAck,
        command: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        sub, args = parse(command.get("text"))
        requester = Requester(
            team_id=context.team_id or command["team_id"],
            user_id=context.user_id or command["user_id"],
            enterprise_id=context.enterprise_id,
        )
        if sub == "connect":
            await self._connect(ack, respond, client, requester, args)
        elif sub == "status":
            await ack()
            await self._status(respond, requester)
        elif sub == "disconnect":
            await ack()
            await self._disconnect(respond, requester, args)
        elif sub in ("help", ""):
            await ack(**blocks.usage().as_kwargs())
        else:
            await ack(**blocks.usage(f"I don't know `/recall {_clip(sub)}`.").as_kwargs())

    def _provider_arg(self, args: list[str]) -> tuple[str | None, str | None]:
        """(provider name, error text) for an optional provider argument."""
        if not args:
            return None, None
        if len(args) > 1:
            return None, "Name one calendar: `google` or `outlook`."
        name = PROVIDER_ALIASES.get(args[0])
        if name is None:
            return None, f"I don't know the calendar “{_clip(args[0])}”. Use `google` or `outlook`."
        return name, None

    async def _connect(
        self, ack: AsyncAck, respond: AsyncRespond, client: AsyncWebClient, requester: Requester, args: list[str]
    ) -> None:
        enabled = list(self._services.flow.providers)
        name, error = self._provider_arg(args)
        if error:
            await ack(**blocks.usage(error).as_kwargs())
            return
        if not enabled:
            await ack(
                **blocks.plain(
                    "No calendar provider is set up for this app yet. Ask the person who runs it to add Google "
                    "or Microsoft OAuth credentials."
                ).as_kwargs()
            )
            return
        if name is not None and name not in enabled:
            available = " or ".join(f"`/recall connect {_command_word(p)}`" for p in enabled)
            await ack(
                **blocks.plain(
                    f"{provider_label(name)} isn't available in this workspace. Try {available}."
                ).as_kwargs()
            )
            return
        chosen = [name] if name else enabled
        labels = " or ".join(provider_label(p) for p in chosen)
        await ack(
            **blocks.plain(
                f":envelope_with_arrow: I've sent you a DM with a link to connect {labels}. "
                "It works once and expires in 10 minutes."
            ).as_kwargs()
        )
        try:
            await send_connect_links(
                flow=self._services.flow,
                gateway=self._services.gateway,
                requester=requester,
                providers=chosen,
                client=client,
            )
        except SlackApiError as exc:
            logger.warning("command.connect.dm_failed", extra={"error": exc.response.get("error")})
            await respond(
                **blocks.plain(
                    "I couldn't send you a DM just now, so no link was sent. Please try `/recall connect` again "
                    "in a minute."
                ).as_kwargs()
            )

    async def _status(self, respond: AsyncRespond, requester: Requester) -> None:
        infos = await self._services.connections.list(team_id=requester.team_id, user_id=requester.user_id)
        views = [blocks.ConnectionView(provider_label(i.provider), i.email, i.status) for i in infos]
        enabled = [provider_label(p) for p in self._services.flow.providers]
        await respond(**blocks.status(views, enabled_labels=enabled).as_kwargs())

    async def _disconnect(self, respond: AsyncRespond, requester: Requester, args: list[str]) -> None:
        name, error = self._provider_arg(args)
        if error:
            await respond(**blocks.usage(error).as_kwargs())
            return
        result = await self._services.connections.disconnect(
            team_id=requester.team_id, user_id=requester.user_id, provider=name
        )
        if not result.removed and not result.failed:
            what = provider_label(name) if name else "calendar"
            await respond(
                **blocks.plain(f"You have no {what} connected, so there's nothing to disconnect.").as_kwargs()
            )
            return
        parts = []
        if result.removed:
            lines = "\n".join(f"• {provider_label(r.provider)} ({escape(r.email)})" for r in result.removed)
            parts.append(
                f":wave: Disconnected:\n{lines}\nRecall deleted the calendar and any bots it had scheduled, "
                "and I deleted your stored access. Type `/recall connect` to connect again."
            )
        if result.failed:
            lines = "\n".join(f"• {provider_label(r.provider)} ({escape(r.email)})" for r in result.failed)
            nothing = "nothing was disconnected" if not result.removed else "these are still connected"
            parts.append(
                f":warning: Recall didn't answer, so {nothing}:\n{lines}\nPlease try `/recall disconnect` "
                "again in a few minutes."
            )
        await respond(**blocks.plain("\n\n".join(parts)).as_kwargs())


def _command_word(provider: str) -> str:
    return "outlook" if provider == "microsoft" else provider


def _clip(text: str, limit: int = 40) -> str:
    return escape(truncate(text, limit)).replace("`", "'")
