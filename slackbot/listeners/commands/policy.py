"""`/recall rule`, `/recall exclude` and `/recall admin ...`: parse, refuse bad input with words (nothing
changed), call the policy service, answer with what changed, then act on the meetings it touches."""

from __future__ import annotations

from slack_bolt.context.respond.async_respond import AsyncRespond

from slackbot.blocks import connect as blocks
from slackbot.meetings.rules import (
    ACCEPTED_WORD,
    RULE_WORDS,
    InputProblem,
    Rule,
    RuleKind,
    clean_domain,
    clean_keyword,
    has_control_characters,
)
from slackbot.registry import Services
from slackbot.requester import Requester
from slackbot.services.bot_config import consent_notice
from slackbot.services.policy import Change, TooMany
from slackbot.words import policy as words
from slackbot.words.markup import unescape

BOT_NAME_MARKUP = frozenset("<>&*_~`|")
# How `/recall admin` shows `{member}` in the consent notice (each bot names the member it was scheduled for).
CONSENT_EXAMPLE_MEMBER = "ada@example.com"


def parse_rule(args: list[str]) -> tuple[Rule | None, str | None]:
    """`external accepted` → Rule(EXTERNAL, accepted_only=True); or the words for what is wrong."""
    words_ = [a.lower() for a in args]
    if not words_ or len(words_) > 2:
        return None, words.unknown_rule(" ".join(args))
    kind = RULE_WORDS.get(words_[0])
    if kind is None:
        return None, words.unknown_rule(args[0])
    accepted = False
    if len(words_) == 2:
        if words_[1] != ACCEPTED_WORD:
            return None, words.unknown_rule(" ".join(args))
        if kind is RuleKind.ASK:
            return None, words.ACCEPTED_WITH_ASK
        accepted = True
    return Rule(kind, accepted), None


def clean_bot_name(raw: str) -> tuple[str | None, str | None]:
    name = " ".join(raw.split())
    if not name:
        return None, words.BOT_NAME_EMPTY
    if len(name) > words.MAX_BOT_NAME:
        return None, words.BOT_NAME_TOO_LONG
    if any(ch in BOT_NAME_MARKUP for ch in name) or has_control_characters(name):
        return None, words.BOT_NAME_MARKUP
    return name, None


class PolicyCommands:
    def __init__(self, services: Services) -> None:
        self._services = services

    async def _reply(self, respond: AsyncRespond, text: str) -> None:
        await respond(**blocks.plain(text).as_kwargs())

    async def _done(self, respond: AsyncRespond, text: str, change: Change) -> None:
        """Answer first, then bring the touched meetings in line (their messages change in place)."""
        await self._reply(respond, text)
        await self._services.policy.act_on(change)

    # ---- /recall rule -----------------------------------------------------------------------------------------

    async def rule(self, respond: AsyncRespond, requester: Requester, args: list[str]) -> None:
        policy = self._services.policy
        if not args:
            settings = await policy.member_settings(requester)
            await self._reply(respond, words.current_rule(settings.rule, settings.workspace_rule))
            return
        rule, error = parse_rule(args)
        if rule is None:
            await self._reply(respond, error or words.unknown_rule(" ".join(args)))
            return
        change = await policy.set_rule(requester, rule)
        await self._done(
            respond, words.rule_set(rule, words.change_summary(change.now_recorded, change.no_longer)), change
        )

    # ---- /recall exclude --------------------------------------------------------------------------------------

    async def exclude(self, respond: AsyncRespond, requester: Requester, args: list[str], rest: str) -> None:
        policy = self._services.policy
        if not args:
            settings = await policy.member_settings(requester)
            await self._reply(respond, f"{words.keywords_list(settings.keywords)}\n\n{words.EXCLUDE_USAGE}")
            return
        verb = args[0].lower()
        if verb not in ("add", "remove"):
            await self._reply(respond, words.unknown_exclude(args[0]))
            return
        keyword, problem = clean_keyword(rest.split(None, 1)[1] if len(rest.split(None, 1)) > 1 else "")
        if keyword is None:
            await self._reply(respond, words.problem(problem or InputProblem.EMPTY, what=verb))
            return
        try:
            if verb == "add":
                changed, change = await policy.add_keywords(requester, [keyword])
            else:
                changed, change = await policy.remove_keywords(requester, [keyword])
        except TooMany as full:
            await self._reply(respond, words.problem(InputProblem.TOO_MANY, limit=full.limit))
            return
        summary = words.change_summary(change.now_recorded, change.no_longer)
        if not changed:
            text = words.keyword_already(keyword) if verb == "add" else words.keyword_missing(keyword)
        elif verb == "add":
            text = words.keyword_added(changed[0], summary)
        else:
            text = words.keyword_removed(changed[0], summary)
        await self._done(respond, text, change)

    # ---- /recall admin ----------------------------------------------------------------------------------------

    async def admin(self, respond: AsyncRespond, requester: Requester, args: list[str], rest: str) -> None:
        if not await self._services.gateway.is_admin(requester):
            await self._reply(respond, words.ADMIN_ONLY)
            return
        team = requester.team_id
        policy = self._services.policy
        sub = args[0].lower() if args else ""
        after = rest.split(None, 1)[1] if len(rest.split(None, 1)) > 1 else ""
        if sub == "":
            settings = await policy.workspace_settings(team)
            default_name = self._services.settings.bot_name
            await self._reply(
                respond,
                words.workspace_policy(
                    rule=settings.rule,
                    keywords=settings.keywords,
                    domains=settings.domains,
                    enforce_external=settings.enforce_external,
                    bot_name=settings.bot_name or default_name,
                    bot_name_is_default=settings.bot_name is None,
                    consent=words.consent_state(
                        enabled=settings.consent_enabled,
                        text=settings.consent_text,
                        example=self._consent_example(settings.consent_text, settings.bot_name),
                    ),
                ),
            )
        elif sub == "rule":
            rule, error = parse_rule(args[1:])
            if rule is None:
                await self._reply(respond, error or words.ADMIN_USAGE)
                return
            change = await policy.set_workspace_rule(team, rule)
            summary = words.change_summary(change.now_recorded, change.no_longer)
            await self._done(respond, words.workspace_rule_set(rule, summary), change)
        elif sub == "enforce":
            choice = args[1].lower() if len(args) == 2 else ""
            if choice not in ("external", "none"):
                await self._reply(respond, words.ENFORCE_USAGE)
                return
            change = await policy.set_enforcement(team, external=choice == "external")
            summary = words.change_summary(change.now_recorded, change.no_longer)
            await self._done(respond, words.enforcement_set(choice == "external", summary), change)
        elif sub in ("exclude", "domain"):
            await self._admin_list(respond, team, sub, args[1:], after)
        elif sub == "bot-name":
            await self._bot_name(respond, team, after)
        elif sub == "consent":
            await self._consent(respond, team, after)
        else:
            await self._reply(respond, words.unknown_admin(args[0]))

    async def _admin_list(self, respond: AsyncRespond, team: str, sub: str, args: list[str], rest: str) -> None:
        verb = args[0].lower() if args else ""
        if verb not in ("add", "remove"):
            await self._reply(respond, words.admin_list_usage(sub))
            return
        raw = rest.split(None, 1)[1] if len(rest.split(None, 1)) > 1 else ""
        if sub == "exclude":
            value, problem = clean_keyword(raw)
            field = "excluded_keywords"
        else:
            value, problem = clean_domain(raw)
            field = "domains"
        if value is None:
            what = verb if sub == "exclude" else "add as a domain"
            await self._reply(respond, words.problem(problem or InputProblem.EMPTY, value=raw, what=what))
            return
        try:
            changed, change = await self._services.policy.change_workspace_list(
                team, field=field, add=[value] if verb == "add" else None, remove=[value] if verb == "remove" else None
            )
        except TooMany as full:
            await self._reply(respond, words.problem(InputProblem.TOO_MANY, limit=full.limit))
            return
        summary = words.change_summary(change.now_recorded, change.no_longer)
        if not changed:
            if sub == "exclude":
                text = words.keyword_already(value) if verb == "add" else words.keyword_missing(value)
            else:
                text = words.domain_already(value) if verb == "add" else words.domain_missing(value)
        elif sub == "exclude":
            text = (words.workspace_keyword_added if verb == "add" else words.workspace_keyword_removed)(
                changed[0], summary
            )
        else:
            text = (words.domain_added if verb == "add" else words.domain_removed)(changed[0], summary)
        await self._done(respond, text, change)

    async def _bot_name(self, respond: AsyncRespond, team: str, raw: str) -> None:
        default = self._services.settings.bot_name
        if raw.strip().lower() == "reset":
            await self._services.policy.set_bot_name(team, None)
            await self._reply(respond, words.bot_name_set(default, default=True))
            return
        name, error = clean_bot_name(raw)
        if name is None:
            await self._reply(respond, error or words.BOT_NAME_EMPTY)
            return
        await self._services.policy.set_bot_name(team, name)
        await self._reply(respond, words.bot_name_set(name, default=False))

    def _consent_example(self, text: str | None, bot_name: str | None) -> str:
        name = bot_name or self._services.settings.bot_name
        return consent_notice(text, bot_name=name, member=CONSENT_EXAMPLE_MEMBER)

    async def _consent(self, respond: AsyncRespond, team: str, raw: str) -> None:
        """`on`, `off`, `reset` (the default wording, on) or the admin's own text (on)."""
        policy = self._services.policy
        choice = unescape(raw).strip()  # the notice goes to the meeting chat as typed, not as Slack escaped it
        current = await policy.workspace_settings(team)
        if choice.lower() in ("on", "off"):
            enabled = choice.lower() == "on"
            await policy.set_consent(team, enabled=enabled)
            example = self._consent_example(current.consent_text, current.bot_name)
            await self._reply(respond, words.consent_set(enabled=enabled, example=example))
            return
        if choice.lower() == "reset":
            await policy.set_consent(team, enabled=True, text=None, keep_text=False)
            example = self._consent_example(None, current.bot_name)
            await self._reply(respond, words.consent_set(enabled=True, example=example))
            return
        if not choice or len(choice) > words.MAX_CONSENT_TEXT or has_control_characters(choice):
            await self._reply(respond, words.CONSENT_USAGE)
            return
        await policy.set_consent(team, enabled=True, text=choice, keep_text=False)
        await self._reply(
            respond, words.consent_set(enabled=True, example=self._consent_example(choice, current.bot_name))
        )
