"""A meeting's first DM that Slack may have taken without our hearing back (a lost reply, a crash between Slack
taking it and our recording it) is looked for in the DM's history before anything is posted again: the member
gets one message per meeting, never two."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from slackbot.services import reconciler
from slackbot.services.reconciler import MEETING_METADATA_TYPE, meeting_metadata
from storage.lifecycle import ReconcileStatus
from storage.models import Meeting, utcnow
from tests.scenarios.harness import Harness
from tests.scenarios.test_meetings import ADA, connect, soon
from tests.scenarios.test_promises import meeting_row
from tests.scenarios.test_quiet import without_history_scope
from tests.twins.fake_slack import Message


def messages_about(h: Harness, event_id: str) -> list[Message]:
    return [m for m in h.dms(ADA) if event_id in str(m.blocks)]


def due_now(h: Harness, event_id: str) -> None:
    h.execute(update(Meeting).where(Meeting.recall_event_id == event_id).values(due_at=utcnow()))


def new_meeting(h: Harness, title: str) -> tuple[str, dict]:
    cal = connect(h, ADA, "ada@acme.test")
    return cal, h.recall.add_event(cal, start_time=soon(30), title=title)


def test_a_first_dm_whose_reply_was_lost_is_found_and_kept_not_sent_again(h: Harness) -> None:
    cal, event = new_meeting(h, "Lost reply")
    h.slack.lose_next_reply("chat.postMessage")
    h.sync(cal)

    (posted,) = messages_about(h, event["id"])  # Slack took it; the app never heard back
    assert posted.metadata == meeting_metadata(event["id"])
    row = meeting_row(h, event["id"])
    assert row.message_ts is None and row.post_sent_at is not None and row.status is ReconcileStatus.RETRYING

    due_now(h, event["id"])
    h.slack.reset_calls()
    assert h.run(h.services.meetings.repair) == 1

    assert messages_about(h, event["id"]) == [posted]
    assert h.slack.calls_to("chat.postMessage") == [] and len(h.slack.calls_to("conversations.history")) == 1
    row = meeting_row(h, event["id"])
    assert (row.channel_id, row.message_ts) == (posted.channel, posted.ts)
    assert row.post_sent_at is None and row.status is ReconcileStatus.SETTLED
    # From now on it is the meeting's message: a click updates it in place.
    h.click(action_id="schedule_bot", value=event["id"], user_id=ADA)
    assert messages_about(h, event["id"])[0].ts == posted.ts and len(messages_about(h, event["id"])) == 1
    h.slack.assert_no_violations()


def test_a_crash_after_slack_took_the_first_dm_leaves_one_message(h: Harness) -> None:
    """SIGKILL between Slack's answer and our write: what the database holds then is a sent time and no ts."""
    cal, event = new_meeting(h, "Killed mid-post")
    h.sync(cal)
    (posted,) = messages_about(h, event["id"])
    sent_at = datetime.fromtimestamp(float(posted.ts), UTC) - timedelta(milliseconds=50)
    h.execute(
        update(Meeting)
        .where(Meeting.recall_event_id == event["id"])
        .values(
            message_ts=None,
            rendered_hash=None,
            post_sent_at=sent_at,
            status=ReconcileStatus.PENDING,
            due_at=utcnow(),
            claimed_by="killed-process",
            claimed_until=utcnow() - timedelta(seconds=1),
        )
    )
    h.slack.reset_calls()

    assert h.run(h.services.meetings.repair) == 1

    assert messages_about(h, event["id"]) == [posted]
    assert h.slack.calls_to("chat.postMessage") == []
    assert meeting_row(h, event["id"]).message_ts == posted.ts


def test_a_first_dm_that_never_reached_slack_is_posted_once(h: Harness) -> None:
    cal, event = new_meeting(h, "Dropped on the way")
    h.slack.drop_next_request("chat.postMessage")
    h.sync(cal)
    assert messages_about(h, event["id"]) == []
    assert meeting_row(h, event["id"]).post_sent_at is not None  # no answer: it may have arrived

    due_now(h, event["id"])
    assert h.run(h.services.meetings.repair) == 1

    (posted,) = messages_about(h, event["id"])
    row = meeting_row(h, event["id"])
    assert row.message_ts == posted.ts and row.post_sent_at is None
    assert len(h.slack.calls_to("conversations.history")) == 1


def test_a_refused_first_dm_needs_no_search(h: Harness) -> None:
    """An answer, even an error, says Slack did not post it: the retry posts without reading any history."""
    cal, event = new_meeting(h, "Refused")
    h.slack.fail_next("chat.postMessage", error="internal_error", status=500)
    h.sync(cal)
    assert meeting_row(h, event["id"]).post_sent_at is None

    due_now(h, event["id"])
    assert h.run(h.services.meetings.repair) == 1
    assert len(messages_about(h, event["id"])) == 1 and h.slack.calls_to("conversations.history") == []


def test_slack_limiting_the_search_posts_nothing_and_tries_after_its_retry_after(h: Harness) -> None:
    cal, event = new_meeting(h, "Search later")
    h.slack.lose_next_reply("chat.postMessage")
    h.sync(cal)
    due_now(h, event["id"])
    h.slack.fail_next("conversations.history", retry_after=40)
    before = utcnow()

    h.run(h.services.meetings.repair)

    row = meeting_row(h, event["id"])
    assert len(messages_about(h, event["id"])) == 1  # still only the one Slack took
    assert row.status is ReconcileStatus.RETRYING and row.due_at >= before + timedelta(seconds=40)
    assert row.post_sent_at is not None and row.claimed_by is None  # not held while waiting
    due_now(h, event["id"])
    h.run(h.services.meetings.repair)
    assert len(messages_about(h, event["id"])) == 1 and meeting_row(h, event["id"]).message_ts is not None


def test_an_install_without_the_history_scope_posts_again_as_it_used_to(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    cal, event = new_meeting(h, "Old install")
    h.slack.lose_next_reply("chat.postMessage")
    h.sync(cal)
    without_history_scope(h)
    due_now(h, event["id"])
    with caplog.at_level(logging.WARNING):
        h.run(h.services.meetings.repair)

    assert len(messages_about(h, event["id"])) == 2  # the old behaviour, no worse
    assert meeting_row(h, event["id"]).message_ts is not None
    assert "meetings.unconfirmed_post_not_searchable" in caplog.text


def test_only_the_meetings_own_mark_counts(h: Harness) -> None:
    """Another meeting's DM sent at the same moment is not taken for this one's."""
    cal, event = new_meeting(h, "Mine")
    other = h.recall.add_event(cal, start_time=soon(31), title="Theirs")
    h.sync(cal)
    (mine,) = messages_about(h, event["id"])
    (theirs,) = messages_about(h, other["id"])
    h.execute(
        update(Meeting)
        .where(Meeting.recall_event_id == event["id"])
        .values(
            message_ts=None,
            post_sent_at=datetime.fromtimestamp(float(theirs.ts), UTC),
            status=ReconcileStatus.PENDING,
            due_at=utcnow(),
        )
    )
    h.slack.reset_calls()
    h.run(h.services.meetings.repair)
    assert meeting_row(h, event["id"]).message_ts == mine.ts != theirs.ts
    assert meeting_row(h, other["id"]).message_ts == theirs.ts
    assert h.slack.calls_to("chat.postMessage") == []


def test_the_mark_names_the_meeting_and_nothing_else() -> None:
    """What Slack keeps beside the message names the meeting only (no title, no member)."""
    assert meeting_metadata("evt-1") == {
        "event_type": MEETING_METADATA_TYPE,
        "event_payload": {"recall_event_id": "evt-1"},
    }


def test_a_first_dm_held_up_after_the_claim_notes_its_own_time(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """A DM that leaves long after the claim (Slack's pacing, a slow Recall) writes its own time before it leaves,
    so the search looks where it went."""
    monkeypatch.setattr(reconciler, "POST_WINDOW", timedelta(seconds=-1))  # every DM counts as held up
    cal, event = new_meeting(h, "Held up")
    h.slack.lose_next_reply("chat.postMessage")
    h.sync(cal)
    (posted,) = messages_about(h, event["id"])
    noted = meeting_row(h, event["id"]).post_sent_at
    assert noted is not None and abs(noted.timestamp() - float(posted.ts)) < 5

    due_now(h, event["id"])
    h.run(h.services.meetings.repair)
    assert messages_about(h, event["id"]) == [posted]
    assert meeting_row(h, event["id"]).message_ts == posted.ts
