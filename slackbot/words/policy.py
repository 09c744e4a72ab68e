"""Rules, keywords, series and the workspace's policy: what `/recall rule | exclude | admin` and the App Home say."""

from __future__ import annotations

from collections.abc import Sequence

from slackbot.meetings.rules import MAX_DOMAIN, MAX_KEYWORD, InputProblem, Rule, RuleKind
from slackbot.words.markup import clip, escape, sentence_case
from slackbot.words.meetings import RULE_LABELS, rule_label

MAX_BOT_NAME = 100
MAX_CONSENT_TEXT = 400

RULE_CHOICES = (
    "• `ask` — nothing is recorded unless you click *Schedule bot* (the default)\n"
    "• `all` — every meeting with a video link\n"
    "• `organised` (or `mine`) — meetings you organise\n"
    "• `external` — meetings with at least one person from outside your company\n"
    "• `internal` — meetings where everyone is from your company\n"
    "Add `accepted` to leave out meetings you haven't accepted, e.g. `/recall rule external accepted`. "
    "Declined meetings are never recorded, and your clicks on a meeting always win."
)

ADMIN_ONLY = (
    ":lock: Only workspace admins and owners can change the workspace's policy, so nothing was changed. "
    "`/recall rule` sets your own rule."
)
ADMIN_USAGE = (
    "*Workspace policy commands (admins)*\n"
    "• `/recall admin` — show the policy\n"
    "• `/recall admin rule <ask|all|organised|external|internal> [accepted]` — the default rule for members who "
    "haven't chosen their own\n"
    "• `/recall admin exclude add|remove <word or phrase>` — never record meetings whose title contains it\n"
    "• `/recall admin domain add|remove <domain>` — more company domains for `internal` / `external`\n"
    "• `/recall admin enforce <external|none>` — record every meeting with outside attendees, for everyone\n"
    f"• `/recall admin bot-name <name>` — the name the bot joins with (1 to {MAX_BOT_NAME} characters; "
    "`reset` for the default)\n"
    "• `/recall admin consent on|off|reset|<text>` — the notice the bot posts in the meeting's chat when it joins "
    f"(on by default; `{{bot}}` and `{{member}}` in your text are filled in; at most {MAX_CONSENT_TEXT} characters)"
)
EXCLUDE_USAGE = (
    "• `/recall exclude` — list your excluded keywords\n"
    "• `/recall exclude add <word or phrase>` — never record meetings whose title contains it (whole words, any "
    "case); you can still schedule one by hand\n"
    "• `/recall exclude remove <word or phrase>`"
)

PROBLEMS = {
    InputProblem.EMPTY: "There's nothing to {what} there.",
    InputProblem.TOO_LONG: "That's too long: at most {limit} characters.",
    InputProblem.MARKUP: "That contains `<`, `>` or control characters, which can't be used here.",
    InputProblem.TOO_MANY: "That list is full ({limit} at most): remove one first.",
    InputProblem.NOT_A_DOMAIN: "“{value}” isn't a domain: use a name like `acme.com`.",
    InputProblem.FREEMAIL: "“{value}” is a free-mail provider: sharing it doesn't make people colleagues.",
}


def problem(kind: InputProblem, *, value: str = "", what: str = "add", limit: int | None = None) -> str:
    limit = (
        limit if limit is not None else (MAX_DOMAIN if kind is InputProblem.TOO_LONG and "." in value else MAX_KEYWORD)
    )
    text = PROBLEMS[kind].format(value=clip(value), what=what, limit=limit)
    return f":warning: {text} Nothing was changed."


def unknown_rule(word: str) -> str:
    return f":warning: I don't know the rule “{clip(word)}”, so nothing was changed. The rules are:\n{RULE_CHOICES}"


ACCEPTED_WITH_ASK = (
    ":warning: `accepted` goes with a rule that records (`all`, `organised`, `external`, `internal`). "
    "Nothing was changed."
)


def current_rule(own: Rule | None, workspace: Rule | None) -> str:
    if own is not None:
        line = f"Your rule: *{rule_label(own)}*."
    elif workspace is not None:
        line = f"You haven't chosen a rule, so your workspace's default applies: *{rule_label(workspace)}*."
    else:
        line = f"You haven't chosen a rule: *{RULE_LABELS[RuleKind.ASK]}* (the default)."
    return f"{line}\n\n*Choose with `/recall rule <rule>`:*\n{RULE_CHOICES}"


def change_summary(now_recorded: int, no_longer: int) -> str:
    def meetings(n: int) -> str:
        return f"{n} upcoming meeting{'' if n == 1 else 's'}"

    parts = []
    if now_recorded:
        parts.append(f"{meetings(now_recorded)} will now be recorded")
    if no_longer:
        parts.append(f"{meetings(no_longer)} no longer")
    if not parts:
        return "No upcoming meeting changes."
    return ", ".join(parts) + "."


def rule_set(rule: Rule, summary: str) -> str:
    return f":white_check_mark: Your rule is now *{rule_label(rule)}*. {summary} Your messages are updated in place."


def keywords_list(keywords: Sequence[str], *, whose: str = "Your") -> str:
    if not keywords:
        return f"{whose} excluded keywords: none."
    return f"{whose} excluded keywords: " + ", ".join(f"*{escape(k)}*" for k in keywords) + "."


def keyword_added(keyword: str, summary: str) -> str:
    return (
        f":white_check_mark: Meetings whose title contains *{escape(keyword)}* won't be recorded by a rule "
        f"(you can still schedule one). {summary}"
    )


def keyword_removed(keyword: str, summary: str) -> str:
    return f":white_check_mark: *{escape(keyword)}* is no longer excluded. {summary}"


def keyword_already(keyword: str) -> str:
    return f":information_source: *{escape(keyword)}* is already excluded, so nothing changed."


def keyword_missing(keyword: str) -> str:
    return f":information_source: *{escape(keyword)}* isn't in the list, so nothing changed."


def domain_already(domain: str) -> str:
    return f":information_source: `{escape(domain)}` is already a company domain, so nothing changed."


def domain_missing(domain: str) -> str:
    return f":information_source: `{escape(domain)}` isn't one of the company domains, so nothing changed."


def workspace_policy(
    *,
    rule: Rule | None,
    keywords: Sequence[str],
    domains: Sequence[str],
    enforce_external: bool,
    bot_name: str,
    bot_name_is_default: bool,
    consent: str = "",
) -> str:
    rule_text = f"*{rule_label(rule)}*" if rule else f"*{RULE_LABELS[RuleKind.ASK]}* (not set)"
    domain_text = ", ".join(f"`{escape(d)}`" for d in domains) if domains else "none (each member's own domain counts)"
    enforce_text = "every meeting with outside attendees is recorded for everyone" if enforce_external else "off"
    name_text = f"*{escape(bot_name)}*" + (" (the default)" if bot_name_is_default else "")
    return (
        "*Workspace policy*\n"
        f"• Default rule: {rule_text}\n"
        f"• {keywords_list(keywords, whose='Workspace-wide')}\n"
        f"• Extra company domains: {domain_text}\n"
        f"• Enforcement: {enforce_text}\n"
        f"• Bot name: {name_text}\n"
        f"• Consent notice in the meeting chat: {consent or 'on (the default wording)'}\n\n{ADMIN_USAGE}"
    )


def workspace_rule_set(rule: Rule, summary: str) -> str:
    return (
        f":white_check_mark: The workspace's default rule is now *{rule_label(rule)}* for members who haven't chosen "
        f"their own. {summary}"
    )


def workspace_keyword_added(keyword: str, summary: str) -> str:
    return (
        f":white_check_mark: Meetings whose title contains *{escape(keyword)}* are no longer recorded by a rule, "
        f"for anyone. {summary}"
    )


def workspace_keyword_removed(keyword: str, summary: str) -> str:
    return f":white_check_mark: *{escape(keyword)}* is no longer excluded for the workspace. {summary}"


def domain_added(domain: str, summary: str) -> str:
    return f":white_check_mark: `{escape(domain)}` now counts as a company domain. {summary}"


def domain_removed(domain: str, summary: str) -> str:
    return f":white_check_mark: `{escape(domain)}` no longer counts as a company domain. {summary}"


def enforcement_set(on: bool, summary: str) -> str:
    if on:
        return (
            ":white_check_mark: Every meeting with people from outside the company is now recorded for every "
            f"connected member, and members can't skip them. {summary}"
        )
    return f":white_check_mark: Enforcement is off: members' own rules decide again. {summary}"


def bot_name_set(name: str, *, default: bool) -> str:
    suffix = " (the default)" if default else ""
    return (
        f":white_check_mark: The bot will join new meetings as *{escape(name)}*{suffix}. "
        "Bots already scheduled keep their name."
    )


BOT_NAME_EMPTY = f":warning: Give a name of 1 to {MAX_BOT_NAME} characters. Nothing was changed."
BOT_NAME_TOO_LONG = f":warning: A bot name has at most {MAX_BOT_NAME} characters. Nothing was changed."
BOT_NAME_MARKUP = (
    ":warning: A bot name can't contain Slack markup (`<`, `>`, `&`, `*`, `_`, `~`, `` ` ``, `|`) or control "
    "characters. Nothing was changed."
)
ENFORCE_USAGE = ":warning: Use `/recall admin enforce external` or `/recall admin enforce none`. Nothing was changed."


def unknown_exclude(word: str) -> str:
    return f":warning: I don't know `/recall exclude {clip(word)}`, so nothing was changed.\n\n{EXCLUDE_USAGE}"


def unknown_admin(word: str) -> str:
    return f":warning: I don't know `/recall admin {clip(word)}`, so nothing was changed.\n\n{ADMIN_USAGE}"


def admin_list_usage(sub: str) -> str:
    return (
        f":warning: Use `/recall admin {sub} add ...` or `/recall admin {sub} remove ...`. Nothing was changed."
        f"\n\n{ADMIN_USAGE}"
    )


HOME_RULE_TITLE = "*Which meetings are recorded*\nYour clicks on a meeting always win."
HOME_ACCEPTED_ONLY = "Only meetings I've accepted"
HOME_ADMIN_HEADER = "Workspace policy (admins)"
HOME_ADMIN_RULE_TITLE = "*Default rule* for members who haven't chosen their own"
HOME_ADMIN_ENFORCE_TITLE = "*Enforcement*: record every meeting with outside attendees for everyone"
HOME_ENFORCE_ON = "Record external meetings for everyone"
HOME_ENFORCE_OFF = "Off: members' rules decide"


def home_default_option(workspace_default: Rule) -> str:
    label = sentence_case(rule_label(workspace_default))
    text = f"Workspace default: {label}"
    return text if len(text) <= 75 else text[:74] + "…"


def home_keywords(keywords: Sequence[str]) -> str:
    return f"{keywords_list(keywords)} Change them with `/recall exclude add|remove <word or phrase>`."


def home_admin_details(
    *,
    keywords: Sequence[str],
    domains: Sequence[str],
    bot_name: str,
    bot_name_is_default: bool,
    consent_enabled: bool = True,
) -> str:
    domain_text = ", ".join(f"`{escape(d)}`" for d in domains) if domains else "none"
    name = escape(bot_name) + (" (the default)" if bot_name_is_default else "")
    consent = "on" if consent_enabled else "off"
    return (
        f"{keywords_list(keywords, whose='Workspace-wide')} Extra company domains: {domain_text}. Bot name: *{name}*. "
        f"Consent notice in the meeting chat: *{consent}*. "
        "Change these with `/recall admin exclude|domain|bot-name|consent ...`."
    )


def home_rule_changed(rule: Rule | None, summary: str) -> str:
    if rule is None:
        return f":white_check_mark: You now follow your workspace's default rule. {summary}"
    return rule_set(rule, summary)


def consent_state(*, enabled: bool, text: str | None, example: str) -> str:
    """How `/recall admin` shows the consent notice; ``example``: the notice as a bot would post it now."""
    if not enabled:
        return "*off*: bots join without posting a notice"
    which = "your text" if text else "the default wording"
    return f"*on* ({which}): “{escape(example)}”"


def consent_set(*, enabled: bool, example: str) -> str:
    if not enabled:
        return (
            ":white_check_mark: Bots will no longer post a recording notice in the meeting chat. Make sure people "
            "know they're being recorded some other way (recording may need everyone's consent where you are). "
            "Bots already scheduled keep their notice."
        )
    return (
        f":white_check_mark: When it joins, the bot will post in the meeting chat: “{escape(example)}” "
        "Bots already scheduled keep the notice they were given."
    )


CONSENT_USAGE = (
    ":warning: Use `/recall admin consent on`, `off`, `reset` (the default wording) or "
    f"`/recall admin consent <text>` (at most {MAX_CONSENT_TEXT} characters; `{{bot}}` and `{{member}}` are filled "
    "in). Nothing was changed."
)
