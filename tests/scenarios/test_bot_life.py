"""After the bot joins (issue #10): the meeting's message follows the bot live, the recording and transcript come
fresh at click time for members who had the meeting, a consent notice, and Remove bot.

Recall is played by FakeRecall: its bots live (statuses, recordings, expiring media URLs) and it hands out the
webhooks Recall would send, each valid against Recall's webhook catalogue; the harness signs and delivers them.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import update

from storage.lifecycle import ReconcileStatus
from storage.models import Bot, Meeting, WebhookDelivery
from tests.scenarios.harness import Harness
from tests.scenarios.test_meetings import buttons, connect, soon
from tests.twins.fake_slack import Message

ADA = "U0ADA00001"
BOB = "U0BOB00001"
ADMIN = "U0CAROL001"


def scheduled_meeting(h: Harness, user_id: str = ADA, email: str = "ada@acme.test", **event: Any) -> tuple[str, str]:
    """A meeting the member scheduled the bot for by clicking; returns (event id, bot id)."""
    cal = connect(h, user_id, email)
    created = h.recall.add_event(cal, start_time=soon(1), title=event.pop("title", "Design review"), **event)
    h.sync(cal)
    message = message_for(h, user_id, created["id"])
    h.click(action_id="schedule_bot", value=created["id"], user_id=user_id, message=message)
    bot = h.recall.bot_for_event(created["id"])
    assert bot is not None
    return created["id"], bot["id"]


def message_for(h: Harness, user_id: str, event_id: str) -> Message:
    """The meeting's own DM, by the metadata its first post carries (it may have no buttons left to name it)."""
    for message in h.dms(user_id):
        metadata = message.metadata or {}
        if (
            metadata.get("event_type") == "recall_meeting"
            and (metadata.get("event_payload") or {}).get("recall_event_id") == event_id
        ):
            return message
    raise AssertionError(f"no message for {event_id}")


def alerts(h: Harness, user_id: str) -> list[Message]:
    return [m for m in h.dms(user_id) if (m.metadata or {}).get("event_type") == "recall_admit_alert"]


def deliver(h: Harness, *payloads: dict[str, Any]) -> None:
    """Signed and stored in this order, as Recall would send them; then handled (one wait for the lot)."""
    for payload in payloads:
        assert h.webhook(payload, wait=False).status_code == 200
    h.wait_idle()


def status_text(message: Message) -> str:
    return " ".join(
        element.get("text", "")
        for block in message.blocks or []
        if block.get("type") == "context"
        for element in block.get("elements", [])
    )


def ephemeral(h: Harness, name: str) -> str:
    replies = h.replies(name)
    assert len(replies) == 1, replies
    return replies[0]


def link_in(text: str) -> str:
    assert "<http" in text, text
    return text.split("<", 1)[1].split("|", 1)[0]


# ---- the message follows the bot ----------------------------------------------------------------------------------


def test_joining_waiting_room_recording_done_recording_ready(h: Harness) -> None:
    event_id, bot_id = scheduled_meeting(h)
    posts = len(h.slack.calls_to("chat.postMessage"))

    deliver(h, h.recall.bot_status(bot_id, "joining_call"))
    message = message_for(h, ADA, event_id)
    assert "Acme Notetaker is joining" in status_text(message)
    assert buttons(message) == ["remove_bot"]  # the scheduling buttons are gone

    deliver(h, h.recall.bot_status(bot_id, "in_waiting_room"))
    assert "waiting room" in status_text(message_for(h, ADA, event_id))
    # The one status that needs the member now: a new DM that notifies them.
    (alert,) = alerts(h, ADA)
    assert "Design review" in (alert.text or "")
    assert len(h.slack.calls_to("chat.postMessage")) == posts + 1

    deliver(h, *h.recall.play(bot_id, "in_call_not_recording", "in_call_recording"))
    assert "Recording" in status_text(message_for(h, ADA, event_id))

    deliver(h, *h.recall.play(bot_id, "call_ended", "done"))
    deliver(h, *h.recall.finish_recording(bot_id))
    message = message_for(h, ADA, event_id)
    assert "Recording and transcript ready" in status_text(message)
    assert buttons(message) == ["get_recording", "get_transcript"]
    # Quiet updates in place: the waiting-room alert was the only new message.
    assert len(h.slack.calls_to("chat.postMessage")) == posts + 1
    h.recall.assert_no_violations()
    h.slack.assert_no_violations()


def test_the_bot_is_scheduled_with_metadata_a_transcript_and_the_consent_notice(h: Harness) -> None:
    event_id, bot_id = scheduled_meeting(h)
    config = h.recall.bot_for_event(event_id)["bot_config"]  # type: ignore[index]
    assert config["metadata"] == {
        "source": "recall-slackbot",
        "slack_team_id": "T0ACME0001",
        "slack_user_id": ADA,
        "recall_event_ids": event_id,
    }
    assert config["recording_config"]["transcript"] == {"provider": {"recallai_streaming": {}}}
    notice = config["chat"]["on_bot_join"]
    assert notice["send_to"] == "everyone"
    assert notice["message"].startswith("Acme Notetaker is recording this meeting for ada@acme.test.")
    assert h.recall.bot(bot_id)["metadata"]["recall_event_ids"] == event_id


def test_redelivered_and_out_of_order_statuses_never_move_the_message_backwards(h: Harness) -> None:
    event_id, bot_id = scheduled_meeting(h)
    joining = h.recall.bot_status(bot_id, "joining_call")
    recording = h.recall.play(bot_id, "in_call_recording")
    ended = h.recall.play(bot_id, "call_ended", "done")
    deliver(h, *ended)  # Svix retries: the end arrives first
    shown = message_for(h, ADA, event_id)
    updates = len(h.slack.calls_to("chat.update"))
    deliver(h, joining, *recording)  # late statuses
    deliver(h, *ended)  # and the same statuses again (new message ids)
    assert h.webhook(ended[0], msg_id="msg_same").status_code == 200
    assert h.webhook(ended[0], msg_id="msg_same").json().get("duplicate") is True
    after = message_for(h, ADA, event_id)
    assert after.blocks == shown.blocks
    assert "has left the meeting" in status_text(after)
    # `in_call_recording` arriving late still tells us it recorded: the recording is ready at `done`.
    assert "Recording ready" in status_text(after)
    assert len(h.slack.calls_to("chat.update")) == updates + 1


def test_the_legacy_status_change_shape_is_understood_too(h: Harness) -> None:
    event_id, bot_id = scheduled_meeting(h)
    deliver(h, h.recall.legacy_status(bot_id, "in_waiting_room"))
    assert "waiting room" in status_text(message_for(h, ADA, event_id))


def test_a_bot_webhook_that_beats_our_own_record_is_tied_by_its_metadata(h: Harness) -> None:
    event_id, bot_id = scheduled_meeting(h)
    # As if the schedule call's answer had been lost: we do not know the bot's id yet.
    h.execute(update(Meeting).values(bot_id=None))
    h.execute(Bot.__table__.delete())
    deliver(h, h.recall.bot_status(bot_id, "joining_call"))
    assert "is joining" in status_text(message_for(h, ADA, event_id))
    (bot,) = h.rows(Bot)
    assert bot.scheduled_by == ADA  # from the metadata: Ada can still remove it


def test_a_legacy_webhook_for_a_bot_we_do_not_know_asks_recall_once_and_is_ignored(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    created = h.recall.add_event(cal, start_time=soon(1), title="Someone else's bot")
    h.sync(cal)
    other = h.recall.bot_for_event(created["id"])
    assert other is None
    deliver(
        h,
        {
            "event": "bot.status_change",
            "data": {
                "bot_id": "11111111-2222-4333-8444-555555555555",
                "status": {
                    "code": "joining_call",
                    "created_at": "2026-11-30T10:00:00+00:00",
                    "sub_code": None,
                    "message": None,
                },
            },
        },
    )
    assert h.recall.count("GET", "/api/v1/bot/11111111-2222-4333-8444-555555555555/") == 1
    assert h.rows(Bot) == []
    (delivery,) = [d for d in h.rows(WebhookDelivery) if d.event_type == "bot.status_change"]
    assert delivery.status.value == "done"


def test_malformed_bot_webhooks_are_refused_and_change_nothing(h: Harness) -> None:
    for data in (
        {
            "data": {"code": "joining_call", "sub_code": None, "updated_at": "not a time"},
            "bot": {"id": "b1", "metadata": {}},
        },
        {
            "data": {"code": "joining_call", "sub_code": None, "updated_at": "2026-11-30T10:00:00Z"},
            "bot": {"metadata": {}},
        },
        {
            "data": {"code": "joining_call", "sub_code": None, "updated_at": "2026-11-30T10:00:00Z"},
            "bot": {"id": "x" * 65, "metadata": {}},
        },
    ):
        response = h.webhook({"event": "bot.joining_call", "data": data}, validate=False)
        assert response.status_code == 400
        assert response.json()["error"].startswith("invalid_payload")
    assert h.rows(WebhookDelivery) == []


# ---- why it could not record ----------------------------------------------------------------------------------


def test_nobody_admitted_it(h: Harness) -> None:
    event_id, bot_id = scheduled_meeting(h)
    deliver(h, *h.recall.play(bot_id, "joining_call", "in_waiting_room"))
    deliver(
        h,
        h.recall.bot_status(bot_id, "call_ended", "timeout_exceeded_waiting_room"),
        h.recall.bot_status(bot_id, "done"),
    )
    message = message_for(h, ADA, event_id)
    text = status_text(message)
    assert "admit" in text.lower()
    assert buttons(message) == []


def test_fatal_bad_link(h: Harness) -> None:
    event_id, bot_id = scheduled_meeting(h)
    deliver(h, h.recall.bot_status(bot_id, "joining_call"), h.recall.bot_status(bot_id, "fatal", "meeting_not_found"))
    text = status_text(message_for(h, ADA, event_id))
    assert "couldn't join" in text
    assert "meeting link" in text


def test_zoom_recording_permission_denied(h: Harness) -> None:
    event_id, bot_id = scheduled_meeting(h, meeting_url="https://us02web.zoom.us/j/81234567890?pwd=abc")
    deliver(
        h,
        *h.recall.play(bot_id, "joining_call", "in_call_not_recording"),
        h.recall.bot_status(bot_id, "recording_permission_denied", "zoom_local_recording_disabled"),
    )
    message = message_for(h, ADA, event_id)
    text = status_text(message)
    assert "Recording refused" in text
    assert "local recording" in text
    assert buttons(message) == ["remove_bot"]


def test_an_unknown_sub_code_gets_a_generic_sentence(h: Harness) -> None:
    event_id, bot_id = scheduled_meeting(h)
    deliver(h, h.recall.bot_status(bot_id, "fatal", "a_code_recall_added_last_week"))
    text = status_text(message_for(h, ADA, event_id))
    assert "a_code_recall_added_last_week" in text


# ---- recording and transcript, fresh at click time -------------------------------------------------------------


def finished(h: Harness, bot_id: str, *, transcript: bool = True) -> None:
    deliver(h, *h.recall.play(bot_id, "joining_call", "in_call_recording", "call_ended", "done"))
    deliver(h, *h.recall.finish_recording(bot_id, transcript=transcript))


def test_get_recording_answers_the_member_alone_with_a_fresh_link(h: Harness) -> None:
    event_id, bot_id = scheduled_meeting(h)
    finished(h, bot_id)
    message = message_for(h, ADA, event_id)
    _, first = h.click(action_id="get_recording", value=event_id, user_id=ADA, message=message)
    url = link_in(ephemeral(h, first))
    assert httpx.get(url).status_code == 200
    # Never stored or posted: not in any message, not in the database.
    assert url not in json.dumps([m.blocks for m in h.slack.messages()])
    assert not any(
        url in json.dumps(row, default=str)
        for table in (WebhookDelivery, Bot, Meeting)
        for row in h.table_rows(table.__table__)
    )
    # A click after the link expired gets a fresh one that works.
    h.recall.advance(h.recall.media_url_ttl + 1)
    assert httpx.get(url).status_code == 403
    _, second = h.click(action_id="get_recording", value=event_id, user_id=ADA, message=message)
    fresh = link_in(ephemeral(h, second))
    assert fresh != url
    assert httpx.get(fresh).status_code == 200
    _, third = h.click(action_id="get_transcript", value=event_id, user_id=ADA, message=message)
    assert httpx.get(link_in(ephemeral(h, third))).status_code == 200


def test_everyone_who_shares_the_bot_gets_the_update_and_the_recording(h: Harness) -> None:
    cal_ada = connect(h, ADA, "ada@acme.test")
    cal_bob = connect(h, BOB, "bob@acme.test")
    start = soon(1)
    url = "https://meet.google.com/abc-defg-hij"
    ada_event = h.recall.add_event(cal_ada, start_time=start, title="Shared", meeting_url=url)
    bob_event = h.recall.add_event(cal_bob, start_time=start, title="Shared", meeting_url=url)
    h.sync(cal_ada)
    h.sync(cal_bob)
    for user, event in ((ADA, ada_event), (BOB, bob_event)):
        h.click(action_id="schedule_bot", value=event["id"], user_id=user, message=message_for(h, user, event["id"]))
    bot_id = h.recall.bot_for_event(ada_event["id"])["id"]  # type: ignore[index]
    assert h.recall.bot_for_event(bob_event["id"])["id"] == bot_id  # type: ignore[index]
    deliver(h, h.recall.bot_status(bot_id, "joining_call"))
    # Ada scheduled it first: only she may remove it; Bob sees where it is.
    assert buttons(message_for(h, ADA, ada_event["id"])) == ["remove_bot"]
    assert buttons(message_for(h, BOB, bob_event["id"])) == []
    assert "is joining" in status_text(message_for(h, BOB, bob_event["id"]))
    finished(h, bot_id)
    for user, event in ((ADA, ada_event), (BOB, bob_event)):
        message = message_for(h, user, event["id"])
        assert buttons(message) == ["get_recording", "get_transcript"]
        _, name = h.click(action_id="get_recording", value=event["id"], user_id=user, message=message)
        assert httpx.get(link_in(ephemeral(h, name))).status_code == 200
    # Bob cannot use Ada's button (a forwarded message, a tampered value): refused, no link.
    _, name = h.click(action_id="get_recording", value=ada_event["id"], user_id=BOB)
    assert "isn't on your calendar" in ephemeral(h, name)
    _, name = h.click(action_id="remove_bot", value=ada_event["id"], user_id=BOB)
    assert "Only the member who scheduled" in ephemeral(h, name)


def test_a_colleague_without_the_meeting_is_refused(h: Harness) -> None:
    event_id, bot_id = scheduled_meeting(h)
    finished(h, bot_id)
    gets = h.recall.count("GET", f"/api/v1/bot/{bot_id}/")
    for action in ("get_recording", "get_transcript"):
        _, name = h.click(action_id=action, value=event_id, user_id=BOB)
        text = ephemeral(h, name)
        assert "isn't on your calendar" in text
        assert "http" not in text
    _, name = h.click(action_id="get_recording", value="x" * 200, user_id=BOB)
    assert "isn't on your calendar" in ephemeral(h, name)
    assert h.recall.count("GET", f"/api/v1/bot/{bot_id}/") == gets  # Recall is not even asked


def test_no_transcript_when_transcription_failed(h: Harness) -> None:
    event_id, bot_id = scheduled_meeting(h)
    finished(h, bot_id, transcript=False)
    deliver(h, h.recall.fail_transcript(bot_id))
    message = message_for(h, ADA, event_id)
    assert buttons(message) == ["get_recording"]
    assert "Transcript failed" in status_text(message)
    _, name = h.click(action_id="get_transcript", value=event_id, user_id=ADA, message=message)
    assert "no transcript" in ephemeral(h, name)


def test_recording_failed(h: Harness) -> None:
    event_id, bot_id = scheduled_meeting(h)
    deliver(h, *h.recall.play(bot_id, "joining_call", "in_call_recording", "call_ended"))
    deliver(h, h.recall.fail_recording(bot_id))
    message = message_for(h, ADA, event_id)
    assert "Recording failed" in status_text(message)
    assert buttons(message) == []


def test_a_recording_recall_deleted_says_so_and_loses_its_buttons(h: Harness) -> None:
    event_id, bot_id = scheduled_meeting(h)
    finished(h, bot_id)
    h.recall.expire_media(bot_id)
    message = message_for(h, ADA, event_id)
    _, name = h.click(action_id="get_recording", value=event_id, user_id=ADA, message=message)
    assert "deleted" in ephemeral(h, name)
    h.wait_idle()
    after = message_for(h, ADA, event_id)
    assert "Recording expired" in status_text(after)
    assert buttons(after) == []


def test_recall_down_at_click_time_says_try_again(h: Harness) -> None:
    event_id, bot_id = scheduled_meeting(h)
    finished(h, bot_id)
    h.recall.fail_next("GET", f"/api/v1/bot/{bot_id}/", 503, times=5)
    _, name = h.click(action_id="get_recording", value=event_id, user_id=ADA)
    assert "try again" in ephemeral(h, name)


def test_still_processing(h: Harness) -> None:
    event_id, bot_id = scheduled_meeting(h)
    deliver(h, *h.recall.play(bot_id, "joining_call", "in_call_recording", "call_ended"))
    _, name = h.click(action_id="get_recording", value=event_id, user_id=ADA)
    assert "still processing" in ephemeral(h, name)


# ---- remove bot -------------------------------------------------------------------------------------------------


def test_the_member_who_scheduled_it_removes_it_from_the_call(h: Harness) -> None:
    event_id, bot_id = scheduled_meeting(h)
    deliver(h, *h.recall.play(bot_id, "joining_call", "in_call_recording"))
    message = message_for(h, ADA, event_id)
    _, name = h.click(action_id="remove_bot", value=event_id, user_id=ADA, message=message)
    assert "is leaving the meeting" in ephemeral(h, name)
    assert h.recall.count("POST", f"/api/v1/bot/{bot_id}/leave_call/") == 1
    deliver(h, *h.recall.take_webhooks())  # Recall's call_ended (bot_received_leave_call) and done
    after = message_for(h, ADA, event_id)
    assert "has left the meeting" in status_text(after)
    assert "remove_bot" not in buttons(after)
    # Pressed again (an old copy of the message): already gone, Recall not asked again.
    _, name = h.click(action_id="remove_bot", value=event_id, user_id=ADA, message=message)
    assert "already left" in ephemeral(h, name)
    assert h.recall.count("POST", f"/api/v1/bot/{bot_id}/leave_call/") == 1


def test_remove_bot_before_it_joined_says_use_skip(h: Harness) -> None:
    event_id, _ = scheduled_meeting(h)
    _, name = h.click(action_id="remove_bot", value=event_id, user_id=ADA)
    assert "Skip" in ephemeral(h, name)


def test_recall_says_the_bot_already_finished(h: Harness) -> None:
    event_id, bot_id = scheduled_meeting(h)
    deliver(h, h.recall.bot_status(bot_id, "joining_call"))
    h.recall.play(bot_id, "fatal")  # Recall knows; its webhook has not reached us yet
    _, name = h.click(action_id="remove_bot", value=event_id, user_id=ADA)
    assert "already left" in ephemeral(h, name)


def test_schedule_and_skip_are_closed_once_the_bot_set_off(h: Harness) -> None:
    event_id, bot_id = scheduled_meeting(h)
    deliver(h, h.recall.bot_status(bot_id, "joining_call"))
    deletes = h.recall.count("DELETE", f"/api/v2/calendar-events/{event_id}/bot/")
    _, name = h.click(action_id="skip_bot", value=event_id, user_id=ADA)
    assert "already set off" in ephemeral(h, name)
    assert h.recall.count("DELETE", f"/api/v2/calendar-events/{event_id}/bot/") == deletes
    (meeting,) = h.rows(Meeting)
    assert meeting.choice == "schedule"
    assert meeting.status is ReconcileStatus.SETTLED


# ---- consent notice: the admin's switch ------------------------------------------------------------------------


def test_an_admin_words_the_consent_notice_or_turns_it_off(h: Harness) -> None:
    h.slack.add_user("T0ACME0001", ADMIN, name="carol", is_admin=True)
    _, name = h.slash("admin consent Recorded by {bot} for {member}; say so if you object.", user_id=ADMIN)
    assert "Recorded by Acme Notetaker for ada@example.com" in h.replies(name)[-1]
    event_id, _ = scheduled_meeting(h)
    config = h.recall.bot_for_event(event_id)["bot_config"]  # type: ignore[index]
    assert (
        config["chat"]["on_bot_join"]["message"]
        == "Recorded by Acme Notetaker for ada@acme.test; say so if you object."
    )

    _, name = h.slash("admin consent off", user_id=ADMIN)
    assert "no longer post" in h.replies(name)[-1]
    cal = h.connections(ADA)[0].recall_calendar_id
    other = h.recall.add_event(cal, start_time=soon(3), title="Later")
    h.sync(cal)
    h.click(action_id="schedule_bot", value=other["id"], user_id=ADA, message=message_for(h, ADA, other["id"]))
    assert "chat" not in h.recall.bot_for_event(other["id"])["bot_config"]  # type: ignore[index]

    _, name = h.slash("admin", user_id=ADMIN)
    assert "Consent notice in the meeting chat: *off*" in h.replies(name)[-1]
    _, name = h.slash("admin consent reset", user_id=ADMIN)
    assert "is recording this meeting for" in h.replies(name)[-1]


def test_only_admins_change_the_consent_notice_and_bad_text_changes_nothing(h: Harness) -> None:
    _, name = h.slash("admin consent off", user_id=BOB)
    assert "admin" in h.replies(name)[-1].lower()
    h.slack.add_user("T0ACME0001", ADMIN, name="carol", is_admin=True)
    for text in ("x" * 401, "line\x07bell"):
        _, name = h.slash(f"admin consent {text}", user_id=ADMIN)
        assert "Nothing was changed" in h.replies(name)[-1]
    event_id, _ = scheduled_meeting(h)
    config = h.recall.bot_for_event(event_id)["bot_config"]  # type: ignore[index]
    assert config["chat"]["on_bot_join"]["message"].startswith("Acme Notetaker is recording this meeting")


def test_a_burst_of_statuses_for_one_meeting_makes_one_update(h: Harness) -> None:
    event_id, bot_id = scheduled_meeting(h)
    updates = len(h.slack.calls_to("chat.update"))
    for payload in h.recall.play(
        bot_id, "joining_call", "in_waiting_room", "in_call_not_recording", "in_call_recording"
    ):
        assert h.webhook(payload, wait=False).status_code == 200
    h.wait_idle()
    assert len(h.slack.calls_to("chat.update")) == updates + 1
    assert "Recording" in status_text(message_for(h, ADA, event_id))
    assert alerts(h, ADA) == []  # it was admitted before we got to it: nobody needs to be told


def test_get_recording_from_the_home_tab_answers_by_dm_and_the_home_never_keeps_the_link(h: Harness) -> None:
    event_id, bot_id = scheduled_meeting(h)
    finished(h, bot_id)
    before = len(h.dms(ADA))
    assert h.click_home(action_id="get_recording", value=event_id, user_id=ADA).status_code == 200
    h.wait_idle()
    answer = h.dms(ADA)[before:]
    assert len(answer) == 1
    url = link_in(answer[0].text or "")
    assert httpx.get(url).status_code == 200
    assert url not in json.dumps(h.slack.home_view(ADA, "T0ACME0001") or {})


def test_a_consent_notice_with_an_ampersand_goes_to_the_chat_as_typed(h: Harness) -> None:
    h.slack.add_user("T0ACME0001", ADMIN, name="carol", is_admin=True)
    # Slack escapes &, < and > in a slash command's text.
    _, name = h.slash("admin consent Q&amp;A recorded by {bot} &lt;for notes&gt;", user_id=ADMIN)
    assert "Q&amp;A recorded by Acme Notetaker &lt;for notes&gt;" in h.replies(name)[-1]  # escaped once, for Slack
    event_id, _ = scheduled_meeting(h)
    config = h.recall.bot_for_event(event_id)["bot_config"]  # type: ignore[index]
    assert config["chat"]["on_bot_join"]["message"] == "Q&A recorded by Acme Notetaker <for notes>"


def shared_meeting(h: Harness, *, bob_clicks: bool = True) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Ada and Bob have the same meeting; Ada schedules the bot, Bob shares it (or not); returns both events and
    the bot's id."""
    cal_ada = connect(h, ADA, "ada@acme.test")
    cal_bob = connect(h, BOB, "bob@acme.test")
    start, url = soon(1), "https://meet.google.com/abc-defg-hij"
    ada_event = h.recall.add_event(cal_ada, start_time=start, title="Shared", meeting_url=url)
    bob_event = h.recall.add_event(cal_bob, start_time=start, title="Shared", meeting_url=url)
    h.sync(cal_ada)
    h.sync(cal_bob)
    clickers = [(ADA, ada_event), (BOB, bob_event)] if bob_clicks else [(ADA, ada_event)]
    for user, event in clickers:
        h.click(action_id="schedule_bot", value=event["id"], user_id=user, message=message_for(h, user, event["id"]))
    bot = h.recall.bot_for_event(ada_event["id"])
    assert bot is not None
    return ada_event, bob_event, bot["id"]


def test_a_colleague_covered_by_the_bot_follows_it_and_gets_the_recording(h: Harness) -> None:
    _ada_event, bob_event, bot_id = shared_meeting(h, bob_clicks=False)
    assert "covers this meeting" in status_text(message_for(h, BOB, bob_event["id"]))
    deliver(h, h.recall.bot_status(bot_id, "joining_call"))
    bob_message = message_for(h, BOB, bob_event["id"])
    assert "is joining" in status_text(bob_message)
    assert buttons(bob_message) == []  # not his to remove, and scheduling is closed
    finished(h, bot_id)
    bob_message = message_for(h, BOB, bob_event["id"])
    assert buttons(bob_message) == ["get_recording", "get_transcript"]
    _, name = h.click(action_id="get_recording", value=bob_event["id"], user_id=BOB, message=bob_message)
    assert httpx.get(link_in(ephemeral(h, name))).status_code == 200
    assert alerts(h, BOB) == []  # the alert goes to members whose own bot it is


def test_a_member_taken_off_the_invite_no_longer_gets_the_recording(h: Harness) -> None:
    ada_event, bob_event, bot_id = shared_meeting(h)
    h.recall.delete_event(bob_event["id"])
    h.sync(h.connections(BOB)[0].recall_calendar_id)
    finished(h, bot_id)
    bob_message = message_for(h, BOB, bob_event["id"])
    assert "Cancelled" in str(bob_message.blocks)
    assert "get_recording" not in buttons(bob_message)
    _, name = h.click(action_id="get_recording", value=bob_event["id"], user_id=BOB)
    assert "isn't on your calendar" in ephemeral(h, name)
    assert buttons(message_for(h, ADA, ada_event["id"])) == ["get_recording", "get_transcript"]


def test_when_the_member_who_scheduled_it_skips_a_colleague_sharing_it_can_remove_it(h: Harness) -> None:
    ada_event, bob_event, bot_id = shared_meeting(h)
    h.click(action_id="undo_choice", value=ada_event["id"], user_id=ADA, message=message_for(h, ADA, ada_event["id"]))
    assert h.recall.bot_for_event(bob_event["id"])["id"] == bot_id  # type: ignore[index]  # Recall keeps it for Bob
    deliver(h, *h.recall.play(bot_id, "joining_call", "in_call_recording"))
    assert buttons(message_for(h, BOB, bob_event["id"])) == ["remove_bot"]
    _, name = h.click(action_id="remove_bot", value=bob_event["id"], user_id=BOB)
    assert "is leaving the meeting" in ephemeral(h, name)
    _, name = h.click(action_id="remove_bot", value=ada_event["id"], user_id=ADA)
    assert "Only the member who scheduled" in ephemeral(h, name)


def test_after_a_bot_failed_a_fixed_link_gets_a_new_bot(h: Harness) -> None:
    event_id, bot_id = scheduled_meeting(h)
    deliver(h, h.recall.bot_status(bot_id, "fatal", "meeting_link_invalid"))
    assert "couldn't join" in status_text(message_for(h, ADA, event_id))
    h.recall.update_event(event_id, meeting_url="https://meet.google.com/new-link-abc")
    h.sync(h.connections(ADA)[0].recall_calendar_id)
    new_bot = h.recall.bot_for_event(event_id)
    assert new_bot is not None and new_bot["id"] != bot_id
    message = message_for(h, ADA, event_id)
    assert "Bot scheduled" in status_text(message)
    assert "undo_choice" in buttons(message)
    deliver(h, h.recall.bot_status(new_bot["id"], "in_waiting_room"))
    assert len(alerts(h, ADA)) == 1  # the new bot has its own waiting room


def test_the_waiting_room_alert_goes_ahead_of_the_message_update_and_survives_its_failure(h: Harness) -> None:
    event_id, bot_id = scheduled_meeting(h)
    h.slack.fail_next("chat.update")  # Slack's limit on updates: the meeting's message waits for its retry
    deliver(h, h.recall.bot_status(bot_id, "in_waiting_room"))
    (alert,) = alerts(h, ADA)
    assert "Design review" in (alert.text or "")
    (meeting,) = h.rows(Meeting)
    assert meeting.admit_alert.value == "sent"
    assert meeting.status is ReconcileStatus.RETRYING  # the update is tried again; the alert is not
    h.clock.advance(timedelta(minutes=5))
    h.run(h.services.meetings.repair)
    assert "waiting room" in status_text(message_for(h, ADA, event_id))
    assert len(alerts(h, ADA)) == 1


def test_an_alert_slack_refused_is_sent_again(h: Harness) -> None:
    _, bot_id = scheduled_meeting(h)
    h.slack.fail_next("chat.postMessage", error="internal_error", status=500, retry_after=None)
    h.slack.fail_next("chat.postMessage", error="internal_error", status=500, retry_after=None)
    deliver(h, h.recall.bot_status(bot_id, "in_waiting_room"))
    assert alerts(h, ADA) == []
    (meeting,) = h.rows(Meeting)
    assert meeting.admit_alert.value == "none"  # Slack said no: it may go again
    h.clock.advance(timedelta(minutes=5))
    h.run(h.services.meetings.repair)
    assert len(alerts(h, ADA)) == 1


def test_an_alert_whose_answer_was_lost_is_never_sent_twice(h: Harness) -> None:
    _, bot_id = scheduled_meeting(h)
    h.slack.lose_next_reply("chat.postMessage")  # Slack posts it; the answer never comes back
    deliver(h, h.recall.bot_status(bot_id, "in_waiting_room"))
    assert len(alerts(h, ADA)) == 1
    h.clock.advance(timedelta(minutes=5))
    h.run(h.services.meetings.repair)
    deliver(h, h.recall.bot_status(bot_id, "in_waiting_room"))  # redelivered under a new message id
    assert len(alerts(h, ADA)) == 1


def test_the_recording_is_offered_as_soon_as_recording_done_arrives_before_the_bot_shuts_down(h: Harness) -> None:
    event_id, bot_id = scheduled_meeting(h)
    deliver(h, *h.recall.play(bot_id, "joining_call", "in_call_recording", "call_ended"))
    deliver(h, *h.recall.finish_recording(bot_id, transcript=False))  # no bot.done yet
    message = message_for(h, ADA, event_id)
    assert "Recording ready" in status_text(message)
    assert buttons(message) == ["get_recording"]
