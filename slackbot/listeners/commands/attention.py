"""`/recall notify`, `/recall agenda`, `/recall remind`: what a member hears, and when."""

from __future__ import annotations

from slack_bolt.context.respond.async_respond import AsyncRespond

from slackbot.blocks import connect as blocks
from slackbot.meetings.attention import Notify, parse_agenda_time
from slackbot.registry import Services
from slackbot.requester import Requester
from slackbot.words import digests as words


class AttentionCommands:
    def __init__(self, services: Services) -> None:
        self._services = services

    async def _reply(self, respond: AsyncRespond, text: str) -> None:
        await respond(**blocks.plain(text).as_kwargs())

    async def notify(self, respond: AsyncRespond, requester: Requester, args: list[str]) -> None:
        service = self._services.attention
        if not args:
            await self._reply(respond, words.notify_setting((await service.settings(requester)).notify.value))
            return
        mode = args[0].lower()
        if len(args) != 1 or mode not in Notify._value2member_map_:
            await self._reply(respond, words.NOTIFY_BAD)
            return
        await service.change(requester, notify=Notify(mode))
        await self._reply(respond, words.notify_set(mode))

    async def agenda(self, respond: AsyncRespond, requester: Requester, args: list[str]) -> None:
        service = self._services.attention
        if not args:
            await self._reply(respond, words.agenda_setting((await service.settings(requester)).agenda_minute))
            return
        if len(args) == 1 and args[0].lower() == "off":
            minute = None
        else:
            minute = parse_agenda_time(args[0]) if len(args) == 1 else None
            if minute is None:
                await self._reply(respond, words.AGENDA_BAD_TIME)
                return
        await service.change(requester, agenda_minute=minute)
        await self._reply(respond, words.agenda_set(minute))

    async def remind(self, respond: AsyncRespond, requester: Requester, args: list[str]) -> None:
        service = self._services.attention
        if not args:
            await self._reply(respond, words.remind_setting((await service.settings(requester)).remind))
            return
        word = args[0].lower()
        if len(args) != 1 or word not in ("on", "off"):
            await self._reply(respond, words.REMIND_BAD)
            return
        await service.change(requester, remind=word == "on")
        await self._reply(respond, words.remind_set(word == "on"))
