"""The per-meeting DM builder: valid Block Kit, the right buttons, escaped user text, Slack date tokens."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.models.blocks import Block

from slackbot.blocks.digests import Row, reminder_message
from slackbot.blocks.meeting import MAX_TITLE, display_title, duration_words, meeting_message
from slackbot.blocks.text import MAX_BUTTON_TEXT, MAX_MESSAGE_BLOCKS, MAX_SECTION_TEXT, Message
from slackbot.ids import ActionId, BlockId
from slackbot.meetings.decision import BotState, Choice, Decision, MeetingFacts, Reason, decide
from slackbot.words.meetings import PLATFORM_NAMES, STATE_LINES, STATE_WORDS, UNTITLED, platform_name, reason

NOW = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
START = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
EVENT_ID = "3f1b2c4d-0000-4000-8000-00000000abcd"

REASONS = {
    BotState.ASK: "The bot won't join unless you schedule it.",
    BotState.COVERED: "<@U0COLLEAGUE>'s bot already covers this meeting. Schedule to share it.",
    BotState.SCHEDULED: "You scheduled the bot for this meeting.",
    BotState.SKIPPED: "You skipped this meeting.",
    BotState.CANCELLED: "This meeting was cancelled, so no bot will join.",
    BotState.ENDED: "This meeting has ended.",
    BotState.NO_LINK: "This meeting has no video link, so a bot can't join.",
    BotState.DECLINED: "You declined this meeting, so your bot won't join.",
}

BUTTONS = {
    BotState.ASK: {ActionId.SCHEDULE_BOT, ActionId.SKIP_BOT},
    BotState.COVERED: {ActionId.SCHEDULE_BOT, ActionId.SKIP_BOT},
    BotState.SCHEDULED: {ActionId.UNDO_CHOICE},
    BotState.SKIPPED: {ActionId.UNDO_CHOICE},
    BotState.CANCELLED: set(),
    BotState.ENDED: set(),
    BotState.NO_LINK: set(),
    BotState.DECLINED: set(),
}

HOSTILE_TITLES = {
    "<!channel>": "&lt;!channel&gt;",
    "<https://evil|click>": "&lt;https://evil|click&gt;",
    "a & b": "a &amp; b",
    "<!here> <!everyone> <@U123> <#C123> <!subteam^S1>": "&lt;!here&gt; &lt;!everyone&gt; &lt;@U123&gt;",
    "&lt;already escaped&gt;": "&amp;lt;already escaped&amp;gt;",
}


def facts(**overrides: Any) -> MeetingFacts:
    base: dict[str, Any] = {
        "title": "Quarterly planning",
        "start_time": START,
        "end_time": START + timedelta(minutes=30),
        "meeting_url": "https://zoom.us/j/123",
        "meeting_platform": "zoom",
        "organizer": "ceo@example.com",
        "is_deleted": False,
        "self_response": "accepted",
        "series_id": None,
    }
    base.update(overrides)
    return MeetingFacts(**base)


def decision_for(state: BotState) -> Decision:
    covered_by = ("U0COLLEAGUE",) if state is BotState.COVERED else ()
    reason = {
        BotState.SCHEDULED: Reason.CLICK,
        BotState.SKIPPED: Reason.CLICK,
        BotState.ASK: Reason.NOBODY,
        BotState.COVERED: Reason.NOBODY,
    }.get(state, Reason.CALENDAR)
    return Decision(state, state is BotState.SCHEDULED, covered_by, reason)


@pytest.mark.parametrize("state", list(BotState))
def test_every_state_has_its_reason_in_the_message(state: BotState) -> None:
    assert reason(decision_for(state)) == REASONS[state]
    assert REASONS[state] in context_text(render(state=state))


def render(meeting: MeetingFacts | None = None, state: BotState = BotState.ASK) -> Message:
    return meeting_message(meeting or facts(), decision_for(state), event_id=EVENT_ID)


def all_text(message: Message) -> str:
    """Everything Slack would parse: fallback text plus every block, serialised."""
    return message.text + "\n" + json.dumps(message.blocks, ensure_ascii=False)


def section_text(message: Message) -> str:
    sections = [b for b in message.blocks if b["type"] == "section"]
    assert len(sections) == 1
    return sections[0]["text"]["text"]


def context_text(message: Message) -> str:
    contexts = [b for b in message.blocks if b["type"] == "context"]
    assert len(contexts) == 1
    return " ".join(e["text"] for e in contexts[0]["elements"])


def buttons(message: Message) -> list[dict[str, Any]]:
    return [element for block in message.blocks if block["type"] == "actions" for element in block["elements"]]


def assert_valid_block_kit(message: Message, *, limit: int = MAX_MESSAGE_BLOCKS) -> None:
    assert isinstance(message.blocks, list)
    assert 0 < len(message.blocks) <= limit
    for block in message.blocks:
        parsed = Block.parse(block)
        assert parsed is not None, block
        assert parsed.to_dict() == block  # round-trips, and slack_sdk's validators ran in to_dict()
    json.dumps(message.blocks)  # JSON-serialisable as sent to Slack
    assert message.text.strip()
    for button in buttons(message):
        assert len(button["text"]["text"]) <= MAX_BUTTON_TEXT
        assert button["text"]["type"] == "plain_text"
    for block in message.blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= MAX_SECTION_TEXT


# ---------------------------------------------------------------------------------------------------------------------
# Every state renders valid Block Kit with the right buttons
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", list(BotState))
def test_every_state_renders_valid_block_kit(state: BotState) -> None:
    message = render(state=state)
    assert_valid_block_kit(message)
    assert [b["type"] for b in message.blocks][:2] == ["section", "context"]
    assert STATE_LINES[state] in context_text(message)
    assert REASONS[state] in context_text(message)
    assert STATE_WORDS[state] in message.text
    assert message.as_kwargs() == {"text": message.text, "blocks": message.blocks}


def test_state_tables_cover_every_state() -> None:
    assert set(STATE_LINES) == set(BotState)
    assert set(STATE_WORDS) == set(BotState)
    assert set(BUTTONS) == set(BotState)


@pytest.mark.parametrize("state", list(BotState))
def test_buttons_per_state(state: BotState) -> None:
    message = render(state=state)
    found = buttons(message)
    assert {b["action_id"] for b in found} == BUTTONS[state]
    assert len(found) == len(BUTTONS[state])  # no duplicates
    for button in found:
        assert button["value"] == EVENT_ID
        assert button["type"] == "button"
        assert "url" not in button
    actions = [b for b in message.blocks if b["type"] == "actions"]
    if BUTTONS[state]:
        assert len(actions) == 1
        assert actions[0]["block_id"] == BlockId.MEETING_ACTIONS
        assert message.blocks[-1] is actions[0]
    else:
        assert actions == []
        assert len(message.blocks) == 2


def test_ask_and_covered_button_labels_and_styles() -> None:
    ask = {b["action_id"]: b for b in buttons(render(state=BotState.ASK))}
    assert ask[ActionId.SCHEDULE_BOT]["text"]["text"] == "Schedule bot"
    assert ask[ActionId.SCHEDULE_BOT]["style"] == "primary"
    assert ask[ActionId.SKIP_BOT]["text"]["text"] == "Skip"
    assert "style" not in ask[ActionId.SKIP_BOT]
    covered = {b["action_id"]: b for b in buttons(render(state=BotState.COVERED))}
    assert covered[ActionId.SCHEDULE_BOT]["text"]["text"] == "Share bot"
    undo = buttons(render(state=BotState.SCHEDULED))
    assert undo[0]["text"]["text"] == "Undo"


def test_action_ids_are_the_contract_strings() -> None:
    assert ActionId.SCHEDULE_BOT == "schedule_bot"
    assert ActionId.SKIP_BOT == "skip_bot"
    assert ActionId.UNDO_CHOICE == "undo_choice"


@pytest.mark.parametrize("choice", [None, Choice.SCHEDULE, Choice.SKIP])
@pytest.mark.parametrize("covered_by", [[], ["U1"], ["U1", "U2", "U3", "U4"]])
def test_real_decisions_render(choice: Choice | None, covered_by: list[str]) -> None:
    meeting = facts()
    decision = decide(meeting, choice=choice, covered_by=covered_by, now=NOW)
    message = meeting_message(meeting, decision, event_id=EVENT_ID)
    assert_valid_block_kit(message)
    assert reason(decision) in context_text(message)
    for user in covered_by[:3]:
        assert f"<@{user}>" in context_text(message)  # mentions survive: they are ours, not user text


# ---------------------------------------------------------------------------------------------------------------------
# Escaping user text
# ---------------------------------------------------------------------------------------------------------------------

ALLOWED_ANGLE_TOKEN = re.compile(r"<(!date\^\d+\^[^|<>]+\|[^<>]+|@U[A-Z0-9]+)>")


def assert_no_user_markup(message: Message) -> None:
    """The only `<...>` tokens anywhere are our date tokens and our own colleague mentions."""
    text = all_text(message)
    stripped = ALLOWED_ANGLE_TOKEN.sub("", text)
    assert "<" not in stripped, stripped
    assert ">" not in stripped, stripped
    assert "<http" not in text
    assert "<!channel" not in text
    assert "<!here" not in text
    assert "<!everyone" not in text
    for raw in re.findall(r"<![^>]*", text):
        assert raw.startswith("<!date^"), raw
    # Every ampersand is the start of one of the three entities Slack uses.
    assert not re.search(r"&(?!amp;|lt;|gt;)", text), text


@pytest.mark.parametrize("state", list(BotState))
@pytest.mark.parametrize("title", list(HOSTILE_TITLES))
def test_titles_are_escaped_in_blocks_and_fallback(title: str, state: BotState) -> None:
    message = render(facts(title=title), state)
    assert_valid_block_kit(message)
    escaped_prefix = HOSTILE_TITLES[title]
    assert escaped_prefix in section_text(message)
    assert escaped_prefix in message.text
    assert_no_user_markup(message)


def test_exact_escapes_for_the_three_examples() -> None:
    assert section_text(render(facts(title="<!channel>"))).startswith("*&lt;!channel&gt;*\n")
    assert section_text(render(facts(title="<https://evil|click>"))).startswith("*&lt;https://evil|click&gt;*\n")
    assert section_text(render(facts(title="a & b"))).startswith("*a &amp; b*\n")
    assert render(facts(title="<!channel>")).text.startswith("&lt;!channel&gt; (")
    assert render(facts(title="a & b")).text.startswith("a &amp; b (")


@pytest.mark.parametrize("field", ["organizer", "meeting_platform"])
def test_organizer_and_platform_are_escaped(field: str) -> None:
    message = render(facts(**{field: "<!channel> & <https://evil|x>"}))
    assert_valid_block_kit(message)
    assert_no_user_markup(message)
    assert "&lt;!" in section_text(message)


def test_hostile_everything_at_once() -> None:
    meeting = facts(
        title="<!channel> <https://evil|click> & co",
        organizer="<!here>@evil.com",
        meeting_platform="<!everyone>",
        series_id="<series>",
    )
    for state in BotState:
        message = render(meeting, state)
        assert_valid_block_kit(message)
        assert_no_user_markup(message)


# ---------------------------------------------------------------------------------------------------------------------
# Titles: empty, long
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("title", ["", " ", "   \t\n  "])
def test_empty_title_becomes_untitled(title: str) -> None:
    message = render(facts(title=title))
    assert UNTITLED == "Untitled meeting"
    assert section_text(message).startswith(f"*{UNTITLED}*\n")
    assert message.text.startswith(f"{UNTITLED} (")
    assert display_title(title) == UNTITLED


def test_title_is_stripped() -> None:
    assert display_title("  Standup \n") == "Standup"
    assert section_text(render(facts(title="  Standup \n"))).startswith("*Standup*\n")


@pytest.mark.parametrize("char", ["x", "&", "<", "é", "😀"])
@pytest.mark.parametrize("state", [BotState.ASK, BotState.CANCELLED])
def test_5000_char_title_stays_within_limits(char: str, state: BotState) -> None:
    title = char * 5000
    message = render(facts(title=title, organizer=char * 5000), state)
    assert_valid_block_kit(message)
    text = section_text(message)
    assert len(text) <= MAX_SECTION_TEXT
    assert "…" in text  # visibly truncated
    assert len(display_title(title)) == MAX_TITLE
    assert display_title(title).endswith("…")
    assert len(message.text) < 4000
    assert_no_user_markup(message)
    # The date tokens survive truncation.
    assert text.count("<!date^") == 2


def test_title_at_the_limit_is_not_truncated() -> None:
    title = "t" * MAX_TITLE
    assert display_title(title) == title
    assert display_title(title + "t") == "t" * (MAX_TITLE - 1) + "…"


# ---------------------------------------------------------------------------------------------------------------------
# Time: Slack date tokens with the right epochs, duration words
# ---------------------------------------------------------------------------------------------------------------------

DATE_TOKEN = re.compile(r"<!date\^(\d+)\^([^|]+)\|([^>]+)>")


@pytest.mark.parametrize(
    "start",
    [
        START,
        datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2))),
        datetime(2024, 4, 30, 23, 15, tzinfo=timezone(timedelta(hours=-7))),
        datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC),
    ],
)
def test_time_uses_slack_date_tokens_with_the_right_epochs(start: datetime) -> None:
    end = start + timedelta(minutes=45)
    message = render(facts(start_time=start, end_time=end))
    tokens = DATE_TOKEN.findall(section_text(message))
    assert len(tokens) == 2
    (start_epoch, start_format, start_fallback), (end_epoch, end_format, end_fallback) = tokens
    assert int(start_epoch) == int(start.timestamp())
    assert int(end_epoch) == int(end.timestamp())
    assert "{date_short_pretty}" in start_format
    assert "{time}" in start_format
    assert "{time}" in end_format
    # Fallbacks (for clients that can't render tokens) are in UTC and say so; the notification text is in the
    # member's zone (UTC when Slack never told us theirs).
    utc_start = start.astimezone(UTC)
    assert start_fallback == utc_start.strftime("%a %d %b %Y %H:%M UTC")
    assert end_fallback == end.astimezone(UTC).strftime("%H:%M UTC")
    assert "(45 min)" in section_text(message)
    assert utc_start.strftime("%a %d %b %H:%M UTC") in message.text


def test_known_epoch() -> None:
    message = render(facts(start_time=datetime.fromisoformat("2024-05-01T12:00:00+02:00")))
    assert "<!date^1714557600^" in section_text(message)  # 2024-05-01T10:00:00Z
    assert "<!date^1714559400^" in section_text(message)  # +30 min


@pytest.mark.parametrize(
    ("minutes", "words"),
    [
        (0, "0 min"),
        (1, "1 min"),
        (30, "30 min"),
        (59, "59 min"),
        (60, "1 h"),
        (61, "1 h 1 min"),
        (90, "1 h 30 min"),
        (120, "2 h"),
        (150, "2 h 30 min"),
        (24 * 60, "24 h"),
        (-15, "0 min"),
    ],
)
def test_duration_words(minutes: int, words: str) -> None:
    meeting = facts(end_time=START + timedelta(minutes=minutes))
    assert duration_words(meeting) == words
    assert f"({words})" in section_text(render(meeting))


def test_duration_ignores_seconds() -> None:
    assert duration_words(facts(end_time=START + timedelta(minutes=30, seconds=59))) == "30 min"


# ---------------------------------------------------------------------------------------------------------------------
# Platform, organiser, series, cancelled
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "name"),
    [
        ("zoom", "Zoom"),
        ("microsoft_teams", "Microsoft Teams"),
        ("microsoft_teams_live", "Microsoft Teams"),
        ("google_meet", "Google Meet"),
        ("webex", "Webex"),
        ("goto_meeting", "GoTo Meeting"),
        ("unknown_x", "Unknown X"),
        ("brand_new_platform", "Brand New Platform"),
    ],
)
def test_platform_names(platform: str, name: str) -> None:
    assert platform_name(platform) == name
    assert name in section_text(render(facts(meeting_platform=platform)))


@pytest.mark.parametrize("platform", [None, ""])
def test_no_platform_no_platform_line(platform: str | None) -> None:
    assert platform_name(platform) is None
    text = section_text(render(facts(meeting_platform=platform, organizer=None)))
    assert text.count("\n") == 1  # heading + time only
    assert "·" not in text


def test_every_known_platform_has_a_readable_name() -> None:
    for key, name in PLATFORM_NAMES.items():
        assert platform_name(key) == name
        assert "_" not in name


def test_organiser_line() -> None:
    text = section_text(render(facts(organizer="ceo@example.com")))
    assert "Zoom · organised by ceo@example.com" in text
    assert "organised by" not in section_text(render(facts(organizer=None)))


def test_recurring_series_is_mentioned() -> None:
    assert "part of a recurring series" in section_text(render(facts(series_id="series-1")))
    assert "recurring" not in section_text(render(facts(series_id=None)))
    only_series = section_text(render(facts(series_id="s", meeting_platform=None, organizer=None)))
    assert only_series.endswith("\npart of a recurring series")


@pytest.mark.parametrize("state", list(BotState))
def test_cancelled_title_is_struck_through(state: BotState) -> None:
    text = section_text(render(facts(title="Offsite"), state))
    if state is BotState.CANCELLED:
        assert text.startswith("~Offsite~\n")
        assert "*Offsite*" not in text
    else:
        assert text.startswith("*Offsite*\n")
        assert "~Offsite~" not in text


# ---------------------------------------------------------------------------------------------------------------------
# Purity
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", list(BotState))
def test_builder_is_pure(state: BotState) -> None:
    meeting = facts(title="<!channel> & stuff", series_id="s1")
    decision = decision_for(state)
    first = meeting_message(meeting, decision, event_id=EVENT_ID)
    second = meeting_message(meeting, decision, event_id=EVENT_ID)
    assert first == second
    assert first is not second
    assert json.dumps(first.blocks, sort_keys=True) == json.dumps(second.blocks, sort_keys=True)
    # Equal (not identical) inputs give equal outputs too.
    copy = MeetingFacts(**{f: getattr(meeting, f) for f in meeting.__dataclass_fields__})
    assert (
        meeting_message(
            copy, Decision(state, decision.wants_bot, decision.covered_by, decision.reason), event_id=EVENT_ID
        )
        == first
    )


def test_output_depends_on_what_the_member_sees() -> None:
    base = render()
    assert render(facts(title="Other")) != base
    assert render(facts(start_time=START + timedelta(minutes=5), end_time=START + timedelta(minutes=35))) != base
    assert render(state=BotState.SCHEDULED) != base
    assert meeting_message(facts(), decision_for(BotState.ASK), event_id="other-event") != base


@pytest.mark.parametrize(
    ("zone_name", "shown"),
    [
        ("Europe/Paris", "Wed 01 May 14:00 CEST"),
        ("America/Los_Angeles", "Wed 01 May 05:00 PDT"),
        ("Asia/Kolkata", "Wed 01 May 17:30 IST"),
        ("Pacific/Auckland", "Thu 02 May 00:00 NZST"),  # the next day there
        ("UTC", "Wed 01 May 12:00 UTC"),
    ],
)
def test_the_notification_text_shows_the_start_in_the_members_time_zone(zone_name: str, shown: str) -> None:
    # Push notifications show `text` as it is (no date tokens rendered there), so it is already local.
    start = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    meeting = facts(start_time=start, end_time=start + timedelta(minutes=30))
    message = meeting_message(
        meeting, decide(meeting, choice=None, covered_by=(), now=NOW), event_id="evt_1", tz=ZoneInfo(zone_name)
    )
    assert f"({shown}):" in message.text
    assert "<!date" not in message.text
    # The blocks are the same in every zone: Slack renders their tokens for each reader.
    assert (
        message.blocks
        == meeting_message(meeting, decide(meeting, choice=None, covered_by=(), now=NOW), event_id="evt_1").blocks
    )


def test_the_reminder_notification_is_local_too() -> None:
    start = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    meeting = facts(start_time=start, end_time=start + timedelta(minutes=30))
    row = Row("evt_1", meeting, decide(meeting, choice=None, covered_by=(), now=NOW))
    assert "(Wed 01 May 14:00 CEST)" in reminder_message(row, tz=ZoneInfo("Europe/Paris")).text
