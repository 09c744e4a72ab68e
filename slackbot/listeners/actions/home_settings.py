"""The App Home's settings: the member's rule and `accepted only`; for admins, the default rule and enforcement.
Each change is answered on the Home itself (what it did), then acted on."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck

from slackbot.blocks.home import DEFAULT_RULE_VALUE
from slackbot.meetings.rules import Rule, RuleKind
from slackbot.registry import Services
from slackbot.requester import Requester
from slackbot.services.policy import Change
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
