"""The App Home tab: connection status and buttons to connect."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticSelectElement,
    TimePickerElement,
)

from slackbot.blocks.connect import USAGE, ConnectionView, status_lines
from slackbot.blocks.digests import Row, row_blocks
from slackbot.blocks.text import MAX_VIEW_BLOCKS, to_dicts
from slackbot.ids import ActionId, BlockId
from slackbot.meetings.attention import format_agenda_time
from slackbot.meetings.rules import Rule, RuleKind
from slackbot.words import connect as words
from slackbot.words import digests as digest_words
from slackbot.words import meetings as meeting_words
from slackbot.words import policy as policy_words
from slackbot.words.markup import sentence_case

DEFAULT_RULE_VALUE = "default"


@dataclass(frozen=True)
class RulesView:
    """The member's recording settings as the Home shows them."""

    own: Rule | None
    workspace: Rule | None
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class PolicyView:
    """The workspace's policy, for the admin section."""

    rule: Rule | None
    keywords: tuple[str, ...]
    domains: tuple[str, ...]
    enforce_external: bool
    bot_name: str
    bot_name_is_default: bool
    consent_enabled: bool = True


def _rule_options(*, default_label: str | None) -> list[Option]:
    options = [Option(value=DEFAULT_RULE_VALUE, text=default_label)] if default_label else []
    return options + [
        Option(value=kind.value, text=sentence_case(meeting_words.RULE_LABELS[kind])) for kind in RuleKind
    ]


def _selected(options: list[Option], value: str) -> Option:
    return next(option for option in options if option.value == value)


def rules_blocks(view: RulesView) -> list[Block]:
    """The member's rule (a select), `accepted only` (a checkbox when the rule records), keywords."""
    fallback = view.workspace or Rule(RuleKind.ASK)
    options = _rule_options(default_label=policy_words.home_default_option(fallback))
    initial = _selected(options, view.own.kind.value if view.own else DEFAULT_RULE_VALUE)
    blocks: list[Block] = [
        DividerBlock(),
        SectionBlock(
            block_id=BlockId.HOME_RULE,
            text=MarkdownTextObject(text=policy_words.HOME_RULE_TITLE),
            accessory=StaticSelectElement(action_id=ActionId.HOME_RULE, options=options, initial_option=initial),
        ),
    ]
    if view.own is not None and view.own.decides:
        accepted = Option(value="accepted", text=policy_words.HOME_ACCEPTED_ONLY)
        checkbox = CheckboxesElement(
            action_id=ActionId.HOME_RULE_ACCEPTED,
            options=[accepted],
            initial_options=[accepted] if view.own.accepted_only else None,
        )
        blocks.append(ActionsBlock(block_id=BlockId.HOME_RULE_ACCEPTED, elements=[checkbox]))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=policy_words.home_keywords(view.keywords))]))
    return blocks


def admin_blocks(view: PolicyView) -> list[Block]:
    """The workspace's policy, for admins only: the default rule and enforcement as selects, the rest listed."""
    options = _rule_options(default_label=None)
    initial = _selected(options, view.rule.kind.value if view.rule else RuleKind.ASK.value)
    enforce = [
        Option(value="external", text=policy_words.HOME_ENFORCE_ON),
        Option(value="none", text=policy_words.HOME_ENFORCE_OFF),
    ]
    return [
        DividerBlock(),
        HeaderBlock(text=policy_words.HOME_ADMIN_HEADER),
        SectionBlock(
            block_id=BlockId.HOME_ADMIN_RULE,
            text=MarkdownTextObject(text=policy_words.HOME_ADMIN_RULE_TITLE),
            accessory=StaticSelectElement(action_id=ActionId.HOME_ADMIN_RULE, options=options, initial_option=initial),
        ),
        SectionBlock(
            block_id=BlockId.HOME_ADMIN_ENFORCE,
            text=MarkdownTextObject(text=policy_words.HOME_ADMIN_ENFORCE_TITLE),
            accessory=StaticSelectElement(
                action_id=ActionId.HOME_ADMIN_ENFORCE,
                options=enforce,
                initial_option=enforce[0] if view.enforce_external else enforce[1],
            ),
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=policy_words.home_admin_details(
                        keywords=view.keywords,
                        domains=view.domains,
                        bot_name=view.bot_name,
                        bot_name_is_default=view.bot_name_is_default,
                        consent_enabled=view.consent_enabled,
                    )
                )
            ]
        ),
    ]


@dataclass(frozen=True)
class AttentionView:
    """What the member hears: per-meeting DMs, the daily agenda, reminders."""

    notify: str
    agenda_minute: int | None
    remind: bool


MAX_HOME_ROWS = 30
AGENDA_OPTION = "agenda"
REMIND_OPTION = "remind"


def attention_blocks(view: AttentionView) -> list[Block]:
    options = [Option(value=mode, text=sentence_case(label)[:75]) for mode, label in digest_words.NOTIFY_LABELS.items()]
    toggles = [
        Option(value=AGENDA_OPTION, text=digest_words.HOME_AGENDA_TOGGLE),
        Option(value=REMIND_OPTION, text=digest_words.HOME_REMIND_TOGGLE),
    ]
    on = [t for t in toggles if (t.value == AGENDA_OPTION and view.agenda_minute is not None)]
    on += [t for t in toggles if (t.value == REMIND_OPTION and view.remind)]
    blocks: list[Block] = [
        SectionBlock(
            block_id=BlockId.HOME_NOTIFY,
            text=MarkdownTextObject(text=digest_words.HOME_NOTIFY_TITLE),
            accessory=StaticSelectElement(
                action_id=ActionId.HOME_NOTIFY,
                options=options,
                initial_option=_selected(options, view.notify if view.notify in digest_words.NOTIFY_LABELS else "each"),
            ),
        ),
        ActionsBlock(
            block_id=BlockId.HOME_ATTENTION,
            elements=[
                CheckboxesElement(action_id=ActionId.HOME_ATTENTION, options=toggles, initial_options=on or None),
                *(
                    [
                        TimePickerElement(
                            action_id=ActionId.HOME_AGENDA_TIME,
                            initial_time=format_agenda_time(view.agenda_minute),
                            placeholder=digest_words.HOME_AGENDA_TIME,
                        )
                    ]
                    if view.agenda_minute is not None
                    else []
                ),
            ],
        ),
    ]
    return blocks


def upcoming_blocks(days: Sequence[tuple[date, Sequence[Row]]]) -> list[Block]:
    """The next days' meetings, grouped by the member's local day, each with its state, reason and buttons."""
    blocks: list[Block] = [DividerBlock(), HeaderBlock(text=digest_words.HOME_UPCOMING)]
    shown = 0
    total = sum(len(rows) for _, rows in days)
    if not total:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=digest_words.HOME_NOTHING_UPCOMING)]))
        return blocks
    for day, rows in days:
        if not rows or shown >= MAX_HOME_ROWS:
            continue
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*{digest_words.day_heading(day)}*")))
        for row in rows:
            if shown >= MAX_HOME_ROWS:
                break
            blocks.extend(row_blocks(row))
            shown += 1
    if total > shown:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=digest_words.home_more(total - shown))]))
    return blocks


def home_view(
    *,
    connections: Sequence[ConnectionView],
    available: Sequence[tuple[str, str]],
    connected_providers: set[str],
    rules: RulesView | None = None,
    admin: PolicyView | None = None,
    notice: str | None = None,
    attention: AttentionView | None = None,
    upcoming: Sequence[tuple[date, Sequence[Row]]] | None = None,
) -> dict[str, Any]:
    """``available`` is (provider, label) for each enabled provider; ``notice`` is what the member's last change
    did; ``admin`` only for workspace admins."""
    blocks: list[Block] = [HeaderBlock(text=words.HOME_HEADER)]
    if notice:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=notice)))
    if connections:
        text = words.YOUR_CALENDARS + "\n" + "\n".join(status_lines(connections))
        blocks.append(SectionBlock(text=MarkdownTextObject(text=text)))
    else:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=words.HOME_INTRO)))
    buttons = [
        ButtonElement(
            text=words.connect_button(label, reconnect=provider in connected_providers),
            action_id=f"{ActionId.HOME_CONNECT}:{provider}",
            value=provider,
        )
        for provider, label in available
    ]
    if buttons:
        blocks.append(ActionsBlock(block_id=BlockId.HOME_CONNECTIONS, elements=buttons))
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=words.HOME_LINK_NOTE)]))
    else:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=words.NO_PROVIDERS)]))
    if rules is not None:
        blocks.extend(rules_blocks(rules))
    if attention is not None:
        blocks.extend(attention_blocks(attention))
    if upcoming is not None:
        blocks.extend(upcoming_blocks(upcoming))
    if admin is not None:
        blocks.extend(admin_blocks(admin))
    blocks.extend([DividerBlock(), SectionBlock(text=MarkdownTextObject(text=USAGE))])
    return {"type": "home", "blocks": to_dicts(blocks, limit=MAX_VIEW_BLOCKS)}
