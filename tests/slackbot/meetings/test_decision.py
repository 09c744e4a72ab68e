"""`decide()` and `dedup_key()`: the pure heart of the product, tested without servers."""

from __future__ import annotations

import dataclasses
import itertools
import random
import re
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from slackbot.meetings.decision import (
    ACTIONABLE,
    BotState,
    Choice,
    Decision,
    MeetingFacts,
    decide,
    dedup_key,
)
from slackbot.words.meetings import reason

try:
    from hypothesis import given
    from hypothesis import settings as hypothesis_settings
    from hypothesis import strategies as st

    HAVE_HYPOTHESIS = True
except ImportError:  # pragma: no cover - hypothesis is not in pyproject's [test] extra
    HAVE_HYPOTHESIS = False

NOW = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
URL = "https://zoom.us/j/123456789"


def facts(**overrides: object) -> MeetingFacts:
    base: dict[str, object] = {
        "title": "Weekly sync",
        "start_time": NOW + timedelta(hours=1),
        "end_time": NOW + timedelta(hours=1, minutes=30),
        "meeting_url": URL,
        "meeting_platform": "zoom",
        "organizer": "boss@example.com",
        "is_deleted": False,
        "self_response": "accepted",
        "series_id": None,
    }
    base.update(overrides)
    return MeetingFacts(**base)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------------------------
# decide(): precedence cancelled > ended > no link > declined > choice > covered > ask
# ---------------------------------------------------------------------------------------------------------------------


def _expected_state(*, deleted: bool, ended: bool, link: bool, declined: bool, choice: Choice | None, covered: bool):
    """An independent oracle for the documented precedence."""
    if deleted:
        return BotState.CANCELLED
    if ended:
        return BotState.ENDED
    if not link:
        return BotState.NO_LINK
    if declined:
        return BotState.DECLINED
    if choice is Choice.SCHEDULE:
        return BotState.SCHEDULED
    if choice is Choice.SKIP:
        return BotState.SKIPPED
    if covered:
        return BotState.COVERED
    return BotState.ASK


ALL_COMBINATIONS = list(
    itertools.product(
        [False, True],  # deleted
        [False, True],  # ended
        [True, False],  # has a link
        [False, True],  # declined
        [None, Choice.SCHEDULE, Choice.SKIP],
        [False, True],  # covered by a colleague
    )
)


def _combo_id(combo: tuple) -> str:
    deleted, ended, link, declined, choice, covered = combo
    parts = [
        "deleted" if deleted else "",
        "ended" if ended else "",
        "" if link else "nolink",
        "declined" if declined else "",
        f"choice={choice.value}" if choice else "",
        "covered" if covered else "",
    ]
    return "-".join(p for p in parts if p) or "plain"


@pytest.mark.parametrize("combo", ALL_COMBINATIONS, ids=[_combo_id(c) for c in ALL_COMBINATIONS])
def test_decide_exhaustive_precedence_table(combo: tuple) -> None:
    deleted, ended, link, declined, choice, covered = combo
    meeting = facts(
        is_deleted=deleted,
        start_time=NOW - timedelta(hours=2) if ended else NOW + timedelta(hours=1),
        end_time=NOW - timedelta(hours=1) if ended else NOW + timedelta(hours=2),
        meeting_url=URL if link else None,
        self_response="declined" if declined else "accepted",
    )
    covered_by = ["U0COLLEAGUE"] if covered else []

    decision = decide(meeting, choice=choice, covered_by=covered_by, now=NOW)

    expected = _expected_state(
        deleted=deleted, ended=ended, link=link, declined=declined, choice=choice, covered=covered
    )
    assert isinstance(decision, Decision)
    assert decision.state is expected
    # Our bot is wanted only when the member chose SCHEDULE on a live meeting with a link they haven't declined.
    assert decision.wants_bot is (expected is BotState.SCHEDULED)
    assert decision.actionable is (expected in ACTIONABLE)
    assert decision.worth_a_new_message is decision.actionable
    assert reason(decision).strip()
    assert reason(decision).endswith(".")
    # Colleagues are only mentioned where they matter to what the member can do.
    if expected in (BotState.SCHEDULED, BotState.SKIPPED, BotState.COVERED) and covered:
        assert "<@U0COLLEAGUE>" in reason(decision)
    else:
        assert "<@" not in reason(decision)


@pytest.mark.parametrize(
    ("overrides", "choice", "covered_by", "state"),
    [
        pytest.param(
            {
                "is_deleted": True,
                "end_time": NOW - timedelta(minutes=1),
                "start_time": NOW - timedelta(hours=1),
                "meeting_url": None,
                "self_response": "declined",
            },
            Choice.SCHEDULE,
            ["U1"],
            BotState.CANCELLED,
            id="cancelled-beats-everything",
        ),
        pytest.param(
            {
                "end_time": NOW - timedelta(minutes=1),
                "start_time": NOW - timedelta(hours=1),
                "meeting_url": None,
                "self_response": "declined",
            },
            Choice.SCHEDULE,
            ["U1"],
            BotState.ENDED,
            id="ended-beats-no-link-declined-choice",
        ),
        pytest.param(
            {"meeting_url": None, "self_response": "declined"},
            Choice.SCHEDULE,
            ["U1"],
            BotState.NO_LINK,
            id="no-link-beats-declined-and-choice",
        ),
        pytest.param({"meeting_url": ""}, None, [], BotState.NO_LINK, id="empty-link-is-no-link"),
        pytest.param(
            {"self_response": "declined"}, Choice.SCHEDULE, ["U1"], BotState.DECLINED, id="declined-beats-choice"
        ),
        pytest.param({}, Choice.SCHEDULE, ["U1"], BotState.SCHEDULED, id="schedule-beats-covered"),
        pytest.param({}, Choice.SKIP, ["U1"], BotState.SKIPPED, id="skip-beats-covered"),
        pytest.param({}, None, ["U1"], BotState.COVERED, id="covered-beats-ask"),
        pytest.param({}, None, [], BotState.ASK, id="ask"),
    ],
)
def test_decide_precedence_examples(overrides: dict, choice: Choice | None, covered_by: list[str], state) -> None:
    decision = decide(facts(**overrides), choice=choice, covered_by=covered_by, now=NOW)
    assert decision.state is state
    assert decision.wants_bot is (state is BotState.SCHEDULED)


@pytest.mark.parametrize("response", [None, "accepted", "tentative", "needsAction"])
def test_only_declined_response_silences_the_meeting(response: str | None) -> None:
    assert decide(facts(self_response=response), choice=None, covered_by=[], now=NOW).state is BotState.ASK
    scheduled = decide(facts(self_response=response), choice=Choice.SCHEDULE, covered_by=[], now=NOW)
    assert scheduled.state is BotState.SCHEDULED
    assert scheduled.wants_bot is True


def test_meeting_ending_exactly_now_has_ended() -> None:
    meeting = facts(start_time=NOW - timedelta(hours=1), end_time=NOW)
    decision = decide(meeting, choice=Choice.SCHEDULE, covered_by=[], now=NOW)
    assert decision.state is BotState.ENDED
    assert decision.wants_bot is False
    assert decision.worth_a_new_message is False


def test_meeting_in_progress_is_still_live() -> None:
    meeting = facts(start_time=NOW - timedelta(minutes=10), end_time=NOW + timedelta(microseconds=1))
    decision = decide(meeting, choice=Choice.SCHEDULE, covered_by=[], now=NOW)
    assert decision.state is BotState.SCHEDULED
    assert decision.wants_bot is True


def test_now_in_another_timezone_compares_instants() -> None:
    tokyo = timezone(timedelta(hours=9))
    meeting = facts(start_time=NOW - timedelta(hours=1), end_time=NOW + timedelta(minutes=5))
    # 18:04 in Tokyo is 09:04 UTC: one minute before the end.
    assert decide(meeting, choice=None, covered_by=[], now=datetime(2024, 5, 1, 18, 4, tzinfo=tokyo)).state is (
        BotState.ASK
    )
    # 18:06 in Tokyo is 09:06 UTC: after the end.
    assert decide(meeting, choice=None, covered_by=[], now=datetime(2024, 5, 1, 18, 6, tzinfo=tokyo)).state is (
        BotState.ENDED
    )


@pytest.mark.parametrize("choice", [None, Choice.SCHEDULE, Choice.SKIP])
@pytest.mark.parametrize(
    "overrides",
    [
        {"is_deleted": True},
        {"start_time": NOW - timedelta(hours=2), "end_time": NOW - timedelta(hours=1)},
        {"meeting_url": None},
        {"self_response": "declined"},
    ],
    ids=["cancelled", "ended", "no-link", "declined"],
)
def test_dead_meetings_never_want_a_bot_nor_a_message(overrides: dict, choice: Choice | None) -> None:
    decision = decide(facts(**overrides), choice=choice, covered_by=["U1", "U2"], now=NOW)
    assert decision.wants_bot is False
    assert decision.actionable is False
    assert decision.worth_a_new_message is False


def test_wants_bot_only_for_schedule() -> None:
    for choice in (None, Choice.SKIP):
        for covered_by in ([], ["U1"]):
            assert decide(facts(), choice=choice, covered_by=covered_by, now=NOW).wants_bot is False
    for covered_by in ([], ["U1"]):
        assert decide(facts(), choice=Choice.SCHEDULE, covered_by=covered_by, now=NOW).wants_bot is True


def test_actionable_set_is_exactly_the_four_live_states() -> None:
    assert frozenset({BotState.ASK, BotState.COVERED, BotState.SCHEDULED, BotState.SKIPPED}) == ACTIONABLE
    for state in BotState:
        assert Decision(state, False, "x.").worth_a_new_message is (state in ACTIONABLE)


# ---------------------------------------------------------------------------------------------------------------------
# Reasons: words for the member, colleagues as <@U…>
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "choice", "fragment"),
    [
        ({"is_deleted": True}, None, "cancelled"),
        ({"start_time": NOW - timedelta(hours=2), "end_time": NOW - timedelta(hours=1)}, None, "ended"),
        ({"meeting_url": None}, None, "no video link"),
        ({"self_response": "declined"}, None, "declined"),
        ({}, Choice.SCHEDULE, "You scheduled the bot"),
        ({}, Choice.SKIP, "You skipped this meeting"),
        ({}, None, "won't join unless you schedule it"),
    ],
)
def test_reason_explains_the_state(overrides: dict, choice: Choice | None, fragment: str) -> None:
    text = reason(decide(facts(**overrides), choice=choice, covered_by=[], now=NOW))
    assert fragment in text
    assert "<@" not in text


@pytest.mark.parametrize(
    ("covered_by", "names"),
    [
        (["U1"], "<@U1>"),
        (["U1", "U2"], "<@U1> and <@U2>"),
        (["U1", "U2", "U3"], "<@U1>, <@U2> and <@U3>"),
        (["U1", "U2", "U3", "U4"], "<@U1>, <@U2>, <@U3> and 1 more"),
        (["U1", "U2", "U3", "U4", "U5", "U6"], "<@U1>, <@U2>, <@U3> and 3 more"),
    ],
    ids=["one", "two", "three", "four", "six"],
)
def test_colleague_wording(covered_by: list[str], names: str) -> None:
    covered = decide(facts(), choice=None, covered_by=covered_by, now=NOW)
    assert covered.state is BotState.COVERED
    assert reason(covered) == f"{names}'s bot already covers this meeting. Schedule to share it."

    scheduled = decide(facts(), choice=Choice.SCHEDULE, covered_by=covered_by, now=NOW)
    assert reason(scheduled) == f"You scheduled the bot for this meeting. It's the same bot as {names}'s."

    skipped = decide(facts(), choice=Choice.SKIP, covered_by=covered_by, now=NOW)
    assert reason(skipped) == f"You skipped this meeting. {names}'s bot will still record it."

    # Every mention is a real Slack user mention, never a bare id; at most three are named.
    mentioned = re.findall(r"<@([A-Z0-9]+)>", reason(covered))
    assert mentioned == covered_by[:3]
    assert "U4" not in reason(covered).replace("<@U4>", "")


def test_covered_by_accepts_any_sequence_and_is_not_mutated() -> None:
    colleagues = ("U1", "U2")
    as_list = ["U1", "U2"]
    assert decide(facts(), choice=None, covered_by=colleagues, now=NOW) == decide(
        facts(), choice=None, covered_by=as_list, now=NOW
    )
    assert as_list == ["U1", "U2"]


def test_decide_is_pure() -> None:
    meeting = facts()
    first = decide(meeting, choice=Choice.SKIP, covered_by=["U1"], now=NOW)
    second = decide(meeting, choice=Choice.SKIP, covered_by=["U1"], now=NOW)
    assert first == second
    assert hash(first) == hash(second)
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.state = BotState.ASK  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        meeting.title = "changed"  # type: ignore[misc]


def test_choice_and_state_values_are_stable_strings() -> None:
    # Persisted in the database and used in ids: renaming a value is a migration.
    assert [c.value for c in Choice] == ["schedule", "skip"]
    assert {s.value for s in BotState} == {
        "ask",
        "covered",
        "scheduled",
        "skipped",
        "cancelled",
        "ended",
        "no_link",
        "declined",
    }


# ---------------------------------------------------------------------------------------------------------------------
# dedup_key(): `{start_time}-{meeting_url}` with the start in one UTC ISO form
# ---------------------------------------------------------------------------------------------------------------------

EXPECTED_KEY = f"2024-05-01T10:00:00Z-{URL}"


@pytest.mark.parametrize(
    "iso",
    [
        "2024-05-01T10:00:00+00:00",
        "2024-05-01T10:00:00Z",
        "2024-05-01T10:00:00.000000+00:00",
        "2024-05-01T10:00:00.000Z",
        "2024-05-01T12:00:00+02:00",
        "2024-05-01T05:00:00-05:00",
        "2024-05-01T15:30:00+05:30",
        "2024-04-30T23:00:00-11:00",
        "2024-05-01T10:00:00.000001+00:00",
        "2024-05-01T10:00:00.999999Z",
    ],
)
def test_dedup_key_normalises_the_same_instant(iso: str) -> None:
    assert dedup_key(datetime.fromisoformat(iso), URL) == EXPECTED_KEY


@pytest.mark.parametrize("url", [URL, f"  {URL}", f"{URL}  ", f"\t{URL}\n", f" \n {URL} \r\n"])
def test_dedup_key_strips_url_whitespace(url: str) -> None:
    assert dedup_key(datetime(2024, 5, 1, 10, tzinfo=UTC), url) == EXPECTED_KEY


def test_dedup_key_distinguishes_time_and_url() -> None:
    start = datetime(2024, 5, 1, 10, tzinfo=UTC)
    keys = {
        dedup_key(start, URL),
        dedup_key(start + timedelta(seconds=1), URL),
        dedup_key(start + timedelta(minutes=30), URL),
        dedup_key(start + timedelta(days=1), URL),
        dedup_key(start, URL + "0"),
        dedup_key(start, "https://meet.google.com/abc-defg-hij"),
    }
    assert len(keys) == 6


def test_dedup_key_shape() -> None:
    key = dedup_key(datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-3))), URL)
    assert key == f"2024-01-02T06:04:05Z-{URL}"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z-\S+", key)


def test_dedup_key_crosses_day_and_year_boundaries() -> None:
    new_years_eve_in_new_york = datetime(2023, 12, 31, 21, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert dedup_key(new_years_eve_in_new_york, URL) == f"2024-01-01T02:30:00Z-{URL}"


def _same_instant_elsewhere(moment: datetime, rng: random.Random) -> datetime:
    offset = timedelta(minutes=rng.randint(-14 * 60, 14 * 60))
    return moment.astimezone(timezone(offset))


def test_dedup_key_property_equal_instants_equal_keys_seeded() -> None:
    """Runs without hypothesis too: 2000 random instants, each seen from random offsets."""
    rng = random.Random(20240501)
    seen: dict[str, datetime] = {}
    for _ in range(2000):
        moment = datetime(2000, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randint(0, 60 * 365 * 24 * 3600))
        key = dedup_key(moment, URL)
        for _ in range(3):
            assert dedup_key(_same_instant_elsewhere(moment, rng), f" {URL} ") == key
            assert dedup_key(moment + timedelta(microseconds=rng.randint(0, 999_999)), URL) == key
        # Distinct seconds give distinct keys.
        assert seen.setdefault(key, moment) == moment


if HAVE_HYPOTHESIS:
    offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
        lambda minutes: timezone(timedelta(minutes=minutes))
    )
    instants = st.datetimes(min_value=datetime(1971, 1, 2), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)).map(
        lambda d: d.replace(microsecond=0)
    )

    @hypothesis_settings(max_examples=300, deadline=None, database=None)
    @given(
        moment=instants,
        first=offsets,
        second=offsets,
        micros=st.integers(min_value=0, max_value=999_999),
        url=st.from_regex(r"https://[a-z]{1,10}\.example/[A-Za-z0-9_-]{0,20}", fullmatch=True),
        padding=st.sampled_from(["", " ", "\t", "\n", "  \r\n"]),
    )
    def test_dedup_key_property_equal_instants_equal_keys(
        moment: datetime, first: timezone, second: timezone, micros: int, url: str, padding: str
    ) -> None:
        a = moment.astimezone(first)
        b = (moment + timedelta(microseconds=micros)).astimezone(second)
        assert a == moment
        key = dedup_key(a, url)
        assert dedup_key(b, padding + url + padding) == key
        assert key == moment.strftime("%Y-%m-%dT%H:%M:%SZ") + "-" + url
        assert dedup_key(moment + timedelta(seconds=1), url) != key

else:  # pragma: no cover

    def test_dedup_key_property_equal_instants_equal_keys() -> None:
        pytest.skip("hypothesis is not installed (add it to pyproject's [test] extra)")


def test_dedup_key_is_utc_whatever_the_servers_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        start = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
        assert dedup_key(start, "https://meet.google.com/abc") == "2026-12-01T15:00:00Z-https://meet.google.com/abc"
    finally:
        monkeypatch.undo()
        time.tzset()
