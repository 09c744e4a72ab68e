"""The App Home's settings: the member's rule and `accepted only`; for admins, the default rule and enforcement.
Each change is answered on the Home itself (what it did), then acted on."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck

from slackbot.blocks.home import AGENDA_OPTION, DEFAULT_RULE_VALUE, REMIND_OPTION
from slackbot.meetings.attention import DEFAULT_AGENDA_MINUTE, Notify, parse_agenda_time
from slackbot.meetings.rules import Rule, RuleKind
from slackbot.registry import Services
from slackbot.requester import Requester
from slackbot.services.policy import Change
from slackbot.words import digests as digest_words
from slackbot.words import policy as words


def _action(body: dict[str, Any]) -> dict[str, Any]:
    action = (body.get("actions") or [{}])[0]
    return action if isinstance(action, dict) else {}


def _selected_value(body: dict[str, Any]) -> str:
    selected = _action(body).get("selected_option") or {}
    return str(selected.get("value") or "")


class HomeSettings:
    def __init__(self, services: Services) -> None:
        self._services = services

    async def _after(self, requester: Requester, change: Change, text: str) -> None:
        await self._services.home.publish(requester, notice=text)
        await self._services.policy.act_on(change)

    async def rule_selected(self, ack: AsyncAck, body: dict[str, Any], requester: Requester) -> None:
        await ack()
        value = _selected_value(body)
        current = (await self._services.policy.member_settings(requester)).rule
        if value == DEFAULT_RULE_VALUE:
            rule: Rule | None = None
        elif value in RuleKind._value2member_map_:
            kind = RuleKind(value)
            rule = Rule(kind, bool(current and current.accepted_only) and kind is not RuleKind.ASK)
        else:
            return  # a tampered value: nothing changes
        change = await self._services.policy.set_rule(requester, rule)
        summary = words.change_summary(change.now_recorded, change.no_longer)
        await self._after(requester, change, words.home_rule_changed(rule, summary))

    async def accepted_toggled(self, ack: AsyncAck, body: dict[str, Any], requester: Requester) -> None:
        await ack()
        current = (await self._services.policy.member_settings(requester)).rule
        if current is None or not current.decides:
            return  # the checkbox only shows with a rule that records
        checked = any(o.get("value") == "accepted" for o in _action(body).get("selected_options") or [])
        rule = Rule(current.kind, checked)
        change = await self._services.policy.set_rule(requester, rule)
        summary = words.change_summary(change.now_recorded, change.no_longer)
        await self._after(requester, change, words.home_rule_changed(rule, summary))

    async def admin_rule_selected(self, ack: AsyncAck, body: dict[str, Any], requester: Requester) -> None:
        await ack()
        value = _selected_value(body)
        if value not in RuleKind._value2member_map_:
            return
        if not await self._services.gateway.is_admin(requester):
            await self._services.home.publish(requester, notice=words.ADMIN_ONLY)
            return
        current = (await self._services.policy.workspace_settings(requester.team_id)).rule
        kind = RuleKind(value)
        rule = Rule(kind, bool(current and current.accepted_only) and kind is not RuleKind.ASK)
        change = await self._services.policy.set_workspace_rule(requester.team_id, rule)
        summary = words.change_summary(change.now_recorded, change.no_longer)
        await self._after(requester, change, words.workspace_rule_set(rule, summary))

    async def admin_enforce_selected(self, ack: AsyncAck, body: dict[str, Any], requester: Requester) -> None:
        await ack()
        value = _selected_value(body)
        if value not in ("external", "none"):
            return
        if not await self._services.gateway.is_admin(requester):
            await self._services.home.publish(requester, notice=words.ADMIN_ONLY)
            return
        change = await self._services.policy.set_enforcement(requester.team_id, external=value == "external")
        summary = words.change_summary(change.now_recorded, change.no_longer)
        await self._after(requester, change, words.enforcement_set(value == "external", summary))

    # ---- what the member hears --------------------------------------------------------------------------------

    async def notify_selected(self, ack: AsyncAck, body: dict[str, Any], requester: Requester) -> None:
        await ack()
        value = _selected_value(body)
        if value not in Notify._value2member_map_:
            return
        await self._services.attention.change(requester, notify=Notify(value))
        await self._services.home.publish(requester, notice=digest_words.notify_set(value))

    async def attention_toggled(self, ack: AsyncAck, body: dict[str, Any], requester: Requester) -> None:
        """The checkboxes: daily agenda on / off, reminders on / off."""
        await ack()
        ticked = {o.get("value") for o in _action(body).get("selected_options") or [] if isinstance(o, dict)}
        current = await self._services.attention.settings(requester)
        agenda_on = AGENDA_OPTION in ticked
        if agenda_on and current.agenda_minute is not None:
            minute = current.agenda_minute
        else:
            minute = DEFAULT_AGENDA_MINUTE if agenda_on else None
        remind = REMIND_OPTION in ticked
        await self._services.attention.change(requester, agenda_minute=minute, remind=remind)
        if (minute is None) != (current.agenda_minute is None):
            notice = digest_words.agenda_set(minute)
        else:
            notice = digest_words.remind_set(remind)
        await self._services.home.publish(requester, notice=notice)

    async def agenda_time_picked(self, ack: AsyncAck, body: dict[str, Any], requester: Requester) -> None:
        await ack()
        minute = parse_agenda_time(str(_action(body).get("selected_time") or ""))
        if minute is None:
            return  # a tampered value: nothing changes
        await self._services.attention.change(requester, agenda_minute=minute)
        await self._services.home.publish(requester, notice=digest_words.agenda_set(minute))
