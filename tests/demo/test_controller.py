"""The demo's controller and world: what a click, a command or a calendar change becomes, and every refusal a
person at the page can meet. The stand-ins are the tests' (held to the contracts); the app is played by a
recording transport, so each test sees exactly the requests the app would get."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier
from svix.webhooks import Webhook

from slackbot.demo.controller import BOT_STEPS, DemoController, DemoError, _action, member_from
from slackbot.demo.world import MEMBERS, TEAM_ID, TEAM_NAME, member_by_email, next_half_hour, sample_meetings
from tests.twins.fake_recall import FakeRecall, make_webhook_secret
from tests.twins.fake_slack import FakeSlack

NOW = datetime(2026, 11, 30, 9, 10, tzinfo=UTC)
ADA, GRACE, ALAN = MEMBERS
SIGNING = "demo-signing-secret"
APP = "http://127.0.0.1:9"  # never dialled: the transport below plays the app


class RecordingApp:
    """Plays the app: records each request and answers like the app (a slash command gets an ephemeral reply)."""

    def __init__(self, webhook_secret: str) -> None:
        self.requests: list[httpx.Request] = []
        self.webhook = Webhook(webhook_secret)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/slack/events":
            body = request.content
            assert SignatureVerifier(SIGNING).is_valid_request(body, dict(request.headers))
            if request.headers["content-type"].startswith("application/x-www-form-urlencoded") and b"command=" in body:
                return httpx.Response(200, json={"response_type": "ephemeral", "text": "Here is *help*."})
            return httpx.Response(200)
        if request.url.path == "/recall/webhook":
            self.webhook.verify(request.content, dict(request.headers))
            return httpx.Response(200)
        return httpx.Response(404)

    def webhooks(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests if r.url.path == "/recall/webhook"]

    def slack_payloads(self) -> list[dict[str, Any]]:
        found = []
        for r in self.requests:
            if r.url.path == "/slack/events" and r.content.startswith(b"payload="):
                found.append(json.loads(parse_qs(r.content.decode())["payload"][0]))
        return found


@pytest.fixture
def world() -> Iterator[tuple[DemoController, RecordingApp, FakeSlack, FakeRecall]]:
    secret = make_webhook_secret()
    app = RecordingApp(secret)
    with FakeSlack() as slack, FakeRecall(auto_connect=True, clock=lambda: NOW) as recall:
        slack.add_workspace(TEAM_ID, TEAM_NAME, bot_token="xoxb-1-2-demo")
        for m in MEMBERS:
            slack.add_user(TEAM_ID, m.user_id, name=m.name, tz=m.tz, email=m.email)
        controller = DemoController(
            slack=slack,
            recall=recall,
            app_url=APP,
            signing_secret=SIGNING,
            webhook_secret=secret,
            clock=lambda: NOW,
            _http=httpx.Client(transport=httpx.MockTransport(app)),
        )
        yield controller, app, slack, recall


def connect(recall: FakeRecall, controller: DemoController, email: str) -> str:
    calendar = recall.add_calendar(oauth_email=email, status="connecting")
    assert controller.adopt_new_calendars() == 1
    return str(calendar["id"])


def test_a_new_calendar_is_connected_filled_with_the_week_and_the_app_told(world: Any) -> None:
    controller, app, _, recall = world
    calendar_id = connect(recall, controller, ADA.email)
    assert recall.calendar(calendar_id)["status"] == "connected"
    titles = [e["raw"]["summary"] for e in controller.events_of(ADA)]
    assert titles == [m.title for m in sorted(sample_meetings(ADA, NOW), key=lambda m: m.start_time)]
    # The week was planned before the member connected (Google's own creation time says so), so the app lists it
    # in its summary on connecting rather than a DM per meeting.
    made = [datetime.fromisoformat(e["raw"]["created"]) for e in controller.events_of(ADA)]
    assert made and all(m < NOW - timedelta(days=1) for m in made)
    assert [w["event"] for w in app.webhooks()] == ["calendar.update", "calendar.sync_events"]
    assert controller.adopt_new_calendars() == 0  # once
    # A calendar of someone outside the demo is left alone.
    recall.add_calendar(oauth_email="eve@elsewhere.example")
    assert controller.adopt_new_calendars() == 0 and len(app.webhooks()) == 2


def test_colleagues_share_the_team_meeting_so_they_share_one_bot() -> None:
    weeks = {m.email: {s.title: s for s in sample_meetings(m, NOW)} for m in MEMBERS}
    shared = {(w["Weekly product sync"].meeting_url, w["Weekly product sync"].start_time) for w in weeks.values()}
    assert len(shared) == 1
    assert next_half_hour(NOW) == datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
    assert next_half_hour(datetime(2026, 11, 30, 9, 30, 5, tzinfo=UTC)) == datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    assert member_by_email("ADA@acme.test") == ADA and member_by_email(None) is None


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"action_id": "schedule_bot", "block_id": "b", "type": "button", "value": "evt", "text": "Schedule bot"},
            {"type": "button", "value": "evt", "text": {"type": "plain_text", "text": "Schedule bot", "emoji": True}},
        ),
        (
            {"action_id": "a", "type": "static_select", "selected": "all", "label": "Every meeting"},
            {
                "selected_option": {
                    "text": {"type": "plain_text", "text": "Every meeting", "emoji": True},
                    "value": "all",
                }
            },
        ),
        (
            {"action_id": "a", "type": "checkboxes", "selected": ["agenda"]},
            {
                "selected_options": [
                    {"text": {"type": "plain_text", "text": "agenda", "emoji": True}, "value": "agenda"}
                ]
            },
        ),
        ({"action_id": "a", "type": "timepicker", "selected": "08:30"}, {"selected_time": "08:30"}),
        ({"action_id": "a", "type": "timepicker", "selected": ""}, {"selected_time": None}),
    ],
)
def test_each_element_reports_its_action_as_slack_does(fields: dict[str, Any], expected: dict[str, Any]) -> None:
    action = _action(fields)
    assert action["action_id"] == fields["action_id"] and action["type"] == fields["type"]
    assert expected.items() <= action.items()


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({}, "That element has no action id."),
        ({"action_id": "a", "type": "datepicker"}, "The demo page cannot send a 'datepicker' action."),
        ({"action_id": "a", "type": "checkboxes", "selected": "agenda"}, "Checkbox values come as a list."),
    ],
)
def test_an_action_the_page_cannot_send_is_refused(fields: dict[str, Any], error: str) -> None:
    with pytest.raises(DemoError, match=error):
        _action(fields)


def test_a_command_is_signed_and_its_reply_shown_to_that_member_only(world: Any) -> None:
    controller, app, _, _ = world
    controller.command(ADA, "/recall help")
    (request,) = app.requests
    assert parse_qs(request.content.decode())["text"] == ["help"]
    assert [s.text for s in controller.ephemerals(ADA)] == ["Here is *help*."]
    assert controller.ephemerals(GRACE) == []


def test_a_click_in_a_message_carries_the_message_and_a_response_url(world: Any) -> None:
    controller, app, slack, _ = world
    channel = slack.dm_channel(TEAM_ID, ADA.user_id)
    client = httpx.Client(base_url=slack.base_url, trust_env=False)
    posted = client.post(
        "chat.postMessage",
        headers={"Authorization": "Bearer xoxb-1-2-demo"},
        data={"channel": ADA.user_id, "text": "hi", "blocks": json.dumps([{"type": "divider"}])},
    ).json()
    assert posted["ok"], posted
    fields = {"surface": "message", "channel": channel, "ts": posted["ts"], "action_id": "skip_bot", "value": "e1"}
    controller.act(ADA, fields)
    (payload,) = app.slack_payloads()
    assert payload["message"]["ts"] == posted["ts"] and payload["response_url"].startswith(slack.url)
    assert payload["user"]["id"] == ADA.user_id and payload["actions"][0]["value"] == "e1"
    # Someone else's DM, a message that is gone, and a click from nowhere are refused.
    with pytest.raises(DemoError, match="not in your DM"):
        controller.act(GRACE, fields)
    with pytest.raises(DemoError, match="gone"):
        controller.act(ADA, {**fields, "ts": "1.000001"})
    with pytest.raises(DemoError, match="message or the Home tab"):
        controller.act(ADA, {**fields, "surface": "elsewhere"})
    with pytest.raises(DemoError, match="Home tab has not been published"):
        controller.act(ADA, {**fields, "surface": "home"})


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"op": "explode"}, "Unknown calendar change 'explode'."),
        ({"op": "add", "title": "  ", "in_minutes": "5"}, "Give the meeting a title."),
        ({"op": "add", "title": "x" * 201, "in_minutes": "5"}, "A title has at most 200 characters."),
        ({"op": "add", "title": "Sync", "in_minutes": "soon"}, r"Starts in \(minutes\): a whole number, please."),
        ({"op": "add", "title": "Sync", "in_minutes": "0"}, r"Starts in \(minutes\): between 1 and 20160."),
        ({"op": "move", "event_id": "missing", "minutes": "30"}, "That meeting is no longer in the calendar."),
    ],
)
def test_a_calendar_change_that_makes_no_sense_changes_nothing(world: Any, fields: dict[str, Any], error: str) -> None:
    controller, app, _, recall = world
    connect(recall, controller, ADA.email)
    before = controller.events_of(ADA)
    with pytest.raises(DemoError, match=error):
        controller.change_calendar(ADA, fields)
    assert controller.events_of(ADA) == before
    assert len(app.webhooks()) == 2  # only the connect's


def test_calendar_changes_reach_the_app_as_sync_webhooks(world: Any) -> None:
    controller, app, _, recall = world
    with pytest.raises(DemoError, match="Connect a calendar first"):
        controller.change_calendar(ADA, {"op": "add", "title": "Sync", "in_minutes": "5"})
    connect(recall, controller, ADA.email)
    controller.change_calendar(ADA, {"op": "add", "title": "<b>Retro</b>", "in_minutes": "45"})
    retro = next(e for e in controller.events_of(ADA) if e["raw"]["summary"] == "<b>Retro</b>")
    assert retro["start_time"].startswith("2026-11-30T09:55")
    controller.change_calendar(ADA, {"op": "move", "event_id": retro["id"], "minutes": "-15"})
    controller.change_calendar(ADA, {"op": "rename", "event_id": retro["id"], "title": "Retro"})
    controller.change_calendar(ADA, {"op": "decline", "event_id": retro["id"]})
    moved = recall.event(retro["id"])
    assert moved["start_time"].startswith("2026-11-30T09:40") and moved["raw"]["summary"] == "Retro"
    controller.change_calendar(ADA, {"op": "cancel", "event_id": retro["id"]})
    assert retro["id"] not in [e["id"] for e in controller.events_of(ADA)]
    assert [w["event"] for w in app.webhooks()][2:] == ["calendar.sync_events"] * 5


def test_the_bot_plays_only_where_one_is_scheduled(world: Any) -> None:
    controller, app, _, recall = world
    connect(recall, controller, ADA.email)
    event = controller.events_of(ADA)[0]
    with pytest.raises(DemoError, match="No bot is scheduled"):
        controller.play_bot(ADA, {"step": "joining", "event_id": event["id"]})
    with pytest.raises(DemoError, match="Unknown bot step"):
        controller.play_bot(ADA, {"step": "dance", "event_id": event["id"]})
    with pytest.raises(DemoError, match="no longer in the calendar"):
        controller.play_bot(GRACE, {"step": "joining", "event_id": event["id"]})
    response = httpx.post(
        f"{recall.base_url}/api/v2/calendar-events/{event['id']}/bot/",
        headers={"Authorization": f"Token {recall.api_key}"},
        json={"deduplication_key": "k", "bot_config": {"bot_name": "Acme Recorder"}},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    for step in BOT_STEPS:
        controller.play_bot(ADA, {"step": step, "event_id": event["id"]})
    events = [w["event"] for w in app.webhooks()][2:]
    assert events == [
        "bot.joining_call",
        "bot.in_waiting_room",
        "bot.in_call_not_recording",
        "bot.in_call_recording",
        "bot.call_ended",
        "bot.done",
        "recording.done",
        "transcript.done",
    ]


def test_a_meeting_ending_without_a_recording_sends_only_the_statuses(world: Any) -> None:
    controller, app, _, recall = world
    connect(recall, controller, ADA.email)
    event = controller.events_of(ADA)[0]
    httpx.post(
        f"{recall.base_url}/api/v2/calendar-events/{event['id']}/bot/",
        headers={"Authorization": f"Token {recall.api_key}"},
        json={"deduplication_key": "k", "bot_config": {}},
        timeout=10,
    ).raise_for_status()
    controller.play_bot(ADA, {"step": "joining", "event_id": event["id"]})
    controller.play_bot(ADA, {"step": "done", "event_id": event["id"]})
    assert [w["event"] for w in app.webhooks()][2:] == ["bot.joining_call", "bot.call_ended", "bot.done"]


def test_an_unknown_member_is_refused() -> None:
    assert member_from({"member": ADA.user_id}) == ADA
    with pytest.raises(DemoError, match=r"Unknown member\."):
        member_from({"member": "U0NOBODY00"})


def test_when_the_app_is_down_the_page_says_so(world: Any) -> None:
    controller, _, slack, recall = world

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    controller._http = httpx.Client(transport=httpx.MockTransport(down))
    with pytest.raises(DemoError, match="The app did not answer"):
        controller.command(ADA, "help")
    recall.add_calendar(oauth_email=ADA.email)
    with pytest.raises(DemoError, match="did not take Recall's webhook"):
        controller.adopt_new_calendars()
    assert slack.messages() == []


def test_colleagues_connecting_later_still_share_the_week(world: Any) -> None:
    controller, _, _, recall = world
    times = iter([NOW, NOW + timedelta(minutes=40)])
    controller.clock = lambda: next(times, NOW + timedelta(minutes=40))
    connect(recall, controller, ADA.email)
    connect(recall, controller, GRACE.email)

    def keyed(member: Any) -> set[tuple[str, str]]:
        return {(e["meeting_url"], e["start_time"]) for e in controller.events_of(member) if e["meeting_url"]}

    shared = keyed(ADA) & keyed(GRACE)
    assert len(shared) == 3  # the team meeting, their 1:1 and the customer call: one bot each, for both
    # Once the week's first meeting is past, a newcomer gets a new week.
    later = NOW + timedelta(hours=2)
    controller.clock = lambda: later
    assert controller.week_start() == next_half_hour(later)


def test_the_consent_page_offers_the_member_who_opened_the_link(world: Any) -> None:
    controller, _, slack, _ = world
    assert controller.offer() is None
    client = httpx.Client(base_url=slack.base_url, trust_env=False)
    posted = client.post(
        "chat.postMessage",
        headers={"Authorization": "Bearer xoxb-1-2-demo"},
        data={"channel": GRACE.user_id, "text": "connect"},
    ).json()
    channel = slack.dm_channel(TEAM_ID, GRACE.user_id)
    fields = {"surface": "message", "channel": channel, "ts": posted["ts"], "action_id": "open_connect_link:google"}
    controller.act(GRACE, fields)
    assert controller.offer() == GRACE.email
