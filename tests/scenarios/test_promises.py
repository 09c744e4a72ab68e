"""Promises the meetings core keeps that a glance at the messages would not show: no needless Slack calls, one
process per meeting (so one first message), no update lost to a concurrent replica, the webhook body cap."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from starlette.requests import Request

from recall.client import RecallClient
from slackbot.registry import Services, build_services
from slackbot.web.webhook import MAX_BODY_BYTES, read_capped
from storage.lifecycle import ReconcileStatus
from storage.models import Meeting, utcnow
from tests.conftest import TEAM_ID
from tests.scenarios.harness import WEBHOOK_SECRET, Harness
from tests.scenarios.test_meetings import ADA, BOB, connect, message_for, soon
from tests.twins.fake_recall import sign_webhook


def meeting_row(h: Harness, event_id: str) -> Meeting:
    (row,) = h.rows(Meeting, Meeting.recall_event_id == event_id)
    return row


def another_replica(h: Harness) -> Services:
    """A second process's services on the same database and twins (its own locks, pools and clients)."""
    recall = RecallClient(api_key=h.recall.api_key, base_url=h.recall.base_url, backoff_base=0.001, backoff_cap=0.01)
    return build_services(h.settings, recall=recall)


def test_acting_again_on_an_unchanged_meeting_calls_slack_for_nothing(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    event = h.recall.add_event(cal, start_time=soon(30), title="Steady")
    h.sync(cal)
    assert meeting_row(h, event["id"]).status is ReconcileStatus.SETTLED
    h.execute(update(Meeting).values(status=ReconcileStatus.PENDING, due_at=utcnow()))
    h.slack.reset_calls()
    recall_calls = len(h.recall.calls)

    assert h.run(h.services.meetings.repair) == 1

    assert h.slack.calls_to("chat.update") == [] and h.slack.calls_to("chat.postMessage") == []
    assert len(h.recall.calls) == recall_calls
    assert meeting_row(h, event["id"]).status is ReconcileStatus.SETTLED


def test_a_meeting_another_process_holds_is_left_to_it(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    event = h.recall.add_event(cal, start_time=soon(30), title="Held elsewhere")
    # Another replica is acting on this meeting right now (its lease runs for another minute).
    h.run(h.services.syncer.run_pending)  # nothing stored yet for the event; lists the (empty) first window
    h.sync(cal)
    h.execute(
        update(Meeting)
        .where(Meeting.recall_event_id == event["id"])
        .values(
            status=ReconcileStatus.PENDING,
            due_at=utcnow(),
            message_ts=None,
            channel_id=None,
            rendered_hash=None,
            claimed_by="other-replica",
            claimed_until=utcnow() + timedelta(minutes=1),
        )
    )
    h.slack.reset_calls()
    assert h.run(h.services.meetings.repair) == 0
    assert h.slack.calls_to("chat.postMessage") == []
    # The other replica died: once its lease runs out, this one takes the meeting over.
    h.execute(update(Meeting).values(claimed_until=utcnow() - timedelta(seconds=1)))
    assert h.run(h.services.meetings.repair) == 1
    assert len(h.slack.calls_to("chat.postMessage")) == 1
    assert meeting_row(h, event["id"]).claimed_by is None


def test_two_replicas_racing_on_a_new_meeting_post_one_message(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    event = h.recall.add_event(cal, start_time=soon(30), title="Raced")
    h.sync(cal)
    h.execute(
        update(Meeting).values(
            status=ReconcileStatus.PENDING, due_at=utcnow(), message_ts=None, channel_id=None, rendered_hash=None
        )
    )
    before = len([m for m in h.dms(ADA) if event["id"] in str(m.blocks)])
    other = another_replica(h)

    async def race() -> list[int]:
        try:
            return list(await asyncio.gather(h.services.meetings.repair(), other.meetings.repair()))
        finally:
            await other.aclose()

    assert sorted(h.run(race)) == [0, 1]
    assert len([m for m in h.dms(ADA) if event["id"] in str(m.blocks)]) == before + 1


def test_a_change_on_another_replica_during_a_click_is_not_lost(h: Harness) -> None:
    """Replica A schedules the bot (Recall is slow); meanwhile replica B stores the meeting's new time and leaves
    it to A. A sees the meeting changed while it acted and acts again: the bot follows the new time."""
    cal = connect(h, ADA, "ada@acme.test")
    event = h.recall.add_event(cal, start_time=soon(30), title="Moving target")
    h.sync(cal)
    hold = h.recall.hold("POST", f"/api/v2/calendar-events/{event['id']}/bot/")
    clicking = threading.Thread(
        target=h.click, kwargs={"action_id": "schedule_bot", "value": event["id"], "user_id": ADA}
    )
    clicking.start()
    try:
        assert hold.entered.wait(10), "the click never reached Recall"
        moved = soon(54)
        h.recall.update_event(event["id"], start_time=moved, end_time=moved + timedelta(minutes=30))
        other = another_replica(h)

        async def replica_b_syncs() -> int:
            try:
                events = [e async for page in other.recall.iter_calendar_event_pages(calendar_id=cal) for e in page]
                return await other.meetings.apply_events(events)
            finally:
                await other.aclose()

        assert h.run(replica_b_syncs) == 0  # stored, but A holds the meeting: left to A
    finally:
        h.recall.release_holds()
        clicking.join(20)
    assert not clicking.is_alive()

    bot = h.recall.bot_for_event(event["id"])
    assert bot is not None and moved.strftime("%Y-%m-%dT%H:%M:%SZ") in bot["deduplication_key"]
    assert str(int(moved.timestamp())) in str(message_for(h, ADA, event["id"]).blocks)
    row = meeting_row(h, event["id"])
    assert (row.status, row.claimed_by, row.choice) == (ReconcileStatus.SETTLED, None, "schedule")
    assert row.scheduled_key == row.current_key


def test_a_webhook_body_over_the_cap_is_refused_even_without_a_length(h: Harness) -> None:
    payload = {"event": "calendar.sync_events", "data": {"calendar_id": "c", "last_updated_ts": "2026-11-30T00:00:00Z"}}
    body, _ = sign_webhook(payload, secret=WEBHOOK_SECRET)
    padded = body[:-1] + b" " * (MAX_BODY_BYTES - len(body)) + b"}"
    assert len(padded) == MAX_BODY_BYTES

    def chunks(data: bytes):  # type: ignore[no-untyped-def]
        yield from (data[i : i + 65536] for i in range(0, len(data), 65536))

    sign_at_cap = sign_webhook(None, secret=WEBHOOK_SECRET, body=padded)
    at_cap = h.client.post("/recall/webhook", content=chunks(padded), headers=sign_at_cap[1])
    assert at_cap.status_code == 200  # exactly the cap is allowed
    over = padded[:-1] + b" }"
    signed_over = sign_webhook(None, secret=WEBHOOK_SECRET, body=over)
    assert h.client.post("/recall/webhook", content=chunks(over), headers=signed_over[1]).status_code == 413


async def test_a_declared_length_over_the_cap_is_refused_before_reading() -> None:
    async def receive() -> dict:
        raise AssertionError("the body was read")

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/recall/webhook",
        "headers": [(b"content-length", str(MAX_BODY_BYTES + 1).encode())],
    }
    with pytest.raises(Exception) as refused:
        await read_capped(Request(scope, receive))
    assert type(refused.value).__name__ == "BodyTooLarge"
    exact = {**scope, "headers": [(b"content-length", str(MAX_BODY_BYTES).encode())]}
    chunks = iter([{"type": "http.request", "body": b"x" * MAX_BODY_BYTES, "more_body": False}])

    async def receive_exact() -> dict:
        return next(chunks)

    assert len(await read_capped(Request(exact, receive_exact))) == MAX_BODY_BYTES


def stall_a_click_while_another_process_takes_over(h: Harness, **taken_over: Any) -> str:
    """Ada clicks Schedule on a synced meeting; while the click waits in Recall, another process takes the meeting
    over (its lease, plus ``taken_over``). Returns the meeting's event id once the stalled click has finished."""
    cal = connect(h, ADA, "ada@acme.test")
    event = h.recall.add_event(cal, start_time=soon(30), title="Stalled")
    h.sync(cal)
    hold = h.recall.hold("POST", f"/api/v2/calendar-events/{event['id']}/bot/")
    clicking = threading.Thread(
        target=h.click, kwargs={"action_id": "schedule_bot", "value": event["id"], "user_id": ADA}
    )
    clicking.start()
    try:
        assert hold.entered.wait(10), "the click never reached Recall"
        h.execute(
            update(Meeting)
            .where(Meeting.recall_event_id == event["id"])
            .values(claimed_by="other-replica", claimed_until=utcnow() + timedelta(minutes=1), **taken_over)
        )
    finally:
        h.recall.release_holds()
        clicking.join(20)
    assert not clicking.is_alive()
    return str(event["id"])


def the_other_run_is_over(h: Harness) -> None:
    h.execute(update(Meeting).values(claimed_until=utcnow() - timedelta(seconds=1)))


def test_a_run_that_lost_its_lease_writes_nothing_over_the_process_that_took_over(h: Harness) -> None:
    """This process stalls in Recall past its lease; another takes the meeting over and stores the member's skip.
    The stalled run must not write its choice or its view of the message back; it records only the bot call it
    made, and leaves the meeting due, so the next run removes the bot the member no longer wants."""
    event_id = stall_a_click_while_another_process_takes_over(
        h, choice="skip", rendered_hash="what-the-other-replica-showed"
    )
    row = meeting_row(h, event_id)
    assert row.claimed_by == "other-replica" and row.choice == "skip"
    assert row.status is ReconcileStatus.PENDING and row.rendered_hash is None
    assert h.recall.bot_for_event(event_id) is not None and row.scheduled_key == row.current_key

    the_other_run_is_over(h)
    assert h.run(h.services.meetings.repair) == 1
    row = meeting_row(h, event_id)
    assert h.recall.bot_for_event(event_id) is None
    assert (row.scheduled_key, row.status, row.claimed_by) == (None, ReconcileStatus.SETTLED, None)


def test_a_run_that_lost_its_lease_still_keeps_the_members_click(h: Harness) -> None:
    """The same stall, but the process that took over did not change the member's choice: the click is a fact
    only the stalled run knows, so it is written, and the meeting is left due for the next run to show."""
    event_id = stall_a_click_while_another_process_takes_over(h)
    row = meeting_row(h, event_id)
    assert row.claimed_by == "other-replica" and row.choice == "schedule"
    assert row.status is ReconcileStatus.PENDING and row.rendered_hash is None
    assert row.message_ts is not None  # the message the sync posted is still the meeting's

    the_other_run_is_over(h)
    assert h.run(h.services.meetings.repair) == 1
    row = meeting_row(h, event_id)
    assert h.recall.bot_for_event(event_id) is not None
    assert (row.choice, row.status, row.scheduled_key) == ("schedule", ReconcileStatus.SETTLED, row.current_key)


def test_a_colleague_copy_whose_first_message_is_on_its_way_still_learns_of_the_bot(h: Harness) -> None:
    """Ada's rule records everything; Bob has no rule. Both copies of one meeting come in together; Bob's first
    message is slow to post, so it was decided before Ada's bot existed. It must end up saying Ada's bot covers it."""
    ada_cal = connect(h, ADA, "ada@acme.test")
    bob_cal = connect(h, BOB, "bob@acme.test")
    assert h.slash("rule all", user_id=ADA)[0].status_code == 200
    start, link = soon(48), "https://meet.google.com/abc-defg-hij"
    h.recall.add_event(ada_cal, start_time=start, meeting_url=link, title="Shared", attendees=["bob@acme.test"])
    bob_event = h.recall.add_event(
        bob_cal,
        start_time=start,
        meeting_url=link,
        title="Shared",
        organizer_email="ada@acme.test",
        self_response="accepted",
    )
    bob_dm = h.slack.dm_channel(TEAM_ID, BOB)
    original = h.slack.handle_api

    def slow_for_bob(method: str, **kw: Any) -> Any:
        if method == "chat.postMessage" and bob_dm in kw["body"].decode() + kw["query"]:
            time.sleep(1.5)  # outside the twin's lock: only Bob's posts are slow
        return original(method, **kw)

    h.slack.handle_api = slow_for_bob  # type: ignore[method-assign]
    h.webhook(h.recall.sync_events_payload(ada_cal), wait=False)
    h.sync(bob_cal)
    h.wait_idle()

    message = message_for(h, BOB, bob_event["id"])
    assert "covered by a colleague" in message.text
    row = meeting_row(h, bob_event["id"])
    assert row.status is ReconcileStatus.SETTLED
