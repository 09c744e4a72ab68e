"""`/recall connect | status | disconnect | help`."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from slackbot.blocks import connect as blocks
from slackbot.calendar_oauth.providers import PROVIDER_ALIASES
from slackbot.ids import Subcommand
from slackbot.listeners.commands.attention import AttentionCommands
from slackbot.listeners.commands.policy import PolicyCommands
from slackbot.registry import Services
from slackbot.requester import Requester
from slackbot.slack.gateway import SLACK_FAILURES, slack_error_name
from slackbot.words import commands as words
from slackbot.words import provider_label
from slackbot.words.markup import clip, escape

logger = logging.getLogger(__name__)


def parse(text: str | None) -> tuple[str, list[str]]:
    """Subcommand and its arguments, lower-cased, tolerant of extra spaces."""
    parts = (text or "").lower().split()
    return (parts[0], parts[1:]) if parts else ("", [])


def after_first_word(text: str | None) -> str:
    """Everything after the subcommand, as typed (keywords and names keep their case)."""
    parts = (text or "").strip().split(None, 1)
    return parts[1] if len(parts) > 1 else ""


def provider_arg(args: list[str]) -> tuple[str | None, str | None]:
    """(provider name, error text) for an optional provider argument."""
    if not args:
        return None, None
    if len(args) > 1:
        return None, words.NAME_ONE_CALENDAR
    name = PROVIDER_ALIASES.get(args[0])
    if name is None:
        return None, words.unknown_calendar(clip(args[0]))
    return name, None


class RecallCommand:
    def __init__(self, services: Services) -> None:
        self._services = services
        self._policy = PolicyCommands(services)
        self._attention = AttentionCommands(services)

    async def handle(self, ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, requester: Requester) -> None:
        sub, args = parse(command.get("text"))
        if sub == Subcommand.CONNECT:
            await self._services.policy.remember_app_id(requester.team_id, command.get("api_app_id"))
            await self._connect(ack, respond, requester, args)
        elif sub == Subcommand.STATUS:
            await ack()
            await self._status(respond, requester)
        elif sub == Subcommand.DISCONNECT:
            await ack()
            await self._disconnect(respond, requester, args)
        elif sub == Subcommand.RULE:
            await ack()
            await self._policy.rule(respond, requester, args)
        elif sub == Subcommand.EXCLUDE:
            await ack()
            rest = after_first_word(command.get("text"))
            await self._policy.exclude(respond, requester, rest.split(), rest)
        elif sub == Subcommand.NOTIFY:
            await ack()
            await self._attention.notify(respond, requester, args)
        elif sub == Subcommand.AGENDA:
            await ack()
            await self._attention.agenda(respond, requester, args)
        elif sub == Subcommand.REMIND:
            await ack()
            await self._attention.remind(respond, requester, args)
        elif sub == Subcommand.ADMIN:
            await ack()
            rest = after_first_word(command.get("text"))
            await self._policy.admin(respond, requester, rest.split(), rest)
        elif sub in (Subcommand.HELP, ""):
            await ack(**blocks.usage().as_kwargs())
        else:
            await ack(**blocks.usage(words.unknown_subcommand(clip(sub))).as_kwargs())

    async def _connect(self, ack: AsyncAck, respond: AsyncRespond, requester: Requester, args: list[str]) -> None:
        enabled = list(self._services.connect.providers)
        name, error = provider_arg(args)
        if error:
            await ack(**blocks.usage(error).as_kwargs())
            return
        if not enabled:
            await ack(**blocks.plain(words.NO_PROVIDER_SET_UP).as_kwargs())
            return
        if name is not None and name not in enabled:
            await ack(**blocks.plain(words.provider_not_available(name, enabled)).as_kwargs())
            return
        chosen = [name] if name else enabled
        await ack(**blocks.plain(words.link_sent(chosen)).as_kwargs())
        try:
            await self._services.connect.send_links(requester=requester, providers=chosen)
        except SLACK_FAILURES as exc:
            logger.warning("command.connect.dm_failed", extra={"error": slack_error_name(exc)})
            await respond(**blocks.plain(words.DM_FAILED).as_kwargs())

    async def _status(self, respond: AsyncRespond, requester: Requester) -> None:
        infos = await self._services.connections.list(team_id=requester.team_id, user_id=requester.user_id)
        views = [blocks.ConnectionView(provider_label(i.provider), i.email, i.status) for i in infos]
        enabled = [provider_label(p) for p in self._services.connect.providers]
        await respond(**blocks.status(views, enabled_labels=enabled).as_kwargs())

    async def _disconnect(self, respond: AsyncRespond, requester: Requester, args: list[str]) -> None:
        name, error = provider_arg(args)
        if error:
            await respond(**blocks.usage(error).as_kwargs())
            return
        result = await self._services.connections.disconnect(
            team_id=requester.team_id, user_id=requester.user_id, provider=name
        )
        if not result.removed and not result.failed:
            await respond(**blocks.plain(words.nothing_to_disconnect(name)).as_kwargs())
            return
        parts = []
        if result.removed:
            parts.append(
                words.disconnected(
                    [words.calendar_line(provider=r.provider, email=escape(r.email)) for r in result.removed]
                )
            )
        if result.failed:
            lines = [words.calendar_line(provider=r.provider, email=escape(r.email)) for r in result.failed]
            parts.append(words.not_disconnected(lines, some_removed=bool(result.removed)))
        await respond(**blocks.plain("\n\n".join(parts)).as_kwargs())
