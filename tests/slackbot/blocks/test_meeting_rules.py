"""The per-meeting DM when a rule, a keyword, a series choice or workspace policy decided: the right buttons for each
reason, valid Block Kit, and the reason's words in the context line."""

from __future__ import annotations

import dataclasses
import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from slackbot.blocks.meeting import meeting_buttons, meeting_message
from slackbot.blocks.text import MAX_BUTTON_TEXT, MAX_MESSAGE_BLOCKS, MAX_SECTION_TEXT, Message
from slackbot.ids import ActionId, BlockId
from slackbot.meetings.decision import ACTIONABLE, BotState, Choice, Decision, MeetingFacts, Reason, decide
from slackbot.meetings.rules import Miss, Policy, Rule, RuleKind
from slackbot.words.meetings import STATE_LINES, reason

NOW = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
START = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
EVENT_ID = "3f1b2c4d-0000-4000-8000-00000000abcd"
SERIES_ID = "7cbh8rpc10lrc0ckih9tafss99"
COLLEAGUE = "U0COLLEAGUE"


def facts(**overrides: Any) -> MeetingFacts:
    base: dict[str, Any] = {
        "title": "Quarterly planning",
        "start_time": START,
        "end_time": START + timedelta(minutes=30),
        "meeting_url": "https://zoom.us/j/123",
        "meeting_platform": "zoom",
        "organizer": "ceo@acme.com",
        "is_deleted": False,
        "self_response": "accepted",
        "series_id": None,
        "organizer_is_self": False,
        "attendee_domains": ("acme.com",),
    }
    base.update(overrides)
    return MeetingFacts(**base)


def buttons(message: Message) -> list[dict[str, Any]]:
    return [element for block in message.blocks if block["type"] == "actions" for element in block["elements"]]


def context_text(message: Message) -> str:
    contexts = [b for b in message.blocks if b["type"] == "context"]
    assert len(contexts) == 1
    return " ".join(e["text"] for e in contexts[0]["elements"])


def assert_valid_block_kit(message: Message) -> None:
    assert 0 < len(message.blocks) <= MAX_MESSAGE_BLOCKS
    for block in message.blocks:
        parsed = Block.parse(block)
        assert parsed is not None, block
        assert parsed.to_dict() == block  # round-trips, and slack_sdk's validators ran in to_dict()
    json.dumps(message.blocks)
    assert message.text.strip()
    for button in buttons(message):
        assert button["type"] == "button"
        assert button["text"]["type"] == "plain_text"
        assert 0 < len(button["text"]["text"]) <= MAX_BUTTON_TEXT
        assert button["value"] == EVENT_ID
        assert "url" not in button
    for block in message.blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= MAX_SECTION_TEXT
        if block["type"] == "actions":
            action_ids = [e["action_id"] for e in block["elements"]]
            assert len(action_ids) == len(set(action_ids))  # Slack wants them unique within a block
            assert 0 < len(action_ids) <= 25


# ---------------------------------------------------------------------------------------------------------------------
# One decision per (state, reason) decide can return, with the fields its words need
# ---------------------------------------------------------------------------------------------------------------------

ORGANISED = Rule(RuleKind.ORGANISED)
EXTERNAL_ACCEPTED = Rule(RuleKind.EXTERNAL, accepted_only=True)


def decision(
    state: BotState,
    why: Reason,
    *,
    series_choice: Choice | None = None,
    covered: tuple[str, ...] = (),
    enforced: bool = False,
    **fields: Any,
) -> Decision:
    return Decision(
        state, state is BotState.SCHEDULED, covered, why, series_choice=series_choice, enforced=enforced, **fields
    )  # type: ignore[arg-type]


# (name, decision, the buttons besides the series ones, the label of the first button)
CASES: list[tuple[str, Decision, list[ActionId], str | None]] = [
    ("ask", decision(BotState.ASK, Reason.NOBODY), [ActionId.SCHEDULE_BOT, ActionId.SKIP_BOT], "Schedule bot"),
    (
        "covered",
        decision(BotState.COVERED, Reason.NOBODY, covered=(COLLEAGUE,)),
        [ActionId.SCHEDULE_BOT, ActionId.SKIP_BOT],
        "Share bot",
    ),
    ("scheduled-by-click", decision(BotState.SCHEDULED, Reason.CLICK), [ActionId.UNDO_CHOICE], "Undo"),
    ("skipped-by-click", decision(BotState.SKIPPED, Reason.CLICK), [ActionId.UNDO_CHOICE], "Undo"),
    (
        "scheduled-by-series",
        decision(BotState.SCHEDULED, Reason.SERIES, series_choice=Choice.SCHEDULE),
        [ActionId.SKIP_BOT],
        "Skip this one",
    ),
    (
        "scheduled-by-rule",
        decision(BotState.SCHEDULED, Reason.RULE, rule=ORGANISED),
        [ActionId.SKIP_BOT],
        "Skip this one",
    ),
    (
        "scheduled-by-workspace-rule",
        decision(BotState.SCHEDULED, Reason.WORKSPACE_RULE, rule=EXTERNAL_ACCEPTED),
        [ActionId.SKIP_BOT],
        "Skip this one",
    ),
    (
        "skipped-by-series",
        decision(BotState.SKIPPED, Reason.SERIES, series_choice=Choice.SKIP),
        [ActionId.SCHEDULE_BOT],
        "Schedule bot",
    ),
    (
        "skipped-by-rule",
        decision(BotState.SKIPPED, Reason.RULE, rule=ORGANISED, miss=Miss.NOT_ORGANISER),
        [ActionId.SCHEDULE_BOT],
        "Schedule bot",
    ),
    (
        "skipped-by-keyword",
        decision(BotState.SKIPPED, Reason.KEYWORD, keyword="Interview"),
        [ActionId.SCHEDULE_BOT],
        "Schedule bot",
    ),
    (
        "skipped-by-workspace-keyword",
        decision(BotState.SKIPPED, Reason.WORKSPACE_KEYWORD, keyword="Offsite"),
        [ActionId.SCHEDULE_BOT],
        "Schedule bot",
    ),
    (
        "skipped-by-workspace-rule",
        decision(BotState.SKIPPED, Reason.WORKSPACE_RULE, rule=EXTERNAL_ACCEPTED, miss=Miss.NOT_ACCEPTED),
        [ActionId.SCHEDULE_BOT],
        "Schedule bot",
    ),
    ("enforced", decision(BotState.SCHEDULED, Reason.ENFORCED, enforced=True), [], None),
    # Enforced, but a click or the series is the reason shown: still nothing to skip.
    ("scheduled-by-click-enforced", decision(BotState.SCHEDULED, Reason.CLICK, enforced=True), [], None),
    (
        "scheduled-by-series-enforced",
        decision(BotState.SCHEDULED, Reason.SERIES, series_choice=Choice.SCHEDULE, enforced=True),
        [],
        None,
    ),
    ("cancelled", decision(BotState.CANCELLED, Reason.CALENDAR), [], None),
    ("ended", decision(BotState.ENDED, Reason.CALENDAR), [], None),
    ("no-link", decision(BotState.NO_LINK, Reason.CALENDAR), [], None),
    ("declined", decision(BotState.DECLINED, Reason.CALENDAR), [], None),
]
NAMES = [case[0] for case in CASES]


def expected_buttons(meeting: MeetingFacts, made: Decision, base: list[ActionId]) -> list[ActionId]:
    """Series buttons go after the others, on a live meeting of a series that policy has not locked."""
    if not base or not meeting.series_id:
        return base
    if made.series_choice is None:
        return [*base, ActionId.RECORD_SERIES, ActionId.SKIP_SERIES]
    return [*base, ActionId.UNDO_SERIES]


def test_the_cases_cover_every_state_and_reason() -> None:
    assert {made.state for _, made, _, _ in CASES} == set(BotState)
    assert {made.reason for _, made, _, _ in CASES} == set(Reason)


@pytest.mark.parametrize(("name", "made", "base", "label"), CASES, ids=NAMES)
def test_buttons_without_a_series(name: str, made: Decision, base: list[ActionId], label: str | None) -> None:
    meeting = facts()
    found = meeting_buttons(meeting, made, event_id=EVENT_ID)
    assert [b.action_id for b in found] == base
    assert all(b.value == EVENT_ID for b in found)
    if label is not None:
        assert found[0].text.text == label
    message = meeting_message(meeting, made, event_id=EVENT_ID)
    assert_valid_block_kit(message)
    assert [b["action_id"] for b in buttons(message)] == base
    actions = [b for b in message.blocks if b["type"] == "actions"]
    if base:
        assert len(actions) == 1 and actions[0]["block_id"] == BlockId.MEETING_ACTIONS
        assert message.blocks[-1] is actions[0]
    else:
        assert actions == []
        assert [b["type"] for b in message.blocks] == ["section", "context"]


SERIES_CASES = [
    (name, made, base, label, series_choice)
    for (name, made, base, label), series_choice in itertools.product(CASES, [None, Choice.SCHEDULE, Choice.SKIP])
    # A series choice decides unless a click or policy came first: keep each decision as decide could return it.
    if made.reason not in (Reason.SERIES,) or made.series_choice is series_choice
    if series_choice is None or made.reason in (Reason.CLICK, Reason.SERIES, Reason.ENFORCED, Reason.CALENDAR)
]


@pytest.mark.parametrize(
    ("name", "made", "base", "label", "series_choice"),
    SERIES_CASES,
    ids=[f"{c[0]}-series={c[4].value if c[4] else 'none'}" for c in SERIES_CASES],
)
def test_buttons_of_a_series_meeting(
    name: str, made: Decision, base: list[ActionId], label: str | None, series_choice: Choice | None
) -> None:
    meeting = facts(series_id=SERIES_ID)
    made = dataclasses.replace(made, series_choice=series_choice)
    found = meeting_buttons(meeting, made, event_id=EVENT_ID)
    expected = expected_buttons(meeting, made, base)
    assert [b.action_id for b in found] == expected
    assert all(b.value == EVENT_ID for b in found)  # like schedule_bot: the event id
    texts = {b.action_id: b.text.text for b in found}
    if ActionId.RECORD_SERIES in texts:
        assert texts[ActionId.RECORD_SERIES] == "Record every occurrence"
        assert texts[ActionId.SKIP_SERIES] == "Never record this series"
    if ActionId.UNDO_SERIES in texts:
        assert texts[ActionId.UNDO_SERIES] == "Forget series choice"
    message = meeting_message(meeting, made, event_id=EVENT_ID)
    assert_valid_block_kit(message)
    assert [b["action_id"] for b in buttons(message)] == expected


def test_series_cases_include_every_kind_of_series_button() -> None:
    seen = set()
    for _, made, base, _, series_choice in SERIES_CASES:
        made = dataclasses.replace(made, series_choice=series_choice)
        seen.update(expected_buttons(facts(series_id=SERIES_ID), made, base))
    assert {ActionId.RECORD_SERIES, ActionId.SKIP_SERIES, ActionId.UNDO_SERIES} <= seen


@pytest.mark.parametrize("series_choice", [None, Choice.SKIP, Choice.SCHEDULE])
def test_an_enforced_meeting_has_no_buttons_even_in_a_series(series_choice: Choice | None) -> None:
    made = decision(
        BotState.SCHEDULED, Reason.ENFORCED, series_choice=series_choice, covered=(COLLEAGUE,), enforced=True
    )
    assert made.locked is True
    meeting = facts(series_id=SERIES_ID, attendee_domains=("partner.io",))
    assert meeting_buttons(meeting, made, event_id=EVENT_ID) == []
    message = meeting_message(meeting, made, event_id=EVENT_ID)
    assert_valid_block_kit(message)
    assert buttons(message) == []
    assert "Recording: workspace policy records all external meetings." in context_text(message)


@pytest.mark.parametrize("state", [BotState.CANCELLED, BotState.ENDED, BotState.NO_LINK, BotState.DECLINED])
@pytest.mark.parametrize("series_choice", [None, Choice.SCHEDULE])
def test_dead_meetings_have_no_buttons_even_in_a_series(state: BotState, series_choice: Choice | None) -> None:
    made = decision(state, Reason.CALENDAR, series_choice=series_choice)
    assert meeting_buttons(facts(series_id=SERIES_ID), made, event_id=EVENT_ID) == []


def test_only_a_fresh_question_has_a_primary_button() -> None:
    for name, made, _, _ in CASES:
        found = meeting_buttons(facts(series_id=SERIES_ID), made, event_id=EVENT_ID)
        styles = {b.action_id: b.style for b in found if b.style}
        if made.state is BotState.ASK or made.state is BotState.COVERED:
            assert styles == {ActionId.SCHEDULE_BOT: "primary"}, name
        else:
            assert "danger" not in styles.values(), name


# ---------------------------------------------------------------------------------------------------------------------
# The context line says why
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "made", "base", "label"), CASES, ids=NAMES)
@pytest.mark.parametrize("series_id", [None, SERIES_ID])
def test_the_context_line_holds_the_reason(
    name: str, made: Decision, base: list[ActionId], label: str | None, series_id: str | None
) -> None:
    message = meeting_message(facts(series_id=series_id), made, event_id=EVENT_ID)
    words = reason(made)
    assert words.endswith(".")
    assert context_text(message) == f"{STATE_LINES[made.state]} · {words}"


@pytest.mark.parametrize(
    ("made", "fragment"),
    [
        (decision(BotState.SCHEDULED, Reason.RULE, rule=ORGANISED), "by your rule *meetings you organise*"),
        (
            decision(BotState.SKIPPED, Reason.RULE, rule=ORGANISED, miss=Miss.NOT_ORGANISER),
            "you don't organise this one",
        ),
        (
            decision(BotState.SCHEDULED, Reason.WORKSPACE_RULE, rule=EXTERNAL_ACCEPTED),
            "your workspace's default rule *meetings with people from outside your company that you've accepted*",
        ),
        (decision(BotState.SKIPPED, Reason.KEYWORD, keyword="Interview"), "the title contains *Interview*"),
        (decision(BotState.SKIPPED, Reason.WORKSPACE_KEYWORD, keyword="Offsite"), "excluded for this workspace"),
        (
            decision(BotState.SCHEDULED, Reason.SERIES, series_choice=Choice.SCHEDULE),
            "you chose every occurrence of this series",
        ),
        (
            decision(BotState.SKIPPED, Reason.SERIES, series_choice=Choice.SKIP),
            "you chose never to record this series",
        ),
        (decision(BotState.SCHEDULED, Reason.ENFORCED), "workspace policy records all external meetings"),
    ],
)
def test_the_context_line_names_the_rule_keyword_or_choice(made: Decision, fragment: str) -> None:
    assert fragment in context_text(meeting_message(facts(series_id=SERIES_ID), made, event_id=EVENT_ID))


def test_a_hostile_keyword_is_escaped_in_the_message() -> None:
    meeting = facts(title="<!channel> all hands")
    made = decide(meeting, choice=None, covered_by=[], now=NOW, policy=Policy(workspace_keywords=("<!channel>",)))
    assert made.reason is Reason.WORKSPACE_KEYWORD
    message = meeting_message(meeting, made, event_id=EVENT_ID)
    assert_valid_block_kit(message)
    assert "*&lt;!channel&gt;*" in context_text(message)
    assert "<!channel>" not in json.dumps(message.blocks) + message.text


# ---------------------------------------------------------------------------------------------------------------------
# Real decisions from decide(): whatever it returns renders, with buttons that match the reason
# ---------------------------------------------------------------------------------------------------------------------

POLICIES = [
    Policy(),
    Policy(member_rule=Rule(RuleKind.ORGANISED)),
    Policy(workspace_rule=Rule(RuleKind.EXTERNAL, accepted_only=True), company=frozenset({"acme.com"})),
    Policy(member_keywords=("planning",)),
    Policy(workspace_keywords=("quarterly",)),
    Policy(enforce_external=True, company=frozenset({"acme.com"})),
]


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("choice", [None, Choice.SCHEDULE, Choice.SKIP])
@pytest.mark.parametrize("series_choice", [None, Choice.SCHEDULE, Choice.SKIP])
@pytest.mark.parametrize("outside", [False, True])
def test_real_decisions_render_with_matching_buttons(
    policy: Policy, choice: Choice | None, series_choice: Choice | None, outside: bool
) -> None:
    meeting = facts(series_id=SERIES_ID, attendee_domains=("acme.com", "partner.io") if outside else ("acme.com",))
    made = decide(meeting, choice=choice, covered_by=[COLLEAGUE], now=NOW, series_choice=series_choice, policy=policy)
    message = meeting_message(meeting, made, event_id=EVENT_ID)
    assert_valid_block_kit(message)
    assert reason(made) in context_text(message)
    ids = [b["action_id"] for b in buttons(message)]
    if made.locked:
        assert ids == []
        return
    assert made.state in ACTIONABLE
    if made.reason is Reason.CLICK:
        assert ids[0] == ActionId.UNDO_CHOICE
    elif made.state is BotState.SCHEDULED:
        assert ids[0] == ActionId.SKIP_BOT  # override what a rule or series decided
    elif made.state is BotState.SKIPPED:
        assert ids[0] == ActionId.SCHEDULE_BOT
    else:
        assert ids[:2] == [ActionId.SCHEDULE_BOT, ActionId.SKIP_BOT]
    if series_choice is None:
        assert ids[-2:] == [ActionId.RECORD_SERIES, ActionId.SKIP_SERIES]
    else:
        assert ids[-1] == ActionId.UNDO_SERIES


@pytest.mark.parametrize("choice", [None, Choice.SCHEDULE, Choice.SKIP])
@pytest.mark.parametrize("series_choice", [None, Choice.SCHEDULE, Choice.SKIP])
def test_a_locked_meeting_says_workspace_policy_records_it(choice: Choice | None, series_choice: Choice | None) -> None:
    """Issue 7: with enforcement, members cannot skip external meetings "(the message says so)". A locked message has
    no buttons, so its words must say why, whatever reason decided."""
    meeting = facts(series_id=SERIES_ID, attendee_domains=("acme.com", "partner.io"))
    policy = Policy(enforce_external=True, company=frozenset({"acme.com"}))
    made = decide(meeting, choice=choice, covered_by=[], now=NOW, series_choice=series_choice, policy=policy)
    assert made.locked is True
    message = meeting_message(meeting, made, event_id=EVENT_ID)
    assert buttons(message) == []
    assert "workspace policy" in context_text(message).lower()
