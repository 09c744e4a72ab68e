"""Decide once (issue #7): recording rules, keywords, series choices and workspace policy, through
`/slack/events` only, on Google and Outlook calendars, with messages updated in place."""

from __future__ import annotations

from typing import Any

import pytest

from storage.models import Member, WorkspacePolicy
from tests.conftest import TEAM_ID
from tests.scenarios.harness import Harness
from tests.scenarios.test_meetings import ADA, BOB, buttons, connect, message_for, soon
from tests.twins.fake_slack import Message, checkboxes_action, select_action

CAROL = "U0CAROL001"  # a workspace admin
PARTNER = "zed@partner.test"


def say(h: Harness, text: str, user_id: str = ADA) -> list[str]:
    """Send `/recall <text>`; returns what the app answered (ack and response_url)."""
    response, name = h.slash(text, user_id=user_id)
    assert response.status_code == 200, response.text
    h.wait_idle()
    ack = (
        response.json().get("text")
        if response.content and response.headers.get("content-type", "").startswith("application/json")
        else None
    )
    return ([ack] if ack else []) + h.replies(name)


def current(h: Harness, user_id: str, event_id: str) -> Message:
    """The meeting's message as it is now (found by its ts: a message without buttons no longer names the event)."""
    seen: dict[str, Message] = h.__dict__.setdefault("first_seen", {})
    first = seen.get(event_id) or seen.setdefault(event_id, message_for(h, user_id, event_id))
    return h.slack.message(first.channel, first.ts)


def context(h: Harness, user_id: str, event_id: str) -> str:
    message = current(h, user_id, event_id)
    return " ".join(
        element.get("text", "")
        for block in message.blocks or []
        if block.get("type") == "context"
        for element in block.get("elements", [])
    )


def bot(h: Harness, event_id: str) -> dict[str, Any] | None:
    return h.recall.bot_for_event(event_id)


def posts(h: Harness) -> int:
    return len(h.slack.calls_to("chat.postMessage"))


def policy_unset(h: Harness) -> bool:
    """No admin has set anything (the row may exist: it also remembers the app's id)."""
    return all(
        (p.default_rule, p.excluded_keywords, p.domains, p.enforce_external, p.bot_name) == (None, [], [], False, None)
        for p in h.rows(WorkspacePolicy)
    )


@pytest.fixture
def carol(h: Harness) -> str:
    h.slack.add_user(TEAM_ID, CAROL, name="carol", is_admin=True)
    return CAROL


def test_a_rule_decides_every_upcoming_meeting_and_says_so(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    mine = h.recall.add_event(cal, start_time=soon(30), title="Team sync", attendees=["bob@acme.test"])
    theirs = h.recall.add_event(
        cal, start_time=soon(31), title="Partner call", organizer_email=PARTNER, self_response="accepted"
    )
    h.sync(cal)
    assert "won't join unless you schedule it" in context(h, ADA, mine["id"])
    before = posts(h)

    shown = say(h, "rule")
    assert any("ask each time" in t and "`organised`" in t for t in shown)

    replies = say(h, "rule organised")
    assert any(
        "Your rule is now *meetings you organise*" in t and "1 upcoming meeting will now be recorded" in t
        for t in replies
    )
    assert bot(h, mine["id"]) is not None and bot(h, theirs["id"]) is None
    assert "Recording, by your rule *meetings you organise*" in context(h, ADA, mine["id"])
    assert "Not recording: your rule is *meetings you organise*, and you don't organise this one." in context(
        h, ADA, theirs["id"]
    )
    assert buttons(message_for(h, ADA, mine["id"])) == ["skip_bot"]  # override the rule for this one
    assert buttons(message_for(h, ADA, theirs["id"])) == ["schedule_bot"]
    assert posts(h) == before  # updated in place, no new DM per meeting

    # The same rule again changes nothing: no Recall call, no Slack update.
    h.slack.reset_calls()
    recall_calls = len(h.recall.calls)
    assert any("No upcoming meeting changes." in t for t in say(h, "rule mine"))
    assert len(h.recall.calls) == recall_calls
    assert h.slack.calls_to("chat.update") == []

    # A click still wins over the rule.
    h.click(action_id="skip_bot", value=mine["id"], user_id=ADA)
    assert bot(h, mine["id"]) is None
    assert "You skipped this meeting." in context(h, ADA, mine["id"])
    assert any("1 upcoming meeting will now be recorded." in t for t in say(h, "rule all"))
    assert bot(h, theirs["id"]) is not None  # `all` covers the partner call
    assert bot(h, mine["id"]) is None  # the click still wins

    replies = say(h, "rule ask")
    assert any("1 upcoming meeting no longer" in t for t in replies)
    assert bot(h, theirs["id"]) is None


def test_external_internal_and_accepted(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    outside_tentative = h.recall.add_event(
        cal, start_time=soon(30), title="Vendor", organizer_email=PARTNER, self_response="tentative"
    )
    inside = h.recall.add_event(cal, start_time=soon(31), title="Standup", attendees=["bob@acme.test"])
    freemail = h.recall.add_event(cal, start_time=soon(32), title="Contractor", attendees=["sam@gmail.com"])
    room_only = h.recall.add_event(
        cal,
        start_time=soon(33),
        title="Focus",
        raw_extra={
            "attendees": [
                {"email": "room-1@resource.calendar.google.com", "resource": True, "responseStatus": "accepted"}
            ]
        },
    )
    h.sync(cal)

    say(h, "rule external")
    assert [bool(bot(h, e["id"])) for e in (outside_tentative, inside, freemail, room_only)] == [
        True,
        False,
        True,
        False,
    ]
    assert "everyone in this one is from your company" in context(h, ADA, inside["id"])

    replies = say(h, "rule external accepted")
    assert any("1 upcoming meeting no longer" in t for t in replies)
    assert bot(h, outside_tentative["id"]) is None and bot(h, freemail["id"]) is not None
    assert "you haven't accepted this one" in context(h, ADA, outside_tentative["id"])

    say(h, "rule internal")
    assert [bool(bot(h, e["id"])) for e in (outside_tentative, inside, freemail, room_only)] == [
        False,
        True,
        False,
        True,
    ]
    assert "someone in this one is from outside your company" in context(h, ADA, freemail["id"])


def test_declined_meetings_are_never_recorded_whatever_the_rule(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    declined = h.recall.add_event(
        cal, start_time=soon(30), title="Declined", organizer_email=PARTNER, self_response="declined"
    )
    h.sync(cal)
    say(h, "rule all")
    assert bot(h, declined["id"]) is None


def test_outlook_events_follow_the_rules_too(h: Harness) -> None:
    cal = connect(h, ADA, "ada@contoso.test", provider="microsoft")
    organised = h.recall.add_event(cal, start_time=soon(30), title="Design review", attendees=["bob@contoso.test"])
    external = h.recall.add_event(
        cal, start_time=soon(31), title="Customer call", organizer_email="lee@customer.test", self_response="accepted"
    )
    h.sync(cal)
    say(h, "rule organised")
    assert bot(h, organised["id"]) is not None and bot(h, external["id"]) is None
    say(h, "rule external")
    assert bot(h, organised["id"]) is None and bot(h, external["id"]) is not None


def test_keywords_keep_meetings_out_of_a_rule_but_a_click_still_records(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    interview = h.recall.add_event(cal, start_time=soon(30), title="Interview: Sam Doe")
    interviewer = h.recall.add_event(cal, start_time=soon(31), title="Interviewer sync")
    h.sync(cal)
    say(h, "rule all")
    assert bot(h, interview["id"]) and bot(h, interviewer["id"])

    replies = say(h, "exclude add interview")
    assert any("*interview*" in t and "1 upcoming meeting no longer" in t for t in replies)
    assert bot(h, interview["id"]) is None and bot(h, interviewer["id"]) is not None  # whole words only
    assert "Not recording: the title contains *interview*." in context(h, ADA, interview["id"])
    assert any("*interview*" in t for t in say(h, "exclude"))
    assert any("already excluded" in t for t in say(h, "exclude add Interview"))

    h.click(action_id="schedule_bot", value=interview["id"], user_id=ADA)
    assert bot(h, interview["id"]) is not None

    assert any("no longer excluded" in t for t in say(h, "exclude remove INTERVIEW"))
    assert any("isn't in the list" in t for t in say(h, "exclude remove interview"))


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("rule sometimes", "I don't know the rule"),
        ("rule all accepted please", "I don't know the rule"),
        ("rule ask accepted", "`accepted` goes with a rule that records"),
        ("exclude add", "nothing to add"),
        ("exclude add    ", "nothing to add"),
        ("exclude add " + "x" * 5000, "at most 100 characters"),
        ("exclude add <!channel>", "can't be used here"),
        ("exclude forget it", "I don't know `/recall exclude forget`"),
    ],
)
def test_bad_input_gets_a_clear_answer_and_changes_nothing(h: Harness, text: str, fragment: str) -> None:
    connect(h, ADA, "ada@acme.test")
    before = [(m.rule, m.rule_accepted_only, list(m.excluded_keywords)) for m in h.rows(Member)]
    replies = say(h, text)
    assert any(fragment in t for t in replies), replies
    assert any("Nothing was changed" in t or "nothing was changed" in t for t in replies), replies
    assert [(m.rule, m.rule_accepted_only, list(m.excluded_keywords)) for m in h.rows(Member)] == before


def test_series_choices_cover_every_occurrence_until_undone(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    weekly = [
        h.recall.add_event(cal, start_time=soon(30 + 24 * 7 * i), title="Weekly 1:1", recurring_series_id="wk")
        for i in range(3)
    ]
    h.sync(cal)
    assert buttons(message_for(h, ADA, weekly[0]["id"])) == ["schedule_bot", "skip_bot", "record_series", "skip_series"]

    _, name = h.click(action_id="record_series", value=weekly[1]["id"], user_id=ADA)
    h.wait_idle()
    assert any("Every occurrence of this series will be recorded" in t for t in h.replies(name))
    assert all(bot(h, e["id"]) for e in weekly)
    assert "you chose every occurrence of this series" in context(h, ADA, weekly[2]["id"])
    assert buttons(message_for(h, ADA, weekly[0]["id"])) == ["skip_bot", "undo_series"]

    # A click on one occurrence still wins for that occurrence.
    h.click(action_id="skip_bot", value=weekly[1]["id"], user_id=ADA)
    assert bot(h, weekly[1]["id"]) is None and bot(h, weekly[0]["id"]) is not None

    # A new occurrence is covered by the series choice.
    later = h.recall.add_event(cal, start_time=soon(30 + 24 * 7 * 3), title="Weekly 1:1", recurring_series_id="wk")
    h.sync(cal)
    assert bot(h, later["id"]) is not None

    h.click(action_id="undo_series", value=weekly[0]["id"], user_id=ADA)
    h.wait_idle()
    assert [bool(bot(h, e["id"])) for e in (*weekly, later)] == [False, False, False, False]
    assert "won't join unless you schedule it" in context(h, ADA, weekly[0]["id"])
    assert "You skipped this meeting." in context(h, ADA, weekly[1]["id"])

    h.click(action_id="skip_series", value=weekly[0]["id"], user_id=ADA)
    h.wait_idle()
    say(h, "rule all")
    assert all(bot(h, e["id"]) is None for e in (*weekly, later))  # "never" beats the rule

    _, name = h.click(action_id="record_series", value=weekly[0]["id"], user_id=BOB)
    assert any("someone else's calendar" in t for t in h.replies(name))


def test_admins_set_the_workspace_policy_and_others_cannot(h: Harness, carol: str) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    partner = h.recall.add_event(
        cal, start_time=soon(30), title="Partner sync", organizer_email=PARTNER, self_response="accepted"
    )
    inside = h.recall.add_event(cal, start_time=soon(31), title="Planning", attendees=["bob@acme.test"])
    h.sync(cal)
    current(h, ADA, partner["id"])  # remember where its message is, before its buttons go

    for text in ("admin", "admin rule all", "admin enforce external", "admin domain add partner.test"):
        assert any("Only workspace admins and owners" in t for t in say(h, text, user_id=BOB))
    assert policy_unset(h)

    shown = say(h, "admin", user_id=carol)
    assert any("*Workspace policy*" in t and "Acme Notetaker" in t for t in shown)

    replies = say(h, "admin rule external", user_id=carol)
    assert any("default rule is now *meetings with people from outside your company*" in t for t in replies)
    assert any("1 upcoming meeting will now be recorded" in t for t in replies)
    assert bot(h, partner["id"]) is not None and bot(h, inside["id"]) is None
    assert "by your workspace's default rule" in context(h, ADA, partner["id"])

    # A member's own rule wins over the workspace default.
    say(h, "rule ask")
    assert bot(h, partner["id"]) is None
    say(h, "rule organised")

    # The partner's domain becomes a company domain: the meeting is internal now.
    assert any("`partner.test` now counts" in t for t in say(h, "admin domain add partner.test", user_id=carol))
    say(h, "rule external")
    assert bot(h, partner["id"]) is None
    assert any("no longer counts" in t for t in say(h, "admin domain remove partner.test", user_id=carol))
    assert bot(h, partner["id"]) is not None

    # Enforcement: external meetings are recorded for everyone and cannot be skipped.
    say(h, "rule ask")
    assert bot(h, partner["id"]) is None
    say(h, "admin enforce external", user_id=carol)
    assert bot(h, partner["id"]) is not None
    assert "workspace policy records all external meetings" in context(h, ADA, partner["id"])
    assert buttons(current(h, ADA, partner["id"])) == []
    _, name = h.click(action_id="skip_bot", value=partner["id"], user_id=ADA)
    assert any("can't be skipped" in t for t in h.replies(name))
    assert bot(h, partner["id"]) is not None
    say(h, "admin enforce none", user_id=carol)
    assert bot(h, partner["id"]) is None

    # Keywords for everyone.
    say(h, "rule all")
    assert any("for anyone" in t for t in say(h, "admin exclude add Planning", user_id=carol))
    assert bot(h, inside["id"]) is None
    assert "excluded for this workspace" in context(h, ADA, inside["id"])

    # The bot's name for this workspace.
    assert any("*Acme Recorder*" in t for t in say(h, "admin bot-name Acme Recorder", user_id=carol))
    fresh = h.recall.add_event(cal, start_time=soon(40), title="Kickoff")
    h.sync(cal)
    assert bot(h, fresh["id"])["bot_config"]["bot_name"] == "Acme Recorder"
    assert any("Acme Notetaker" in t and "the default" in t for t in say(h, "admin bot-name reset", user_id=carol))


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("admin rule sometimes", "I don't know the rule"),
        ("admin domain add acme", "isn't a domain"),
        ("admin domain add gmail.com", "free-mail provider"),
        ("admin domain add", "nothing to add"),
        ("admin domain drop acme.test", "Use `/recall admin domain add"),
        ("admin exclude add " + "y" * 5000, "at most 100 characters"),
        ("admin enforce maybe", "`/recall admin enforce external`"),
        ("admin bot-name", "1 to 100 characters"),
        ("admin bot-name " + "n" * 101, "at most 100 characters"),
        ("admin bot-name <!here> bot", "can't contain Slack markup"),
        ("admin frobnicate", "I don't know `/recall admin frobnicate`"),
    ],
)
def test_bad_admin_input_changes_nothing(h: Harness, carol: str, text: str, fragment: str) -> None:
    replies = say(h, text, user_id=carol)
    assert any(fragment in t for t in replies), replies
    assert policy_unset(h)


def test_the_app_home_sets_the_rule_and_shows_admins_the_policy(h: Harness, carol: str) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    mine = h.recall.add_event(
        cal, start_time=soon(30), title="Mine", self_response="tentative", attendees=["bob@acme.test"]
    )
    h.sync(cal)
    h.event({"type": "app_home_opened", "user": ADA, "channel": "D0ADA00001", "tab": "home", "event_ts": "1.0"})
    home = h.slack.home_view(ADA, TEAM_ID)
    assert any(b.get("block_id") == "home_rule" for b in home["blocks"])
    assert not any("Workspace policy" in str(b) for b in home["blocks"])  # Ada is no admin

    h.click_home(
        action_id="home_rule",
        value="",
        user_id=ADA,
        action=select_action(action_id="home_rule", block_id="home_rule", value="organised"),
    )
    assert bot(h, mine["id"]) is not None
    home = h.slack.home_view(ADA, TEAM_ID)
    assert "Your rule is now *meetings you organise*" in str(home["blocks"])
    assert any(b.get("block_id") == "home_rule_accepted" for b in home["blocks"])

    h.click_home(
        action_id="home_rule_accepted",
        value="",
        user_id=ADA,
        action=checkboxes_action(action_id="home_rule_accepted", block_id="home_rule_accepted", values=["accepted"]),
    )
    assert bot(h, mine["id"]) is None  # tentative
    assert [m.rule_accepted_only for m in h.rows(Member, Member.slack_user_id == ADA)] == [True]

    # A tampered value changes nothing.
    h.click_home(
        action_id="home_rule",
        value="",
        user_id=ADA,
        action=select_action(action_id="home_rule", block_id="home_rule", value="everything"),
    )
    assert [m.rule for m in h.rows(Member, Member.slack_user_id == ADA)] == ["organised"]

    # Admins see the workspace section and can set the default and enforcement from it; members cannot.
    h.event({"type": "app_home_opened", "user": carol, "channel": "D0CAR00001", "tab": "home", "event_ts": "2.0"})
    assert "Workspace policy (admins)" in str(h.slack.home_view(carol, TEAM_ID)["blocks"])
    h.click_home(
        action_id="home_admin_enforce",
        value="",
        user_id=ADA,
        action=select_action(action_id="home_admin_enforce", block_id="home_admin_enforce", value="external"),
    )
    assert policy_unset(h)
    h.click_home(
        action_id="home_admin_rule",
        value="",
        user_id=carol,
        action=select_action(action_id="home_admin_rule", block_id="home_admin_rule", value="all"),
    )
    assert [p.default_rule for p in h.rows(WorkspacePolicy)] == ["all"]
