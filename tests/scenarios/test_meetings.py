"""Recall webhooks become one live DM per meeting, with Schedule / Skip / Undo (issue #3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.scenarios.harness import Harness
from tests.twins.fake_slack import Message

ADA = "U0ADA00001"
BOB = "U0BOB00001"


def connect(h: Harness, user_id: str, email: str, provider: str = "google") -> str:
    """Connect through the real flow; returns the Recall calendar id (marked connected)."""
    response = h.connect(user_id=user_id, provider=provider, email=email)
    assert response.status_code == 200, response.text
    calendar = next(c for c in h.recall.calendars() if c["oauth_email"] == email)
    h.recall.set_calendar_status(calendar["id"], "connected")
    return calendar["id"]


def soon(hours: float = 24) -> datetime:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(microsecond=0)


def meeting_dms(h: Harness, user_id: str) -> list[Message]:
    """DMs that are per-meeting messages (they carry the meeting action block)."""
    return [
        m
        for m in h.dms(user_id)
        if any(b.get("block_id") == "meeting_actions" for b in m.blocks or [])
        or any("Cancelled" in str(b) or "Ended" in str(b) for b in m.blocks or [])
    ]


def message_for(h: Harness, user_id: str, event_id: str) -> Message:
    for message in h.dms(user_id):
        if event_id in str(message.blocks):
            return message
    raise AssertionError(f"no message for {event_id}")


def buttons(message: Message) -> list[str]:
    return [e["action_id"] for b in message.blocks or [] if b.get("type") == "actions" for e in b.get("elements", [])]


def test_first_sync_posts_one_dm_per_visible_meeting(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    visible = h.recall.add_event(cal, start_time=soon(2), title="Design review")
    h.recall.add_event(cal, start_time=soon(3), title="Focus time", meeting_url=None)
    h.recall.add_event(
        cal, start_time=soon(4), title="Declined call", organizer_email="carol@partner.test", self_response="declined"
    )
    ended = h.recall.add_event(cal, start_time=soon(-3), end_time=soon(-2), title="Yesterday")
    cancelled = h.recall.add_event(cal, start_time=soon(5), title="Cancelled")
    h.recall.delete_event(cancelled["id"])
    h.reset = None
    before = len(h.dms(ADA))

    assert h.sync(cal).status_code == 200

    posted = h.dms(ADA)[before:]
    assert len(posted) == 1, [m.text for m in posted]
    message = posted[0]
    assert visible["id"] in str(message.blocks)
    assert "Design review" in message.text
    assert buttons(message) == ["schedule_bot", "skip_bot"]
    assert "<!date^" in str(message.blocks)
    assert ended["id"] not in str(h.dms(ADA))

    # A redelivered sync (new message id, same content) changes nothing.
    h.slack.reset_calls()
    h.sync(cal)
    assert h.slack.calls_to("chat.postMessage") == []
    assert h.slack.calls_to("chat.update") == []


def test_schedule_skip_undo_and_double_click(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    event = h.recall.add_event(cal, start_time=soon(30), title="Planning")
    h.sync(cal)
    message = message_for(h, ADA, event["id"])

    response, _ = h.click(action_id="schedule_bot", value=event["id"], user_id=ADA, message=message)
    assert response.status_code == 200
    bot = h.recall.bot_for_event(event["id"])
    assert bot is not None
    start = datetime.fromisoformat(event["start_time"].replace("Z", "+00:00")).astimezone(UTC)
    assert bot["deduplication_key"] == f"{start.strftime('%Y-%m-%dT%H:%M:%SZ')}-{event['meeting_url']}"
    assert bot["bot_config"]["bot_name"] == "Acme Notetaker"
    assert bot["bot_config"]["metadata"]["slack_user_id"] == ADA
    message = message_for(h, ADA, event["id"])
    assert "Bot scheduled" in str(message.blocks)
    assert buttons(message) == ["undo_choice"]

    posts = len(h.recall.calls_to("POST", "/api/v2/calendar-events/"))
    h.click(action_id="schedule_bot", value=event["id"], user_id=ADA, message=message)
    assert len(h.recall.calls_to("POST", "/api/v2/calendar-events/")) == posts

    h.click(action_id="undo_choice", value=event["id"], user_id=ADA, message=message)
    assert h.recall.bot_for_event(event["id"]) is None
    assert buttons(message_for(h, ADA, event["id"])) == ["schedule_bot", "skip_bot"]

    h.click(action_id="skip_bot", value=event["id"], user_id=ADA, message=message)
    message = message_for(h, ADA, event["id"])
    assert "Skipped" in str(message.blocks)
    assert buttons(message) == ["undo_choice"]
    # Still one message for the meeting.
    assert sum(event["id"] in str(m.blocks) for m in h.dms(ADA)) == 1


def test_another_users_click_is_refused(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    event = h.recall.add_event(cal, start_time=soon(30))
    h.sync(cal)
    _, name = h.click(action_id="schedule_bot", value=event["id"], user_id=BOB)
    assert any("someone else's calendar" in t for t in h.replies(name))
    assert h.recall.bot_for_event(event["id"]) is None
    _, name = h.click(action_id="schedule_bot", value="not-an-event", user_id=ADA)
    assert any("nothing was changed" in t for t in h.replies(name))
    _, name = h.click(action_id="schedule_bot", value=event["id"], user_id=ADA, team_id="T0OTHER001")
    assert h.recall.bot_for_event(event["id"]) is None


def test_two_members_share_one_bot(h: Harness) -> None:
    ada_cal = connect(h, ADA, "ada@acme.test")
    bob_cal = connect(h, BOB, "bob@acme.test")
    start = soon(30)
    url = "https://meet.google.com/abc-defg-hij"
    ada_event = h.recall.add_event(ada_cal, start_time=start, meeting_url=url, title="Shared")
    bob_event = h.recall.add_event(bob_cal, start_time=start, meeting_url=url, title="Shared")
    h.sync(ada_cal)
    h.sync(bob_cal)

    h.click(action_id="schedule_bot", value=ada_event["id"], user_id=ADA)
    bob_message = message_for(h, BOB, bob_event["id"])
    assert f"<@{ADA}>" in str(bob_message.blocks)
    assert "already covers" in str(bob_message.blocks)

    h.click(action_id="schedule_bot", value=bob_event["id"], user_id=BOB)
    assert len(h.recall.bots()) == 1
    assert h.recall.bot_for_event(ada_event["id"])["id"] == h.recall.bot_for_event(bob_event["id"])["id"]

    # Ada skips: Bob keeps the shared bot, and Ada's message says so.
    h.click(action_id="undo_choice", value=ada_event["id"], user_id=ADA)
    h.click(action_id="skip_bot", value=ada_event["id"], user_id=ADA)
    assert h.recall.bot_for_event(bob_event["id"]) is not None
    assert f"<@{BOB}>" in str(message_for(h, ADA, ada_event["id"]).blocks)


def test_moved_relinked_cancelled_meetings_update_in_place(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    event = h.recall.add_event(cal, start_time=soon(30), title="Retro")
    h.sync(cal)
    h.click(action_id="schedule_bot", value=event["id"], user_id=ADA)
    first_key = h.recall.bot_for_event(event["id"])["deduplication_key"]
    original = message_for(h, ADA, event["id"])
    ts = original.ts

    new_start = soon(54)
    h.recall.update_event(event["id"], start_time=new_start, end_time=new_start + timedelta(minutes=45))
    h.sync(cal)
    moved = message_for(h, ADA, event["id"])
    assert moved.ts == ts
    assert str(int(new_start.timestamp())) in str(moved.blocks)
    bot = h.recall.bot_for_event(event["id"])
    assert bot is not None and bot["deduplication_key"] != first_key
    assert new_start.strftime("%Y-%m-%dT%H:%M:%SZ") in bot["deduplication_key"]

    h.recall.update_event(event["id"], meeting_url="https://acme.zoom.us/j/123456789")
    h.sync(cal)
    assert h.recall.bot_for_event(event["id"])["deduplication_key"].endswith("https://acme.zoom.us/j/123456789")
    assert "Zoom" in str(message_for(h, ADA, event["id"]).blocks)

    h.recall.delete_event(event["id"])
    h.sync(cal)
    cancelled = h.slack.message(original.channel, ts)
    assert "Cancelled" in str(cancelled.blocks)
    assert "~Retro~" in str(cancelled.blocks)
    assert buttons(cancelled) == []
    assert sum("Retro" in m.text for m in h.dms(ADA)) == 1
    assert h.recall.bot_for_event(event["id"]) is None


def test_title_markup_is_escaped(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    h.recall.add_event(cal, start_time=soon(30), title="<!channel> & <https://evil.example|click>")
    h.sync(cal)
    message = h.dms(ADA)[-1]
    rendered = str(message.blocks) + message.text
    assert "<!channel>" not in rendered
    assert "<https://evil" not in rendered
    assert "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;" in rendered


def test_recall_errors_reach_the_member_and_the_message_stays_true(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    event = h.recall.add_event(cal, start_time=soon(1), end_time=soon(2), title="Standup")
    h.sync(cal)
    before = message_for(h, ADA, event["id"])

    h.recall.fail_next(
        "POST", f"/api/v2/calendar-events/{event['id']}/bot/", 507, times=5
    )  # every attempt the client makes
    _, name = h.click(action_id="schedule_bot", value=event["id"], user_id=ADA)
    assert any("too soon" in t for t in h.replies(name))
    assert h.recall.bot_for_event(event["id"]) is None
    assert buttons(message_for(h, ADA, event["id"])) == ["schedule_bot", "skip_bot"]
    assert message_for(h, ADA, event["id"]).blocks == before.blocks

    h.recall.fail_next("POST", f"/api/v2/calendar-events/{event['id']}/bot/", 503, times=5)
    _, name = h.click(action_id="schedule_bot", value=event["id"], user_id=ADA)
    assert any("isn't answering" in t for t in h.replies(name)), h.replies(name)
    assert message_for(h, ADA, event["id"]).blocks == before.blocks

    # Recall's clock says the meeting has ended (ours does not yet): Recall answers 400.
    h.recall.advance(3 * 3600)
    _, name = h.click(action_id="schedule_bot", value=event["id"], user_id=ADA)
    assert any("already ended" in t for t in h.replies(name))
    assert h.recall.bot_for_event(event["id"]) is None


def test_ended_meetings_lose_their_buttons(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    event = h.recall.add_event(cal, start_time=soon(1), end_time=soon(2), title="Soon over")
    h.sync(cal)
    original = message_for(h, ADA, event["id"])

    async def end_it() -> None:
        from storage.models import Meeting

        async with h.services.db.transaction() as session:
            meeting = await session.get(Meeting, event["id"])
            # As if the clock had moved past the end: the settled meeting comes due when it ends.
            meeting.end_time = meeting.due_at = datetime.now(UTC) - timedelta(minutes=1)

    h.run(end_it)
    assert h.run(h.services.meetings.refresh_ended) == 1
    ended = h.slack.message(original.channel, original.ts)
    assert buttons(ended) == []
    assert "Ended" in str(ended.blocks)
    assert h.run(h.services.meetings.refresh_ended) == 0


def test_declined_after_scheduling_drops_the_bot(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    event = h.recall.add_event(cal, start_time=soon(30), organizer_email="carol@partner.test", self_response="accepted")
    h.sync(cal)
    h.click(action_id="schedule_bot", value=event["id"], user_id=ADA)
    assert h.recall.bot_for_event(event["id"]) is not None
    original = message_for(h, ADA, event["id"])
    h.recall.update_event(event["id"], self_response="declined")
    h.sync(cal)
    assert h.recall.bot_for_event(event["id"]) is None
    declined = h.slack.message(original.channel, original.ts)
    assert "Declined" in str(declined.blocks) and buttons(declined) == []


def test_outlook_titles_and_recurring_series(h: Harness) -> None:
    h.microsoft.set_user(email="ada@acme.test")
    cal = connect(h, ADA, "ada@acme.test", provider="microsoft")
    h.recall.add_event(cal, start_time=soon(30), title="Quarterly planning", recurring_series_id="AAMkSeries1")
    h.recall.add_event(cal, start_time=soon(40), title="   ")
    h.sync(cal)
    texts = [m.text for m in h.dms(ADA)]
    assert any("Quarterly planning" in t for t in texts)
    assert any("Untitled meeting" in t for t in texts)
    series = next(m for m in h.dms(ADA) if "Quarterly planning" in m.text)
    assert "recurring series" in str(series.blocks)
    assert "Microsoft Teams" in str(series.blocks)


def test_meeting_without_link_gains_one(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    event = h.recall.add_event(cal, start_time=soon(30), title="Lunch", meeting_url=None)
    h.sync(cal)
    assert not any("Lunch" in m.text for m in h.dms(ADA))
    h.recall.update_event(event["id"], meeting_url="https://meet.google.com/xyz-abcd-efg")
    h.sync(cal)
    assert sum("Lunch" in m.text for m in h.dms(ADA)) == 1


def make_retries_due(h: Harness) -> None:
    """Skip the back-off a failed meeting waits before the repair job tries it again."""

    async def due() -> None:
        from sqlalchemy import update

        from storage.models import Meeting, utcnow

        async with h.services.db.transaction() as session:
            await session.execute(update(Meeting).values(due_at=utcnow()))

    h.run(due)


def test_repair_retries_what_slack_and_recall_refused(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    event = h.recall.add_event(cal, start_time=soon(30), title="Refused once")
    # A 429 is not slept on while the meeting is held: the meeting is retried after its Retry-After.
    h.slack.fail_next("chat.postMessage", error="ratelimited", status=429, retry_after=0)
    h.sync(cal)
    assert not any("Refused once" in m.text for m in h.dms(ADA))
    assert h.run(h.services.meetings.repair) == 0  # backing off
    make_retries_due(h)
    assert h.run(h.services.meetings.repair) == 1
    assert sum("Refused once" in m.text for m in h.dms(ADA)) == 1

    h.click(action_id="schedule_bot", value=event["id"], user_id=ADA)
    moved = soon(60)
    h.recall.update_event(event["id"], start_time=moved, end_time=moved + timedelta(minutes=30))
    h.recall.fail_next("POST", f"/api/v2/calendar-events/{event['id']}/bot/", 503, times=5)
    h.sync(cal)
    assert moved.strftime("%Y-%m-%dT%H:%M:%SZ") not in h.recall.bot_for_event(event["id"])["deduplication_key"]
    make_retries_due(h)
    assert h.run(h.services.meetings.repair) == 1
    assert moved.strftime("%Y-%m-%dT%H:%M:%SZ") in h.recall.bot_for_event(event["id"])["deduplication_key"]
    assert h.run(h.services.meetings.repair) == 0


def test_stale_buttons_on_ended_or_cancelled_meetings_change_nothing(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    event = h.recall.add_event(cal, start_time=soon(30), title="Gone")
    h.sync(cal)
    h.recall.delete_event(event["id"])
    h.sync(cal)
    posts = len(h.recall.calls_to("POST", "/api/v2/calendar-events/"))
    _, name = h.click(action_id="schedule_bot", value=event["id"], user_id=ADA)
    assert any("cancelled, so nothing was changed" in t for t in h.replies(name))
    assert len(h.recall.calls_to("POST", "/api/v2/calendar-events/")) == posts

    async def choice() -> str | None:
        from storage.models import Meeting

        async with h.services.db.transaction() as session:
            return (await session.get(Meeting, event["id"])).choice

    assert h.run(choice) is None


def test_a_slack_failure_mid_sync_is_repaired_later(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    first = h.recall.add_event(cal, start_time=soon(30), title="First")
    second = h.recall.add_event(cal, start_time=soon(31), title="Second")
    h.sync(cal)
    originals = [message_for(h, ADA, first["id"]), message_for(h, ADA, second["id"])]
    h.recall.delete_event(first["id"])
    h.recall.delete_event(second["id"])
    for _ in range(2):  # one for each message: a 429 is retried later, not slept on
        h.slack.fail_next("chat.update", error="ratelimited", status=429, retry_after=0)
    h.sync(cal)
    assert all("Cancelled" not in str(h.slack.message(m.channel, m.ts).blocks) for m in originals)
    # The changes are stored and marked; a redelivered webhook does not lose them either.
    h.sync(cal)
    make_retries_due(h)
    assert h.run(h.services.meetings.repair) == 2
    assert all("Cancelled" in str(h.slack.message(m.channel, m.ts).blocks) for m in originals)
    assert h.run(h.services.meetings.repair) == 0


def test_bots_come_back_after_a_disconnect_and_reconnect(h: Harness) -> None:
    from tests.scenarios.harness import catalogue_payload

    cal = connect(h, ADA, "ada@acme.test")
    event = h.recall.add_event(cal, start_time=soon(30), title="Weekly")
    h.sync(cal)
    h.click(action_id="schedule_bot", value=event["id"], user_id=ADA)
    h.recall.set_calendar_status(cal, "disconnected")  # Recall unschedules the calendar's bots
    h.webhook(catalogue_payload("calendar.update", calendar_id=cal))
    assert h.recall.bot_for_event(event["id"]) is None
    posts = len(h.recall.calls_to("POST", "/api/v2/calendar-events/"))
    h.run(h.services.meetings.repair)
    assert len(h.recall.calls_to("POST", "/api/v2/calendar-events/")) == posts  # not while disconnected

    started = h.open_link(h.latest_link(ADA, "google"))
    h.follow_callback(h.consent("google", started.headers["location"], email="ada@acme.test"))
    h.recall.set_calendar_status(cal, "connected")
    h.webhook(catalogue_payload("calendar.update", calendar_id=cal))
    h.run(h.services.meetings.repair)
    assert h.recall.bot_for_event(event["id"]) is not None
    assert "Bot scheduled" in str(message_for(h, ADA, event["id"]).blocks)


def test_connecting_lists_the_calendar_even_without_a_webhook(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    h.recall.add_event(cal, start_time=soon(30), title="No webhook came")
    h.run(h.services.syncer.run_pending)
    assert any("No webhook came" in m.text for m in h.dms(ADA))
