"""Quiet by default (issue #8): one summary on connecting, a DM only for new meetings (as notify allows), the daily
agenda, reminders before undecided meetings, the Home tab as the control panel, nothing for members who left.
Through `/slack/events` and the jobs, with the app's clock moved instead of slept."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from recall.client import RecallClient
from slackbot import jobs
from slackbot.registry import build_services
from slackbot.services.reminders import CLAIM_STALE
from storage.lifecycle import DigestKind, ReconcileStatus, ReminderStatus
from storage.models import Digest, Meeting, Member
from tests.conftest import TEAM_ID
from tests.scenarios.harness import Harness
from tests.scenarios.test_meetings import ADA, buttons, connect, message_for, soon
from tests.scenarios.test_replicas import other_replica
from tests.scenarios.test_rules import say
from tests.twins.fake_slack import Message, checkboxes_action, select_action

NEW_YORK = ZoneInfo("America/New_York")  # FakeSlack's default `tz` for a member
LONG_AGO = "2026-01-05T09:00:00.000Z"


def existing(h: Harness, cal: str, **kw: Any) -> dict[str, Any]:
    """An event created at the provider long before the member connected (Google `raw.created`)."""
    return h.recall.add_event(cal, raw_extra={"created": LONG_AGO}, **kw)


def own_dms(h: Harness, user_id: str = ADA) -> list[Message]:
    return [m for m in h.dms(user_id) if any(b.get("block_id") == "meeting_actions" for b in m.blocks or [])]


def summary(h: Harness, user_id: str = ADA) -> Message:
    (found,) = [m for m in h.dms(user_id) if "is connected for" in (m.text or "")]
    return h.slack.message(found.channel, found.ts)


def row_buttons(message: Message, event_id: str) -> list[str]:
    return [
        e["action_id"]
        for b in message.blocks or []
        if b.get("block_id") == f"meeting_actions:{event_id}"
        for e in b.get("elements", [])
    ]


def next_weekday(at: time, *, weekday: int = 1) -> datetime:
    """The next given weekday (Tuesday by default) at ``at``, New York time, as UTC."""
    today = datetime.now(NEW_YORK).date()
    days = (weekday - today.weekday()) % 7 or 7
    return datetime.combine(today + timedelta(days=days), at, tzinfo=NEW_YORK).astimezone(UTC)


def run(h: Harness, job: Any) -> Any:
    async def go() -> Any:
        return await job(h.services)

    return h.run(go)


def test_connecting_sends_one_summary_not_a_dm_per_meeting(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    assert "Recall is syncing your events now" in str(summary(h).blocks)
    olds = [existing(h, cal, start_time=soon(20 + i), title=f"Old {i}") for i in range(12)]
    later = existing(h, cal, start_time=soon(24 * 9), title="Far away")
    h.sync(cal)
    assert own_dms(h) == []  # none of the meetings that were there before gets a DM of its own
    message = summary(h)
    text = str(message.blocks)
    assert "I found 13 meetings coming up with a video link" in text
    assert "None is recorded unless you schedule it" in text
    assert row_buttons(message, olds[0]["id"]) == ["schedule_bot", "skip_bot"]
    assert row_buttons(message, later["id"]) == []  # beyond the next days: on the Home tab
    assert "…and 2 meetings more on the Home tab." in text  # 10 shown of the 12 in the next 7 days
    assert len(message.blocks) <= 50

    # A click on the summary schedules the bot and the summary follows in place.
    h.click(action_id="schedule_bot", value=olds[0]["id"], user_id=ADA, message=message)
    assert h.recall.bot_for_event(olds[0]["id"]) is not None
    updated = summary(h)
    assert updated.ts == message.ts
    assert row_buttons(updated, olds[0]["id"]) == ["undo_choice"]
    assert "You scheduled the bot for this meeting." in str(updated.blocks)

    # A meeting created after connecting gets its own DM, as before.
    new = h.recall.add_event(cal, start_time=soon(30), title="Brand new")
    h.sync(cal)
    assert [new["id"] in str(m.blocks) for m in own_dms(h)] == [True]
    assert row_buttons(summary(h), new["id"]) == []  # the summary stays about what was found


def test_a_rule_shows_in_the_summary(h: Harness) -> None:
    say(h, "rule all")
    cal = connect(h, ADA, "ada@acme.test")
    for i in range(3):
        existing(h, cal, start_time=soon(20 + i), title=f"Old {i}")
    h.sync(cal)
    assert "Your rule *all meetings with a video link* records 3 of them." in str(summary(h).blocks)


def has_own_dm(h: Harness, event: dict[str, Any]) -> bool:
    return any(event["id"] in str(m.blocks) for m in own_dms(h))


def test_notify_each_undecided_off(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    assert any("a DM for every new meeting" in t for t in say(h, "notify"))
    assert any("only for new meetings no rule or choice decides" in t for t in say(h, "notify undecided"))
    say(h, "exclude add interview")
    say(h, "rule ask")
    interview = h.recall.add_event(cal, start_time=soon(30), title="Interview: Sam")  # decided: the keyword
    planning = h.recall.add_event(cal, start_time=soon(31), title="Planning")  # nobody decided
    h.sync(cal)
    assert not has_own_dm(h, interview) and has_own_dm(h, planning)

    say(h, "rule all")
    decided = h.recall.add_event(cal, start_time=soon(32), title="By the rule")
    h.sync(cal)
    assert not has_own_dm(h, decided)

    assert any("no per-meeting DMs" in t for t in say(h, "notify off"))
    say(h, "rule ask")
    quiet = h.recall.add_event(cal, start_time=soon(33), title="Quiet")
    h.sync(cal)
    assert not has_own_dm(h, quiet)

    say(h, "notify each")
    loud = h.recall.add_event(cal, start_time=soon(34), title="Loud")
    h.sync(cal)
    assert has_own_dm(h, loud)
    # A DM already posted keeps following its meeting whatever the setting is now.
    say(h, "notify off")
    h.recall.update_event(planning["id"], title="Planning (moved)")
    h.sync(cal)
    assert "Planning (moved)" in str(message_for(h, ADA, planning["id"]).blocks)
    assert any("Use `/recall notify each`" in t for t in say(h, "notify sometimes"))


def test_the_daily_agenda(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    run(h, jobs.refresh_profiles)
    morning = next_weekday(time(8, 31))
    day = morning.astimezone(NEW_YORK).date()
    at = lambda hh, mm: datetime.combine(day, time(hh, mm), tzinfo=NEW_YORK).astimezone(UTC)  # noqa: E731
    standup = h.recall.add_event(cal, start_time=at(10, 0), end_time=at(10, 15), title="Standup")
    review = h.recall.add_event(cal, start_time=at(14, 0), end_time=at(15, 0), title="Review")
    h.recall.add_event(cal, start_time=at(16, 0), title="No link", meeting_url=None)
    tomorrow = h.recall.add_event(cal, start_time=at(10, 0) + timedelta(days=1), title="Tomorrow")
    h.sync(cal)
    before = len(h.dms(ADA))

    h.clock.set(morning - timedelta(minutes=2))  # 08:29 local: not yet
    assert run(h, jobs.send_agendas) == 0
    h.clock.set(morning)
    assert run(h, jobs.send_agendas) == 1
    assert run(h, jobs.send_agendas) == 0  # never twice
    agendas = h.dms(ADA)[before:]
    assert len(agendas) == 1
    agenda = agendas[0]
    text = str(agenda.blocks)
    assert "Your meetings today" in text and "2 meetings with a video link" in text
    assert standup["id"] in text and review["id"] in text and tomorrow["id"] not in text and "No link" not in text

    # A click in the agenda: the agenda and the meeting's own DM both follow.
    h.click(action_id="schedule_bot", value=review["id"], user_id=ADA, message=agenda)
    again = h.slack.message(agenda.channel, agenda.ts)
    assert row_buttons(again, review["id"]) == ["undo_choice"]
    assert buttons(message_for(h, ADA, review["id"])) == ["undo_choice"]
    # A meeting moved during the day: updated in place, no new message.
    h.recall.update_event(standup["id"], start_time=at(11, 0), end_time=at(11, 15))
    h.sync(cal)
    assert str(int(at(11, 0).timestamp())) in str(h.slack.message(agenda.channel, agenda.ts).blocks)
    assert len(h.dms(ADA)) == before + 1


def agenda_due_now(h: Harness) -> int:
    """Ada's agenda time has come; returns how many DMs came before."""
    a_working_morning_with_a_meeting_soon(h)
    return len(h.dms(ADA))


def agendas(h: Harness, before: int) -> list[Message]:
    return [m for m in h.dms(ADA)[before:] if "Your meetings today" in str(m.blocks)]


def test_an_agenda_whose_reply_was_lost_is_found_not_sent_twice(h: Harness) -> None:
    before = agenda_due_now(h)
    h.slack.lose_next_reply("chat.postMessage")
    assert run(h, jobs.send_agendas) == 1
    run(h, jobs.send_agendas)
    (agenda,) = agendas(h, before)
    (row,) = h.rows(Digest, Digest.kind == DigestKind.AGENDA)
    assert (row.message_ts, row.post_sent_at) == (agenda.ts, None)


def test_an_agenda_slack_took_before_its_process_died_is_found_and_kept_in_line(h: Harness) -> None:
    before = agenda_due_now(h)
    assert run(h, jobs.send_agendas) == 1
    (agenda,) = agendas(h, before)
    # The state a process leaves when it dies after Slack took the post and before recording it.
    h.execute(
        update(Digest)
        .where(Digest.kind == DigestKind.AGENDA)
        .values(
            channel_id=None,
            message_ts=None,
            rendered_hash=None,
            may_post=True,
            status=ReconcileStatus.PENDING,
            due_at=h.clock(),
            post_sent_at=datetime.fromtimestamp(float(agenda.ts), UTC),
        )
    )
    run(h, jobs.send_agendas)
    assert agendas(h, before) == [agenda]
    (row,) = h.rows(Digest, Digest.kind == DigestKind.AGENDA)
    assert row.message_ts == agenda.ts


def test_an_agenda_that_never_reached_slack_is_sent_once_on_the_retry(h: Harness) -> None:
    before = agenda_due_now(h)
    h.slack.drop_next_request("chat.postMessage")
    run(h, jobs.send_agendas)
    assert agendas(h, before) == []
    (row,) = h.rows(Digest, Digest.kind == DigestKind.AGENDA)
    assert row.status is ReconcileStatus.RETRYING and row.post_sent_at is not None
    h.execute(update(Digest).where(Digest.kind == DigestKind.AGENDA).values(due_at=h.clock()))
    run(h, jobs.send_agendas)
    (agenda,) = agendas(h, before)
    (row,) = h.rows(Digest, Digest.kind == DigestKind.AGENDA)
    assert (row.message_ts, row.post_sent_at) == (agenda.ts, None)


def test_agenda_days_times_and_off(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    run(h, jobs.refresh_profiles)
    saturday = next_weekday(time(9, 0), weekday=5)
    h.recall.add_event(cal, start_time=saturday + timedelta(hours=2), title="Weekend thing")
    h.sync(cal)
    h.clock.set(saturday)
    assert run(h, jobs.send_agendas) == 0  # no agenda at weekends

    empty_day = next_weekday(time(8, 45), weekday=3)  # a Thursday with no meetings
    h.clock.set(empty_day)
    before = len(h.dms(ADA))
    run(h, jobs.send_agendas)
    assert len(h.dms(ADA)) == before  # a day with no meetings sends nothing

    assert any("09:15" in t for t in say(h, "agenda 9:15"))
    wednesday = next_weekday(time(9, 0), weekday=2)
    h.recall.add_event(cal, start_time=wednesday + timedelta(hours=3), title="Wednesday")
    h.sync(cal)
    h.clock.set(wednesday)
    assert run(h, jobs.send_agendas) == 0  # 09:00 < 09:15
    h.clock.set(wednesday + timedelta(hours=4))  # the process was down at 09:15: sent later that day
    assert run(h, jobs.send_agendas) == 1
    assert any("agenda is off" in t or "No more daily agenda" in t for t in say(h, "agenda off"))
    assert any("`HH:MM`" in t for t in say(h, "agenda 25:00"))
    assert any("`HH:MM`" in t for t in say(h, "agenda soon"))
    assert [m.agenda_minute for m in h.rows(Member, Member.slack_user_id == ADA)] == [None]


def test_a_reminder_before_an_undecided_meeting(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    undecided = h.recall.add_event(cal, start_time=soon(2), title="Undecided")
    decided = h.recall.add_event(cal, start_time=soon(2), title="Decided")
    h.sync(cal)
    h.click(action_id="skip_bot", value=decided["id"], user_id=ADA)
    start = datetime.fromisoformat(undecided["start_time"].replace("Z", "+00:00"))
    h.clock.set(start - timedelta(minutes=40))
    assert run(h, jobs.send_reminders) == 0  # not yet
    h.clock.set(start - timedelta(minutes=29))
    before = len(h.dms(ADA))
    assert run(h, jobs.send_reminders) == 1
    assert run(h, jobs.send_reminders) == 0  # once
    (reminder,) = h.dms(ADA)[before:]
    assert "Starts in 30 minutes" in str(reminder.blocks) and undecided["id"] in str(reminder.blocks)
    assert decided["id"] not in str(reminder.blocks)
    # Deciding from the reminder updates it in place.
    h.click(action_id="schedule_bot", value=undecided["id"], user_id=ADA, message=reminder)
    assert "Bot scheduled" in str(h.slack.message(reminder.channel, reminder.ts).blocks)


def reminder_due(h: Harness) -> tuple[str, dict[str, Any], int]:
    """Ada's undecided meeting, its reminder due now: the calendar, the event, and how many DMs came before."""
    cal = connect(h, ADA, "ada@acme.test")
    undecided = h.recall.add_event(cal, start_time=soon(2), title="Undecided")
    h.sync(cal)
    start = datetime.fromisoformat(undecided["start_time"].replace("Z", "+00:00"))
    h.clock.set(start - timedelta(minutes=29))
    return cal, undecided, len(h.dms(ADA))


def without_history_scope(h: Harness) -> None:
    """The workspace as installed before the app asked for `im:history`."""
    workspace = h.slack.workspace(TEAM_ID)
    h.slack.add_workspace(
        TEAM_ID,
        workspace.team_name,
        bot_token=workspace.bot_token,
        bot_user_id=workspace.bot_user_id,
        scopes=tuple(s for s in workspace.scopes if s != "im:history"),
    )


def test_a_reminder_whose_reply_was_lost_is_found_not_sent_twice(h: Harness) -> None:
    cal, undecided, before = reminder_due(h)
    h.slack.lose_next_reply("chat.postMessage")
    assert run(h, jobs.send_reminders) == 1  # Slack took it; the app looked for it and found it
    assert run(h, jobs.send_reminders) == 0
    (reminder,) = h.dms(ADA)[before:]
    (row,) = h.rows(Meeting, Meeting.recall_event_id == undecided["id"])
    assert (row.reminder, row.reminder_ts) == (ReminderStatus.SENT, reminder.ts)
    # A reminder that never reached Slack is sent again by the next run, once.
    other = h.recall.add_event(cal, start_time=soon(2), title="Dropped")
    h.sync(cal)
    h.slack.drop_next_request("chat.postMessage")
    assert run(h, jobs.send_reminders) == 0
    assert run(h, jobs.send_reminders) == 1
    reminders = [m for m in h.dms(ADA)[before:] if other["id"] in str(m.blocks) and "Starts in 30" in m.text]
    assert len(reminders) == 1


def died_while_sending(h: Harness, event_id: str, *, ago: timedelta) -> None:
    """The state a process leaves when it dies after claiming a reminder and before recording it."""
    h.execute(
        update(Meeting)
        .where(Meeting.recall_event_id == event_id)
        .values(
            reminder=ReminderStatus.SENDING,
            reminder_claimed_at=h.clock() - ago,
            reminder_channel_id=None,
            reminder_ts=None,
        )
    )


def test_a_reminder_a_dead_process_claimed_is_sent_once_after_its_claim_goes_stale(h: Harness) -> None:
    _, undecided, before = reminder_due(h)
    died_while_sending(h, undecided["id"], ago=CLAIM_STALE - timedelta(seconds=30))
    assert run(h, jobs.send_reminders) == 0  # the claim may still be a live process's
    died_while_sending(h, undecided["id"], ago=CLAIM_STALE + timedelta(seconds=1))
    assert run(h, jobs.send_reminders) == 1  # taken over: not in the DM, so sent
    assert run(h, jobs.send_reminders) == 0
    (reminder,) = h.dms(ADA)[before:]
    assert "Starts in 30 minutes" in str(reminder.blocks)
    (row,) = h.rows(Meeting, Meeting.recall_event_id == undecided["id"])
    assert (row.reminder, row.reminder_ts) == (ReminderStatus.SENT, reminder.ts)


def test_a_reminder_slack_took_before_its_process_died_is_found_not_sent_again(h: Harness) -> None:
    _, undecided, before = reminder_due(h)
    assert run(h, jobs.send_reminders) == 1
    died_while_sending(h, undecided["id"], ago=CLAIM_STALE + timedelta(seconds=1))  # before recording it

    assert run(h, jobs.send_reminders) == 1  # found in the DM
    (reminder,) = h.dms(ADA)[before:]
    (row,) = h.rows(Meeting, Meeting.recall_event_id == undecided["id"])
    assert (row.reminder, row.reminder_channel_id, row.reminder_ts) == (
        ReminderStatus.SENT,
        reminder.channel,
        reminder.ts,
    )
    # Slack not answering the search: nothing is sent, and it is tried again later.
    died_while_sending(h, undecided["id"], ago=CLAIM_STALE + timedelta(seconds=1))
    h.slack.fail_next("conversations.history", "internal_error", status=500)
    assert run(h, jobs.send_reminders) == 0
    assert len(h.dms(ADA)[before:]) == 1
    h.clock.advance(CLAIM_STALE + timedelta(seconds=1))
    assert run(h, jobs.send_reminders) == 1
    assert len(h.dms(ADA)[before:]) == 1


def test_a_dead_claim_on_an_install_without_the_history_scope_is_sent_again_as_it_used_to(h: Harness) -> None:
    _, undecided, before = reminder_due(h)
    without_history_scope(h)
    died_while_sending(h, undecided["id"], ago=CLAIM_STALE + timedelta(seconds=1))
    assert run(h, jobs.send_reminders) == 1  # not searchable: sent, rather than never
    assert run(h, jobs.send_reminders) == 0
    assert len(h.dms(ADA)[before:]) == 1


def test_a_reminder_whose_claim_was_taken_over_is_not_sent_by_the_process_that_lost_it(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, undecided, before = reminder_due(h)
    gateway = h.services.gateway
    post_dm = gateway.post_dm
    taken_at = h.clock() + timedelta(minutes=3)

    async def held_until_taken_over(*args: Any, **kwargs: Any) -> Any:
        # This process stalled past its claim's life; another one took the reminder over meanwhile.
        async with h.services.db.transaction() as session:
            await session.execute(
                update(Meeting).where(Meeting.recall_event_id == undecided["id"]).values(reminder_claimed_at=taken_at)
            )
        return await post_dm(*args, **kwargs)

    monkeypatch.setattr(gateway, "post_dm", held_until_taken_over)
    assert run(h, jobs.send_reminders) == 0
    assert h.dms(ADA)[before:] == []
    (row,) = h.rows(Meeting, Meeting.recall_event_id == undecided["id"])
    assert (row.reminder, row.reminder_claimed_at) == (ReminderStatus.SENDING, taken_at)  # the other one's


def test_no_reminder_too_late_or_when_off(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    late = h.recall.add_event(cal, start_time=soon(2), title="Late")
    h.sync(cal)
    start = datetime.fromisoformat(late["start_time"].replace("Z", "+00:00"))
    h.clock.set(start - timedelta(minutes=5))  # too close for Recall to send a bot
    assert run(h, jobs.send_reminders) == 0
    assert [m.reminder.value for m in h.rows(Meeting, Meeting.recall_event_id == late["id"])] == ["missed"]

    say(h, "remind off")
    other = h.recall.add_event(cal, start_time=soon(3), title="Other")
    h.sync(cal)
    h.clock.set(datetime.fromisoformat(other["start_time"].replace("Z", "+00:00")) - timedelta(minutes=25))
    assert run(h, jobs.send_reminders) == 0
    assert any("Reminders are off" in t for t in say(h, "remind"))
    assert any("`/recall remind on`" in t for t in say(h, "remind maybe"))


def a_working_morning_with_a_meeting_soon(h: Harness) -> None:
    """Ada connected; 09:50 on a weekday, her agenda due and a meeting nobody decided starting in 25 minutes."""
    cal = connect(h, ADA, "ada@acme.test")
    run(h, jobs.refresh_profiles)
    morning = next_weekday(time(9, 50))
    h.recall.add_event(cal, start_time=morning + timedelta(minutes=25), title="Soon")
    h.sync(cal)
    h.clock.set(morning)


def test_two_processes_send_one_agenda_and_one_reminder(h: Harness) -> None:
    a_working_morning_with_a_meeting_soon(h)
    recall = RecallClient(api_key=h.recall.api_key, base_url=h.recall.base_url, backoff_base=0.001, backoff_cap=0.01)
    other = build_services(h.settings, recall=recall, clock=h.clock)
    before = len(h.dms(ADA))

    async def both() -> None:
        try:
            await asyncio.gather(
                jobs.send_agendas(h.services),
                jobs.send_agendas(other),
                jobs.send_reminders(h.services),
                jobs.send_reminders(other),
            )
            await asyncio.gather(jobs.send_agendas(h.services), jobs.send_agendas(other))
        finally:
            await other.aclose()

    h.run(both)
    new = h.dms(ADA)[before:]
    assert sum("Your meetings today" in str(m.blocks) for m in new) == 1
    assert sum("Starts in 30 minutes" in str(m.blocks) for m in new) == 1
    assert len(new) == 2


def test_two_os_processes_send_one_agenda_and_one_reminder(h: Harness) -> None:
    """The same with a real second process (its own interpreter, engine and scheduler run) on the same database."""
    a_working_morning_with_a_meeting_soon(h)
    before = len(h.dms(ADA))

    other = threading.Thread(
        target=other_replica, args=(h,), kwargs={"action": "daily_jobs", "now": h.clock().isoformat()}
    )
    other.start()
    try:
        run(h, lambda services: asyncio.gather(jobs.send_agendas(services), jobs.send_reminders(services)))
    finally:
        other.join(60)
    assert not other.is_alive()
    run(h, jobs.send_agendas)  # and once more here, after both
    new = h.dms(ADA)[before:]
    assert sum("Your meetings today" in str(m.blocks) for m in new) == 1
    assert sum("Starts in 30 minutes" in str(m.blocks) for m in new) == 1
    assert len(new) == 2


def test_the_home_tab_is_the_control_panel(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    existing(h, cal, start_time=soon(20), title="Existing one")
    h.recall.add_event(cal, start_time=soon(48), title="Two days out")
    h.sync(cal)
    h.event({"type": "app_home_opened", "user": ADA, "channel": "D0ADA00001", "tab": "home", "event_ts": "1.0"})
    home = str(h.slack.home_view(ADA, TEAM_ID)["blocks"])
    assert "Your next 7 days" in home and "Existing one" in home and "Two days out" in home
    assert "home_notify" in home and "home_attention" in home and "home_agenda_time" in home

    def click(action: dict[str, Any]) -> None:
        h.click_home(action_id=action["action_id"], value="", user_id=ADA, action=action)

    click(select_action(action_id="home_notify", block_id="home_notify", value="off"))
    click(checkboxes_action(action_id="home_attention", block_id="home_attention", values=["agenda"]))
    (member,) = h.rows(Member, Member.slack_user_id == ADA)
    assert (member.notify, member.agenda_minute, member.remind) == ("off", 8 * 60 + 30, False)
    click(
        {"type": "timepicker", "action_id": "home_agenda_time", "block_id": "home_attention", "selected_time": "07:45"}
    )
    assert [m.agenda_minute for m in h.rows(Member, Member.slack_user_id == ADA)] == [7 * 60 + 45]
    click({"type": "timepicker", "action_id": "home_agenda_time", "block_id": "home_attention", "selected_time": "7pm"})
    assert [m.agenda_minute for m in h.rows(Member, Member.slack_user_id == ADA)] == [7 * 60 + 45]

    # A sync that changes one of its meetings refreshes the open Home within the job's minute.
    publishes = len(h.slack.calls_to("views.publish"))
    moved = h.recall.add_event(cal, start_time=soon(50), title="Added later")
    h.sync(cal)
    assert run(h, jobs.refresh_homes) == 1
    assert len(h.slack.calls_to("views.publish")) == publishes + 1
    assert moved["id"] in str(h.slack.home_view(ADA, TEAM_ID)["blocks"])
    assert run(h, jobs.refresh_homes) == 0  # nothing changed since
    # Not opened for an hour: not republished on every sync.
    h.clock.advance(timedelta(hours=1))
    h.recall.add_event(cal, start_time=soon(52), title="Another")
    h.sync(cal)
    assert run(h, jobs.refresh_homes) == 0


def test_nothing_is_sent_to_a_member_who_left(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    h.slack.deactivate_user(TEAM_ID, ADA)
    run(h, jobs.refresh_profiles)
    assert [m.active for m in h.rows(Member, Member.slack_user_id == ADA)] == [False]
    before = len(h.dms(ADA))
    event = h.recall.add_event(cal, start_time=soon(1), title="After leaving")
    h.sync(cal)
    h.clock.set(datetime.fromisoformat(event["start_time"].replace("Z", "+00:00")) - timedelta(minutes=25))
    run(h, jobs.send_reminders)
    h.clock.set(next_weekday(time(9, 0)))
    run(h, jobs.send_agendas)
    assert len(h.dms(ADA)) == before
    assert h.rows(Digest, Digest.kind == "agenda") == []


def test_buttons_on_the_home_tab_act_and_answer_on_the_home_tab(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    event = existing(h, cal, start_time=soon(20), title="From the Home tab")
    gone = existing(h, cal, start_time=soon(21), title="Soon cancelled")
    h.sync(cal)
    h.event({"type": "app_home_opened", "user": ADA, "channel": "D0ADA00001", "tab": "home", "event_ts": "1.0"})
    h.click_home(action_id="schedule_bot", value=event["id"], user_id=ADA)
    assert h.recall.bot_for_event(event["id"]) is not None
    home = str(h.slack.home_view(ADA, TEAM_ID)["blocks"])
    assert "You scheduled the bot for this meeting." in home
    h.recall.delete_event(gone["id"])
    h.sync(cal)
    h.click_home(action_id="schedule_bot", value=gone["id"], user_id=ADA)
    assert "This meeting was cancelled, so nothing was changed." in str(h.slack.home_view(ADA, TEAM_ID)["blocks"])
    assert h.recall.bot_for_event(gone["id"]) is None
    # A setting changed by command shows on the open Home within the refresh job.
    say(h, "notify off")
    assert run(h, jobs.refresh_homes) == 1
    assert "No per-meeting DMs" in str(h.slack.home_view(ADA, TEAM_ID)["blocks"])
