"""`decide()` with a workspace and member policy: one precedence table against an independent oracle, and the words
every decision gets."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from slackbot.meetings.decision import ACTIONABLE, BotState, Choice, Decision, MeetingFacts, Reason, decide
from slackbot.meetings.rules import Miss, Policy, Rule, RuleKind
from slackbot.words.meetings import MISSES, RULE_LABELS, reason, rule_label

NOW = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
URL = "https://zoom.us/j/123456789"
COLLEAGUE = "U0COLLEAGUE"
COMPANY = frozenset({"acme.com", "acme.co.uk"})

MEMBER_KEYWORDS = ("Retro", "Interview")  # the second one is the one the titles hold
WORKSPACE_KEYWORDS = ("Offsite",)

# The documented order puts the member's series choice above workspace enforcement, and lets enforcement void only
# skips ("members cannot skip an enforced external meeting"): a series set to "record every occurrence" therefore
# still decides an enforced meeting (the bot joins either way; only the reason shown differs, and it stays locked).
SERIES_SCHEDULE_OUTRANKS_ENFORCEMENT = True


def facts(**overrides: object) -> MeetingFacts:
    base: dict[str, object] = {
        "title": "Weekly sync",
        "start_time": NOW + timedelta(hours=1),
        "end_time": NOW + timedelta(hours=1, minutes=30),
        "meeting_url": URL,
        "meeting_platform": "zoom",
        "organizer": "grace@acme.com",
        "is_deleted": False,
        "self_response": "accepted",
        "series_id": "series-1",
        "organizer_is_self": False,
        "attendee_domains": ("acme.com",),
    }
    base.update(overrides)
    return MeetingFacts(**base)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------------------------
# The inputs. Each calendar value also carries every calendar fact below it, so their order is tested too.
# ---------------------------------------------------------------------------------------------------------------------

CALENDAR = ["live", "cancelled", "ended", "no_link", "declined"]
CHOICES = [None, Choice.SCHEDULE, Choice.SKIP]
ENFORCE = [False, True]
ATTENDEES = {"inside": ("acme.com", "acme.co.uk"), "outside": ("acme.com", "partner.io")}
TITLES = {
    "plain": "Weekly sync",
    "member-keyword": "Interview: Ada",
    "workspace-keyword": "Offsite planning",
    "both-keywords": "Offsite interview",
}
MEMBER_RULES = [None, Rule(RuleKind.ASK), Rule(RuleKind.EXTERNAL), Rule(RuleKind.INTERNAL, accepted_only=True)]
WORKSPACE_RULES = [None, Rule(RuleKind.ALL, accepted_only=True), Rule(RuleKind.ORGANISED)]
ORGANISER = [False, True]
RESPONSES = ["accepted", "tentative"]
COVERED = [(), (COLLEAGUE,)]


@dataclass(frozen=True)
class Case:
    calendar: str
    choice: Choice | None
    series: Choice | None
    enforce: bool
    attendees: str
    title: str
    member_rule: Rule | None
    workspace_rule: Rule | None
    organiser: bool
    response: str
    covered: tuple[str, ...]

    def meeting(self) -> MeetingFacts:
        level = CALENDAR.index(self.calendar)  # 0 live, 1 cancelled ... 4 declined
        ended = level in (1, 2)
        return facts(
            title=TITLES[self.title],
            is_deleted=level == 1,
            start_time=NOW - timedelta(hours=2) if ended else NOW + timedelta(hours=1),
            end_time=NOW - timedelta(hours=1) if ended else NOW + timedelta(hours=2),
            meeting_url=None if level in (1, 2, 3) else URL,
            self_response="declined" if level else self.response,
            organizer_is_self=self.organiser,
            attendee_domains=ATTENDEES[self.attendees],
        )

    def policy(self) -> Policy:
        return Policy(
            member_rule=self.member_rule,
            workspace_rule=self.workspace_rule,
            enforce_external=self.enforce,
            member_keywords=MEMBER_KEYWORDS,
            workspace_keywords=WORKSPACE_KEYWORDS,
            company=COMPANY,
        )

    def decide(self) -> Decision:
        return decide(
            self.meeting(),
            choice=self.choice,
            covered_by=list(self.covered),
            now=NOW,
            series_choice=self.series,
            policy=self.policy(),
        )


@dataclass(frozen=True)
class Expected:
    state: BotState
    reason: Reason
    rule: Rule | None = None
    miss: Miss | None = None
    keyword: str | None = None


def _miss(rule: Rule, case: Case) -> Miss | None:
    outside = case.attendees == "outside"
    if rule.kind is RuleKind.ORGANISED and not case.organiser:
        return Miss.NOT_ORGANISER
    if rule.kind is RuleKind.EXTERNAL and not outside:
        return Miss.ALL_INSIDE
    if rule.kind is RuleKind.INTERNAL and outside:
        return Miss.SOMEONE_OUTSIDE
    if rule.accepted_only and case.response != "accepted":
        return Miss.NOT_ACCEPTED
    return None


def _expected(case: Case) -> Expected:
    """An independent oracle for the documented precedence: calendar facts (cancelled > ended > no link > declined)
    > click > series choice > workspace enforcement (which voids any skip) > member keyword > workspace keyword >
    member's rule > workspace default rule > ask (covered when a colleague's bot covers it)."""
    calendar_states = {
        "cancelled": BotState.CANCELLED,
        "ended": BotState.ENDED,
        "no_link": BotState.NO_LINK,
        "declined": BotState.DECLINED,
    }
    if case.calendar in calendar_states:
        return Expected(calendar_states[case.calendar], Reason.CALENDAR)
    enforced = case.enforce and case.attendees == "outside"
    if case.choice is Choice.SCHEDULE:
        return Expected(BotState.SCHEDULED, Reason.CLICK)
    if enforced:
        if case.series is Choice.SCHEDULE and SERIES_SCHEDULE_OUTRANKS_ENFORCEMENT:
            return Expected(BotState.SCHEDULED, Reason.SERIES)
        return Expected(BotState.SCHEDULED, Reason.ENFORCED)
    if case.choice is Choice.SKIP:
        return Expected(BotState.SKIPPED, Reason.CLICK)
    if case.series is Choice.SCHEDULE:
        return Expected(BotState.SCHEDULED, Reason.SERIES)
    if case.series is Choice.SKIP:
        return Expected(BotState.SKIPPED, Reason.SERIES)
    if case.title in ("member-keyword", "both-keywords"):
        return Expected(BotState.SKIPPED, Reason.KEYWORD, keyword="Interview")
    if case.title == "workspace-keyword":
        return Expected(BotState.SKIPPED, Reason.WORKSPACE_KEYWORD, keyword="Offsite")
    # The member's own rule, when they have one, is the only rule: "ask" means ask, and a miss is a miss.
    if case.member_rule is not None:
        rule, by = case.member_rule, Reason.RULE
    else:
        rule, by = case.workspace_rule, Reason.WORKSPACE_RULE
    if rule is not None and rule.kind is not RuleKind.ASK:
        miss = _miss(rule, case)
        return Expected(BotState.SCHEDULED if miss is None else BotState.SKIPPED, by, rule=rule, miss=miss)
    return Expected(BotState.COVERED if case.covered else BotState.ASK, Reason.NOBODY)


OUTER = list(itertools.product(CALENDAR, CHOICES, CHOICES))


def _inner(calendar: str, choice: Choice | None, series: Choice | None) -> Iterator[Case]:
    for rest in itertools.product(
        ENFORCE, list(ATTENDEES), list(TITLES), MEMBER_RULES, WORKSPACE_RULES, ORGANISER, RESPONSES, COVERED
    ):
        yield Case(calendar, choice, series, *rest)


def all_cases() -> Iterator[Case]:
    for outer in OUTER:
        yield from _inner(*outer)


def _outer_id(outer: tuple) -> str:
    calendar, choice, series = outer
    return f"{calendar}-click={choice.value if choice else 'none'}-series={series.value if series else 'none'}"


def _mismatches(case: Case, decision: Decision) -> list[str]:
    expected = _expected(case)
    got = {
        "state": decision.state,
        "reason": decision.reason,
        "wants_bot": decision.wants_bot,
        "locked": decision.locked,
        "rule": decision.rule,
        "miss": decision.miss,
        "keyword": decision.keyword,
        "covered_by": decision.covered_by,
        "series_choice": decision.series_choice,
    }
    live = expected.state in ACTIONABLE
    want = {
        "state": expected.state,
        "reason": expected.reason,
        "wants_bot": expected.state is BotState.SCHEDULED,
        # Members may not skip a meeting the workspace records, whichever reason is shown (click, series, policy).
        "locked": case.calendar == "live" and case.enforce and case.attendees == "outside",
        "rule": expected.rule,
        "miss": expected.miss,
        "keyword": expected.keyword,
        "covered_by": case.covered if live else (),
        "series_choice": case.series if live else None,
    }
    problems = [f"{name}: got {got[name]!r}, want {want[name]!r}" for name in want if got[name] != want[name]]
    if expected.reason is Reason.ENFORCED and not decision.locked:
        problems.append("an ENFORCED decision must be locked")
    return problems


@pytest.mark.parametrize("outer", OUTER, ids=[_outer_id(o) for o in OUTER])
def test_decide_policy_precedence_table(outer: tuple) -> None:
    failures = []
    count = 0
    for case in _inner(*outer):
        count += 1
        problems = _mismatches(case, case.decide())
        if problems:
            failures.append(f"{case}: {'; '.join(problems)}")
    assert count == 2 * len(ATTENDEES) * len(TITLES) * len(MEMBER_RULES) * len(WORKSPACE_RULES) * 2 * 2 * 2
    assert not failures, f"{len(failures)} of {count} cases differ, e.g.\n" + "\n".join(failures[:5])


def test_the_table_reaches_every_reason_and_every_miss() -> None:
    outcomes = [_expected(case) for case in all_cases()]
    assert {o.reason for o in outcomes} == set(Reason)
    assert {o.state for o in outcomes} == set(BotState)
    assert {o.miss for o in outcomes} == {*Miss, None}
    assert {(o.state, o.reason) for o in outcomes} == REACHABLE


# ---------------------------------------------------------------------------------------------------------------------
# The points of the precedence members and admins ask about, spelled out
# ---------------------------------------------------------------------------------------------------------------------

OUTSIDE = ("acme.com", "partner.io")


def test_members_cannot_skip_an_enforced_external_meeting() -> None:
    policy = Policy(
        enforce_external=True,
        company=COMPANY,
        member_rule=Rule(RuleKind.INTERNAL),
        member_keywords=("Interview",),
        workspace_keywords=("Interview",),
    )
    for choice, series in [(Choice.SKIP, None), (None, Choice.SKIP), (Choice.SKIP, Choice.SKIP), (None, None)]:
        decision = decide(
            facts(attendee_domains=OUTSIDE, title="Interview"),
            choice=choice,
            covered_by=[],
            now=NOW,
            series_choice=series,
            policy=policy,
        )
        assert (decision.state, decision.reason) == (BotState.SCHEDULED, Reason.ENFORCED), (choice, series)
        assert decision.wants_bot is True
        assert decision.locked is True


def test_enforcement_needs_someone_from_outside_and_the_switch() -> None:
    inside = decide(
        facts(attendee_domains=("acme.com",)),
        choice=Choice.SKIP,
        covered_by=[],
        now=NOW,
        policy=Policy(enforce_external=True, company=COMPANY),
    )
    assert (inside.state, inside.reason, inside.locked) == (BotState.SKIPPED, Reason.CLICK, False)
    switched_off = decide(
        facts(attendee_domains=OUTSIDE), choice=None, covered_by=[], now=NOW, policy=Policy(company=COMPANY)
    )
    assert (switched_off.state, switched_off.locked) == (BotState.ASK, False)


def test_enforcement_never_beats_the_calendar() -> None:
    policy = Policy(enforce_external=True, company=COMPANY)
    for overrides, state in [
        ({"is_deleted": True}, BotState.CANCELLED),
        ({"start_time": NOW - timedelta(hours=2), "end_time": NOW - timedelta(hours=1)}, BotState.ENDED),
        ({"meeting_url": None}, BotState.NO_LINK),
        ({"self_response": "declined"}, BotState.DECLINED),
    ]:
        decision = decide(
            facts(attendee_domains=OUTSIDE, **overrides), choice=None, covered_by=[], now=NOW, policy=policy
        )
        assert (decision.state, decision.wants_bot, decision.locked) == (state, False, False)


def test_series_schedule_outranks_enforcement_as_documented() -> None:
    """Documented order (issue 7, `decide`'s docstring): click > series choice > workspace enforcement; enforcement
    voids skips only. Flip SERIES_SCHEDULE_OUTRANKS_ENFORCEMENT if the order is changed to put enforcement first."""
    decision = decide(
        facts(attendee_domains=OUTSIDE),
        choice=None,
        covered_by=[],
        now=NOW,
        series_choice=Choice.SCHEDULE,
        policy=Policy(enforce_external=True, company=COMPANY),
    )
    assert decision.wants_bot is True
    assert decision.reason is (Reason.SERIES if SERIES_SCHEDULE_OUTRANKS_ENFORCEMENT else Reason.ENFORCED)
    assert decision.locked is True  # still enforced: "Skip this one" must not be offered


def test_a_schedule_click_on_an_enforced_meeting_is_locked_too() -> None:
    decision = decide(
        facts(attendee_domains=OUTSIDE),
        choice=Choice.SCHEDULE,
        covered_by=[],
        now=NOW,
        policy=Policy(enforce_external=True, company=COMPANY),
    )
    assert (decision.state, decision.reason, decision.locked) == (BotState.SCHEDULED, Reason.CLICK, True)
    not_enforced = decide(facts(attendee_domains=OUTSIDE), choice=Choice.SCHEDULE, covered_by=[], now=NOW)
    assert not_enforced.locked is False


def test_a_member_rule_of_ask_stops_the_workspace_default() -> None:
    workspace_all = Rule(RuleKind.ALL)
    asked = decide(
        facts(),
        choice=None,
        covered_by=[],
        now=NOW,
        policy=Policy(member_rule=Rule(RuleKind.ASK), workspace_rule=workspace_all, company=COMPANY),
    )
    assert (asked.state, asked.reason, asked.rule, asked.wants_bot) == (BotState.ASK, Reason.NOBODY, None, False)
    defaulted = decide(facts(), choice=None, covered_by=[], now=NOW, policy=Policy(workspace_rule=workspace_all))
    assert (defaulted.state, defaulted.reason, defaulted.rule) == (
        BotState.SCHEDULED,
        Reason.WORKSPACE_RULE,
        workspace_all,
    )
    assert defaulted.wants_bot is True


def test_a_member_rule_that_misses_does_not_fall_back_to_the_workspace_default() -> None:
    decision = decide(
        facts(attendee_domains=("acme.com",)),
        choice=None,
        covered_by=[],
        now=NOW,
        policy=Policy(member_rule=Rule(RuleKind.EXTERNAL), workspace_rule=Rule(RuleKind.ALL), company=COMPANY),
    )
    assert (decision.state, decision.reason, decision.miss) == (BotState.SKIPPED, Reason.RULE, Miss.ALL_INSIDE)
    assert decision.rule == Rule(RuleKind.EXTERNAL)


def test_a_workspace_default_of_ask_asks() -> None:
    decision = decide(
        facts(), choice=None, covered_by=[COLLEAGUE], now=NOW, policy=Policy(workspace_rule=Rule(RuleKind.ASK))
    )
    assert (decision.state, decision.reason) == (BotState.COVERED, Reason.NOBODY)


def test_member_keyword_beats_workspace_keyword_and_keywords_beat_rules() -> None:
    policy = Policy(
        member_rule=Rule(RuleKind.ALL),
        member_keywords=("interview",),
        workspace_keywords=("offsite",),
    )
    both = decide(facts(title="Offsite Interview"), choice=None, covered_by=[], now=NOW, policy=policy)
    assert (both.state, both.reason, both.keyword) == (BotState.SKIPPED, Reason.KEYWORD, "interview")
    workspace = decide(facts(title="OFFSITE"), choice=None, covered_by=[], now=NOW, policy=policy)
    assert (workspace.state, workspace.reason, workspace.keyword) == (
        BotState.SKIPPED,
        Reason.WORKSPACE_KEYWORD,
        "offsite",
    )
    # The member can still schedule it by hand.
    clicked = decide(facts(title="Offsite"), choice=Choice.SCHEDULE, covered_by=[], now=NOW, policy=policy)
    assert (clicked.state, clicked.reason, clicked.keyword) == (BotState.SCHEDULED, Reason.CLICK, None)


def test_no_policy_is_the_empty_policy() -> None:
    for choice, series, covered in itertools.product(CHOICES, CHOICES, COVERED):
        kwargs = {"choice": choice, "covered_by": list(covered), "now": NOW, "series_choice": series}
        assert decide(facts(), **kwargs) == decide(facts(), policy=Policy(), **kwargs)


# ---------------------------------------------------------------------------------------------------------------------
# Words: every (state, reason) decide can return has them
# ---------------------------------------------------------------------------------------------------------------------

REACHABLE = {
    (BotState.CANCELLED, Reason.CALENDAR),
    (BotState.ENDED, Reason.CALENDAR),
    (BotState.NO_LINK, Reason.CALENDAR),
    (BotState.DECLINED, Reason.CALENDAR),
    (BotState.SCHEDULED, Reason.CLICK),
    (BotState.SKIPPED, Reason.CLICK),
    (BotState.SCHEDULED, Reason.SERIES),
    (BotState.SKIPPED, Reason.SERIES),
    (BotState.SCHEDULED, Reason.ENFORCED),
    (BotState.SKIPPED, Reason.KEYWORD),
    (BotState.SKIPPED, Reason.WORKSPACE_KEYWORD),
    (BotState.SCHEDULED, Reason.RULE),
    (BotState.SKIPPED, Reason.RULE),
    (BotState.SCHEDULED, Reason.WORKSPACE_RULE),
    (BotState.SKIPPED, Reason.WORKSPACE_RULE),
    (BotState.COVERED, Reason.NOBODY),
    (BotState.ASK, Reason.NOBODY),
}


def test_every_decision_in_the_table_has_words() -> None:
    seen: set[tuple[BotState, Reason]] = set()
    for case in all_cases():
        decision = case.decide()
        seen.add((decision.state, decision.reason))
        text = reason(decision)  # never raises
        assert text.strip(), case
        assert text.endswith("."), (case, text)
        assert "None" not in text, (case, text)
        if decision.state is BotState.SKIPPED and case.covered:
            assert f"<@{COLLEAGUE}>" in text, (case, text)  # the colleague's bot will still record it
        if decision.state in (BotState.ASK, BotState.CANCELLED, BotState.ENDED, BotState.NO_LINK, BotState.DECLINED):
            assert "<@" not in text, (case, text)
    assert seen == REACHABLE


@pytest.mark.parametrize("where", ["member", "workspace"])
@pytest.mark.parametrize(
    ("keyword", "title", "escaped"),
    [
        ("<!channel>", "<!channel> all hands", "&lt;!channel&gt;"),
        ("<https://evil|click>", "see <https://evil|click> now", "&lt;https://evil|click&gt;"),
        ("R&D", "R&D review", "R&amp;D"),
    ],
)
def test_keywords_are_escaped_in_the_words(where: str, keyword: str, title: str, escaped: str) -> None:
    policy = Policy(member_keywords=(keyword,)) if where == "member" else Policy(workspace_keywords=(keyword,))
    decision = decide(facts(title=title), choice=None, covered_by=[COLLEAGUE], now=NOW, policy=policy)
    assert decision.keyword == keyword
    text = reason(decision)
    assert f"*{escaped}*" in text
    assert keyword not in text
    assert text.endswith(".")
    assert f"<@{COLLEAGUE}>" in text


# ---------------------------------------------------------------------------------------------------------------------
# Rule labels and the issue's sentences
# ---------------------------------------------------------------------------------------------------------------------


def test_rule_labels_read_as_in_the_issue() -> None:
    assert RULE_LABELS == {
        RuleKind.ASK: "ask each time",
        RuleKind.ALL: "all meetings with a video link",
        RuleKind.ORGANISED: "meetings you organise",
        RuleKind.EXTERNAL: "meetings with people from outside your company",
        RuleKind.INTERNAL: "meetings with only people from your company",
    }
    assert set(MISSES) == set(Miss)
    assert rule_label(Rule(RuleKind.ORGANISED)) == "meetings you organise"
    assert rule_label(Rule(RuleKind.ORGANISED, accepted_only=True)) == "meetings you organise that you've accepted"
    assert rule_label(Rule(RuleKind.ASK, accepted_only=True)) == "ask each time"  # nothing to accept when asked


@pytest.mark.parametrize(
    ("meeting", "choice", "series", "policy", "text"),
    [
        pytest.param(
            facts(organizer_is_self=True),
            None,
            None,
            Policy(member_rule=Rule(RuleKind.ORGANISED)),
            "Recording, by your rule *meetings you organise*.",
            id="member-rule",
        ),
        pytest.param(
            facts(),
            None,
            None,
            Policy(member_rule=Rule(RuleKind.ORGANISED)),
            "Not recording: your rule is *meetings you organise*, and you don't organise this one.",
            id="member-rule-miss",
        ),
        pytest.param(
            facts(self_response="tentative"),
            None,
            None,
            Policy(workspace_rule=Rule(RuleKind.ALL, accepted_only=True)),
            "Not recording: your workspace's default rule is *all meetings with a video link that you've accepted*, "
            "and you haven't accepted this one.",
            id="workspace-rule-miss",
        ),
        pytest.param(
            facts(attendee_domains=OUTSIDE),
            None,
            None,
            Policy(workspace_rule=Rule(RuleKind.EXTERNAL), company=COMPANY),
            "Recording, by your workspace's default rule *meetings with people from outside your company*.",
            id="workspace-rule",
        ),
        pytest.param(
            facts(title="Interview: Ada"),
            None,
            None,
            Policy(member_keywords=("Interview",), member_rule=Rule(RuleKind.ALL)),
            "Not recording: the title contains *Interview*.",
            id="keyword",
        ),
        pytest.param(
            facts(),
            None,
            Choice.SCHEDULE,
            Policy(),
            "Recording: you chose every occurrence of this series.",
            id="series",
        ),
        pytest.param(
            facts(),
            None,
            Choice.SKIP,
            Policy(member_rule=Rule(RuleKind.ALL)),
            "Not recording: you chose never to record this series.",
            id="series-skip",
        ),
        pytest.param(
            facts(attendee_domains=OUTSIDE),
            Choice.SKIP,
            None,
            Policy(enforce_external=True, company=COMPANY),
            "Recording: workspace policy records all external meetings.",
            id="enforced",
        ),
    ],
)
def test_the_issue_sentences(
    meeting: MeetingFacts, choice: Choice | None, series: Choice | None, policy: Policy, text: str
) -> None:
    decision = decide(meeting, choice=choice, covered_by=[], now=NOW, series_choice=series, policy=policy)
    assert reason(decision) == text
