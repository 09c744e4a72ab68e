"""Recording rules, keyword exclusions and workspace policy: plain data and pure checks (words live in `words`)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

MAX_KEYWORD = 100
MAX_KEYWORDS = 50
MAX_DOMAINS = 50
MAX_DOMAIN = 253

# Free-mail providers: sharing one of these never makes two people colleagues.
FREEMAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "hotmail.co.uk",
        "live.com",
        "msn.com",
        "yahoo.com",
        "yahoo.co.uk",
        "ymail.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "pm.me",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.com",
        "yandex.com",
        "yandex.ru",
        "mail.ru",
        "zoho.com",
        "fastmail.com",
        "hey.com",
        "qq.com",
        "163.com",
    }
)

_DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class RuleKind(StrEnum):
    ASK = "ask"  # nothing is recorded unless the member clicks
    ALL = "all"  # every meeting with a video link
    ORGANISED = "organised"  # meetings the member organises
    EXTERNAL = "external"  # at least one attendee outside the company
    INTERNAL = "internal"  # every attendee inside the company


# What a member may type for each rule.
RULE_WORDS: dict[str, RuleKind] = {
    "ask": RuleKind.ASK,
    "all": RuleKind.ALL,
    "organised": RuleKind.ORGANISED,
    "organized": RuleKind.ORGANISED,
    "mine": RuleKind.ORGANISED,
    "external": RuleKind.EXTERNAL,
    "internal": RuleKind.INTERNAL,
}
ACCEPTED_WORD = "accepted"


class Miss(StrEnum):
    """Why a rule does not cover a meeting."""

    NOT_ORGANISER = "not_organiser"
    ALL_INSIDE = "all_inside"
    SOMEONE_OUTSIDE = "someone_outside"
    NOT_ACCEPTED = "not_accepted"


@dataclass(frozen=True)
class Rule:
    kind: RuleKind
    accepted_only: bool = False  # leave out meetings the member has not accepted (tentative, no answer)

    @property
    def decides(self) -> bool:
        """`ask` leaves every meeting to the member's click."""
        return self.kind is not RuleKind.ASK

    @classmethod
    def stored(cls, kind: str | None, accepted_only: bool) -> Rule | None:
        """From the database: None where nothing was chosen (or an unknown value)."""
        if kind is None or kind not in RuleKind._value2member_map_:
            return None
        return cls(RuleKind(kind), accepted_only)


@dataclass(frozen=True)
class Attendance:
    """Who is in a meeting, as the rules need it."""

    organizer_is_self: bool
    attendee_domains: tuple[str, ...]  # everyone but the member, rooms left out
    self_response: str | None  # accepted | declined | tentative | needsAction | None


def is_external(attendee_domains: Iterable[str], company: frozenset[str]) -> bool:
    """At least one attendee from a domain that is not the company's (free-mail never is)."""
    return any(domain not in company for domain in attendee_domains)


def rule_miss(rule: Rule, who: Attendance, company: frozenset[str]) -> Miss | None:
    """None when ``rule`` records the meeting, else why not."""
    if rule.kind is RuleKind.ORGANISED and not who.organizer_is_self:
        return Miss.NOT_ORGANISER
    if rule.kind is RuleKind.EXTERNAL and not is_external(who.attendee_domains, company):
        return Miss.ALL_INSIDE
    if rule.kind is RuleKind.INTERNAL and is_external(who.attendee_domains, company):
        return Miss.SOMEONE_OUTSIDE
    if rule.accepted_only and who.self_response != "accepted":
        return Miss.NOT_ACCEPTED
    return None


def domain_of(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    domain = email.rsplit("@", 1)[1].strip().lower().rstrip(".")
    return domain or None


def company_domains(member_emails: Iterable[str | None], workspace_domains: Iterable[str]) -> frozenset[str]:
    """The member's own domains (unless free-mail) plus the domains the workspace's admins added."""
    own = {d for d in (domain_of(e) for e in member_emails) if d and d not in FREEMAIL_DOMAINS}
    return frozenset(own | {d.lower() for d in workspace_domains})


def excluded_keyword(title: str, keywords: Iterable[str]) -> str | None:
    """The first keyword the title contains as whole words, case-insensitively, spacing aside (`Interview`
    matches "Interview: Ada" but not "Interviewer sync"; `(draft)` matches "Plan(draft)")."""
    folded = " ".join(title.split())
    for keyword in keywords:
        words = " ".join(keyword.split())
        if not words:
            continue
        # A boundary is only needed where the keyword itself starts or ends with a word character.
        before = r"(?<!\w)" if re.match(r"\w", words) else ""
        after = r"(?!\w)" if re.search(r"\w$", words) else ""
        if re.search(f"{before}{re.escape(words)}{after}", folded, flags=re.IGNORECASE):
            return keyword
    return None


def is_calendar_address(domain: str) -> bool:
    """Google's group, resource and imported calendars have addresses too; they are not people."""
    return domain == "calendar.google.com" or domain.endswith(".calendar.google.com")


class InputProblem(StrEnum):
    EMPTY = "empty"
    TOO_LONG = "too_long"
    MARKUP = "markup"
    TOO_MANY = "too_many"
    NOT_A_DOMAIN = "not_a_domain"
    FREEMAIL = "freemail"


def has_control_characters(text: str) -> bool:
    """C0, DEL and C1 controls (Unicode category Cc): nothing a member means to type, and log-line breakers."""
    return any(unicodedata.category(ch) == "Cc" for ch in text)


def clean_keyword(raw: str) -> tuple[str | None, InputProblem | None]:
    """A keyword as stored (inner spaces folded), or why it is refused."""
    keyword = " ".join(raw.split())
    if not keyword:
        return None, InputProblem.EMPTY
    if len(keyword) > MAX_KEYWORD:
        return None, InputProblem.TOO_LONG
    if any(ch in keyword for ch in "<>") or has_control_characters(keyword):
        return None, InputProblem.MARKUP
    return keyword, None


def clean_domain(raw: str) -> tuple[str | None, InputProblem | None]:
    domain = raw.strip().lower().removeprefix("@").rstrip(".")
    if not domain:
        return None, InputProblem.EMPTY
    if len(domain) > MAX_DOMAIN:
        return None, InputProblem.TOO_LONG
    if not _DOMAIN.match(domain):
        return None, InputProblem.NOT_A_DOMAIN
    if domain in FREEMAIL_DOMAINS:
        return None, InputProblem.FREEMAIL
    return domain, None


@dataclass(frozen=True)
class Policy:
    """Everything besides the member's clicks that decides for one member's meetings."""

    member_rule: Rule | None = None
    workspace_rule: Rule | None = None
    enforce_external: bool = False
    member_keywords: tuple[str, ...] = ()
    workspace_keywords: tuple[str, ...] = ()
    company: frozenset[str] = field(default_factory=frozenset)
