"""Meetings in the database: found by status and due time, claimed by one process, marked pending with their
version moved on, bots forgotten on disconnect and meetings woken up on reconnect."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from storage import connections, leases
from storage import meetings as repo
from storage.db import Database
from storage.lifecycle import AlertStatus, ReconcileStatus, ReminderStatus
from storage.models import CalendarConnection, Meeting
from tests.storage.conftest import NOW, add_meeting, add_member

LEASE = timedelta(seconds=60)


async def get(db: Database, event_id: str) -> Meeting:
    async with db.transaction() as session:
        meeting = await session.get(Meeting, event_id)
        assert meeting is not None
        return meeting


async def test_due_meetings_select_by_status_and_time(db: Database) -> None:
    connection = await add_member(db)
    await add_meeting(db, connection, "pending", status=ReconcileStatus.PENDING, due_at=NOW)
    await add_meeting(db, connection, "retry-now", status=ReconcileStatus.RETRYING, due_at=NOW - timedelta(seconds=1))
    await add_meeting(db, connection, "retry-later", status=ReconcileStatus.RETRYING, due_at=NOW + timedelta(minutes=1))
    await add_meeting(db, connection, "ended", status=ReconcileStatus.SETTLED, due_at=NOW - timedelta(minutes=5))
    await add_meeting(db, connection, "settled", status=ReconcileStatus.SETTLED, due_at=None)
    await add_meeting(
        db,
        connection,
        "held",
        status=ReconcileStatus.PENDING,
        due_at=NOW,
        claimed_by="other",
        claimed_until=NOW + LEASE,
    )
    async with db.transaction() as session:
        repair = await repo.due_meetings(session, statuses=[ReconcileStatus.PENDING, ReconcileStatus.RETRYING], now=NOW)
        ended = await repo.due_meetings(session, statuses=[ReconcileStatus.SETTLED], now=NOW)
        limited = await repo.due_meetings(
            session, statuses=[ReconcileStatus.PENDING, ReconcileStatus.RETRYING], now=NOW, limit=1
        )
    assert sorted(repair) == ["pending", "retry-now"]
    assert ended == ["ended"]
    assert len(limited) == 1


async def test_one_process_acts_on_a_meeting(db: Database) -> None:
    await add_meeting(db, await add_member(db), "e1")
    async with db.transaction() as session:
        assert await repo.claim_meeting(session, "e1", owner="a", lease=LEASE, now=NOW)
    async with db.transaction() as session:
        assert not await repo.claim_meeting(session, "e1", owner="b", lease=LEASE, now=NOW)
        assert not await repo.claim_meeting(session, "e1", owner="a", lease=LEASE, now=NOW)
        assert not await repo.claim_meeting(session, "missing", owner="a", lease=LEASE, now=NOW)
    async with db.transaction() as session:
        assert await leases.release(session, Meeting, "e1", owner="a")
        assert await repo.claim_meeting(session, "e1", owner="b", lease=LEASE, now=NOW)


async def test_mark_pending_moves_the_version_on(db: Database) -> None:
    await add_meeting(db, await add_member(db), "e1", status=ReconcileStatus.RETRYING, attempts=3, due_at=None)
    async with db.transaction() as session:
        meeting = await session.get(Meeting, "e1")
        repo.mark_pending(meeting, now=NOW)
    meeting = await get(db, "e1")
    assert (meeting.status, meeting.due_at, meeting.attempts, meeting.version) == (ReconcileStatus.PENDING, NOW, 0, 2)


async def test_colleagues_sharing_a_key_are_marked_pending(db: Database) -> None:
    ada = await add_member(db, user_id="UADA", calendar="cal-ada")
    bob = await add_member(db, user_id="UBOB", calendar="cal-bob")
    key = "2026-11-30T10:00:00Z-https://zoom.us/j/1"
    await add_meeting(db, ada, "ada", current_key=key, scheduled_key=key, message_ts="1.0", channel_id="D1")
    await add_meeting(
        db, bob, "bob", current_key=key, message_ts="2.0", channel_id="D2", status=ReconcileStatus.SETTLED
    )
    # No message yet (its first may be on its way, decided before the bot existed): it must hear of it too.
    await add_meeting(db, bob, "bob-silent", current_key=key)
    await add_meeting(db, bob, "bob-other", current_key="other", message_ts="3.0", channel_id="D2")
    async with db.transaction() as session:
        assert await repo.colleagues_with_bot(session, team_id="T1", key=key, exclude_user_id="UBOB") == ["UADA"]
        assert await repo.colleagues_with_bot(session, team_id="T1", key=key, exclude_user_id="UADA") == []
        assert await repo.colleagues_with_bot(session, team_id="T2", key=key, exclude_user_id="UBOB") == []
        marked = await repo.mark_sharing_key_pending(session, team_id="T1", keys=[key], except_event_id="ada", now=NOW)
        assert await repo.mark_sharing_key_pending(session, team_id="T1", keys=[], except_event_id="ada", now=NOW) == []
    assert sorted(marked) == ["bob", "bob-silent"]
    bob_meeting = await get(db, "bob")
    assert (bob_meeting.status, bob_meeting.version) == (ReconcileStatus.PENDING, 2)
    assert (await get(db, "ada")).version == 1


async def test_a_shared_bot_stays_within_its_workspace_and_key(db: Database) -> None:
    """One bot per key per workspace: another workspace's meeting at the same link and time, or a colleague's with
    another key, is neither counted as sharing it nor woken up; those woken start afresh, due now."""
    ada = await add_member(db, user_id="UADA", calendar="cal-ada")
    bob = await add_member(db, user_id="UBOB", calendar="cal-bob")
    eve = await add_member(db, team_id="T2", user_id="UEVE", calendar="cal-eve")
    key = "2026-11-30T10:00:00Z-https://zoom.us/j/1"
    await add_meeting(db, ada, "ada", current_key=key, scheduled_key=key)
    await add_meeting(
        db, bob, "bob", current_key=key, status=ReconcileStatus.RETRYING, attempts=3, due_at=NOW + timedelta(hours=1)
    )
    await add_meeting(db, bob, "bob-other", current_key="other", scheduled_key="other")
    await add_meeting(db, eve, "eve", team_id="T2", current_key=key, scheduled_key=key, status=ReconcileStatus.SETTLED)
    async with db.transaction() as session:
        assert await repo.event_ids_sharing_key(session, team_id="T1", key=key) == ["ada"]
        assert await repo.event_ids_sharing_key(session, team_id="T2", key=key) == ["eve"]
        marked = await repo.mark_sharing_key_pending(session, team_id="T1", keys=[key], except_event_id="ada", now=NOW)
    assert marked == ["bob"]
    woken = await get(db, "bob")
    assert (woken.status, woken.attempts, woken.due_at, woken.version) == (ReconcileStatus.PENDING, 0, NOW, 2)
    other = await get(db, "eve")
    assert (other.status, other.version) == (ReconcileStatus.SETTLED, 1)


async def test_a_meeting_whose_calendar_went_meanwhile_has_no_owner(db: Database) -> None:
    connection_id = await add_member(db, user_id="UADA")
    await add_meeting(db, connection_id, "e1")
    async with db.transaction() as session:
        meeting = await session.get(Meeting, "e1")
        assert meeting is not None
        owner = await repo.owner_of(session, meeting)
        assert owner is not None and (owner[0].id, owner[1].slack_user_id) == (connection_id, "UADA")
        # Disconnected by another process while this one held the meeting.
        await session.execute(delete(CalendarConnection).where(CalendarConnection.id == connection_id))
        assert await repo.owner_of(session, meeting) is None


async def test_disconnect_forgets_bots_and_reconnect_wakes_meetings(db: Database) -> None:
    connection_id = await add_member(db)
    key = "k"
    await add_meeting(db, connection_id, "upcoming", scheduled_key=key, status=ReconcileStatus.SETTLED, due_at=None)
    await add_meeting(
        db,
        connection_id,
        "past",
        scheduled_key=key,
        start_time=NOW - timedelta(hours=3),
        end_time=NOW - timedelta(hours=2),
        status=ReconcileStatus.SETTLED,
        due_at=None,
    )
    async with db.transaction() as session:
        connection = await session.get(CalendarConnection, connection_id)
        await connections.set_status(session, connection, "disconnected", now=NOW)
    assert (await get(db, "upcoming")).scheduled_key is None
    assert (await get(db, "past")).scheduled_key == key  # its bot is history
    assert (await get(db, "upcoming")).status is ReconcileStatus.SETTLED  # nothing to do until it comes back
    async with db.transaction() as session:
        connection = await session.get(CalendarConnection, connection_id)
        await connections.set_status(session, connection, "connecting", now=NOW)
    upcoming = await get(db, "upcoming")
    assert (upcoming.status, upcoming.due_at) == (ReconcileStatus.PENDING, NOW)
    assert (await get(db, "past")).status is ReconcileStatus.SETTLED
    async with db.transaction() as session:
        connection = await session.get(CalendarConnection, connection_id)
        await connections.set_status(session, connection, "connected", now=NOW)  # no change of side
    assert (await get(db, "upcoming")).version == upcoming.version


async def test_meetings_long_over_are_deleted(db: Database) -> None:
    connection = await add_member(db)
    await add_meeting(db, connection, "old", start_time=NOW - timedelta(days=40), end_time=NOW - timedelta(days=40))
    await add_meeting(db, connection, "recent")
    async with db.transaction() as session:
        assert await repo.delete_ended_meetings(session, before=NOW - timedelta(days=30)) == 1
        assert await repo.get_meeting(session, "old") is None


async def test_reminder_candidates_start_within_the_lead_not_yet_reminded(db: Database) -> None:
    connection = await add_member(db)
    lead = timedelta(minutes=30)
    at = {
        "started": NOW,  # starting right now: too late
        "soon": NOW + timedelta(minutes=10),
        "first": NOW + timedelta(minutes=5),
        "edge": NOW + lead,  # exactly the lead away: in
        "later": NOW + lead + timedelta(seconds=1),
    }
    for event_id, start in at.items():
        await add_meeting(db, connection, event_id, start_time=start, end_time=start + timedelta(hours=1))
    await add_meeting(db, connection, "sent", start_time=NOW + timedelta(minutes=15), reminder=ReminderStatus.SENT)
    stale_before = NOW - timedelta(minutes=2)
    sending = {"start_time": NOW + timedelta(minutes=15), "reminder": ReminderStatus.SENDING}
    await add_meeting(db, connection, "sending", reminder_claimed_at=stale_before, **sending)  # exactly: still live
    await add_meeting(db, connection, "died", reminder_claimed_at=stale_before - timedelta(seconds=1), **sending)
    await add_meeting(db, connection, "deleted", start_time=NOW + timedelta(minutes=15), is_deleted=True)
    async with db.transaction() as session:
        found = await repo.reminder_candidates(session, now=NOW, lead=lead, stale_before=stale_before)
        first_only = await repo.reminder_candidates(session, now=NOW, lead=lead, stale_before=stale_before, limit=1)
    assert found == ["first", "soon", "died", "edge"]  # soonest first; a claim left by a dead process is taken over
    assert first_only == ["first"]


async def test_forgetting_bots_touches_only_that_calendars_live_meetings_with_a_bot(db: Database) -> None:
    ours = await add_member(db)
    theirs = await add_member(db, user_id="U2", calendar="cal-2")
    await add_meeting(db, ours, "bot", scheduled_key="k1")
    await add_meeting(db, ours, "no-bot")
    await add_meeting(db, ours, "ends-now", scheduled_key="k2", start_time=NOW - timedelta(hours=1), end_time=NOW)
    await add_meeting(db, theirs, "colleague", scheduled_key="k1")
    async with db.transaction() as session:
        forgotten = await repo.forget_bots(session, connection_id=ours, now=NOW)
    assert forgotten == ["bot"]
    bot, colleague, ended = await get(db, "bot"), await get(db, "colleague"), await get(db, "ends-now")
    assert (bot.scheduled_key, bot.version) == (None, 2)  # the change is seen by a run that read version 1
    assert (colleague.scheduled_key, colleague.version) == ("k1", 1)
    assert (ended.scheduled_key, (await get(db, "no-bot")).version) == ("k2", 1)


async def test_a_calendar_back_wakes_only_its_own_live_meetings(db: Database) -> None:
    ours = await add_member(db)
    theirs = await add_member(db, user_id="U2", calendar="cal-2")
    settled = {"status": ReconcileStatus.SETTLED, "due_at": None}
    await add_meeting(db, ours, "live", **settled)
    await add_meeting(db, ours, "cancelled", is_deleted=True, **settled)
    await add_meeting(db, ours, "ends-now", start_time=NOW - timedelta(hours=1), end_time=NOW, **settled)
    await add_meeting(db, theirs, "colleague", **settled)
    async with db.transaction() as session:
        assert await repo.mark_upcoming_pending(session, connection_id=ours, now=NOW) == ["live"]
    assert [(await get(db, e)).status for e in ("live", "cancelled", "ends-now", "colleague")] == [
        ReconcileStatus.PENDING,
        ReconcileStatus.SETTLED,
        ReconcileStatus.SETTLED,
        ReconcileStatus.SETTLED,
    ]


async def test_colleagues_by_key_names_each_keys_other_members_once_in_order(db: Database) -> None:
    ada = await add_member(db, user_id="U1", calendar="cal-1")
    bob = await add_member(db, user_id="U2", calendar="cal-2")
    cy = await add_member(db, user_id="U3", calendar="cal-3")
    elsewhere = await add_member(db, team_id="T9", user_id="U4", calendar="cal-4")
    await add_meeting(db, ada, "ada", scheduled_key="k1")
    await add_meeting(db, cy, "cy", scheduled_key="k1", updated_at=NOW + timedelta(minutes=2))
    await add_meeting(db, bob, "bob", scheduled_key="k1", updated_at=NOW + timedelta(minutes=1))
    await add_meeting(db, bob, "bob-again", scheduled_key="k1", updated_at=NOW + timedelta(minutes=3))
    await add_meeting(db, bob, "bob-k2", scheduled_key="k2")
    await add_meeting(db, cy, "cancelled", scheduled_key="k2", is_deleted=True)
    await add_meeting(db, elsewhere, "other-team", scheduled_key="k1", team_id="T9")
    await add_meeting(db, cy, "k3", scheduled_key="k3")
    async with db.transaction() as session:
        found = await repo.colleagues_by_key(session, team_id="T1", keys=["k1", "k2"], exclude_user_id="U1")
        assert await repo.colleagues_by_key(session, team_id="T1", keys=[], exclude_user_id="U1") == {}
    assert found == {"k1": ["U2", "U3"], "k2": ["U2"]}


async def test_a_reminder_is_claimed_once_and_a_dead_claim_taken_over_once(db: Database) -> None:
    connection_id = await add_member(db)
    await add_meeting(db, connection_id, "soon")
    stale = NOW - timedelta(minutes=2)
    async with db.transaction() as session:
        assert await repo.claim_reminder(session, "soon", now=NOW, stale_before=stale) is ReminderStatus.NONE
        # Another process (or run) has it, and its claim is fresh.
        assert await repo.claim_reminder(session, "soon", now=NOW, stale_before=stale) is None
        assert await repo.claim_reminder(session, "no-such-meeting", now=NOW, stale_before=stale) is None
    row = await get(db, "soon")
    assert (row.reminder, row.reminder_claimed_at) == (ReminderStatus.SENDING, NOW)
    later = NOW + timedelta(minutes=3)
    async with db.transaction() as session:
        # That process died: its claim is taken over, by one process only.
        taken = await repo.claim_reminder(session, "soon", now=later, stale_before=later - timedelta(minutes=2))
        again = await repo.claim_reminder(session, "soon", now=later, stale_before=later - timedelta(minutes=2))
    assert (taken, again) == (ReminderStatus.SENDING, None)
    assert (await get(db, "soon")).reminder_claimed_at == later


async def test_a_reminder_leaves_only_under_its_own_claim(db: Database) -> None:
    connection_id = await add_member(db)
    await add_meeting(db, connection_id, "soon")
    async with db.transaction() as session:
        await repo.claim_reminder(session, "soon", now=NOW, stale_before=NOW)
    leaves = NOW + timedelta(seconds=5)
    async with db.transaction() as session:
        assert await repo.reminder_leaving(session, "soon", claimed_at=NOW, now=leaves) is True
    assert (await get(db, "soon")).reminder_claimed_at == leaves  # the claim's age counts from the send
    async with db.transaction() as session:
        # Taken over meanwhile by another process: the first one's claim is no longer the stored one.
        assert await repo.reminder_leaving(session, "soon", claimed_at=NOW, now=leaves) is False
        await repo.finish_reminder(session, "soon", status=ReminderStatus.SENT, channel="D1", ts="1.0")
        assert await repo.reminder_leaving(session, "soon", claimed_at=leaves, now=leaves) is False  # sent already


async def test_only_meetings_ended_before_the_cut_are_deleted(db: Database) -> None:
    connection_id = await add_member(db)
    await add_meeting(db, connection_id, "at-cut", start_time=NOW - timedelta(hours=1), end_time=NOW)
    async with db.transaction() as session:
        assert await repo.delete_ended_meetings(session, before=NOW) == 0
    await add_meeting(
        db, connection_id, "long-over", start_time=NOW - timedelta(hours=3), end_time=NOW - timedelta(hours=2)
    )
    async with db.transaction() as session:
        assert await repo.delete_ended_meetings(session, before=NOW) == 1
    assert (await get(db, "at-cut")).recall_event_id == "at-cut"


async def test_a_first_post_is_noted_only_on_that_meeting_held_by_that_process_and_not_yet_posted(db: Database) -> None:
    connection_id = await add_member(db)
    held = {"claimed_by": "a", "claimed_until": NOW + LEASE}
    await add_meeting(db, connection_id, "mine", **held)
    await add_meeting(db, connection_id, "also-mine", **held)
    await add_meeting(db, connection_id, "theirs", claimed_by="b", claimed_until=NOW + LEASE)
    await add_meeting(db, connection_id, "posted", message_ts="1.0", channel_id="D0", **held)
    async with db.transaction() as session:
        for event_id in ("mine", "theirs", "posted"):
            await repo.note_post_sent(session, event_id, owner="a", at=NOW, channel="D1")
    noted = {e: ((m := await get(db, e)).post_sent_at, m.channel_id) for e in ("mine", "also-mine", "theirs", "posted")}
    assert noted == {
        "mine": (NOW, "D1"),
        "also-mine": (None, None),  # held by the same process, but not the meeting being posted
        "theirs": (None, None),  # another process holds it: it posts (and notes) its own
        "posted": (None, "D0"),  # its message is known: nothing is leaving
    }


async def test_a_sent_reminder_is_never_taken_over_however_old_its_claim(db: Database) -> None:
    connection_id = await add_member(db)
    old = NOW - timedelta(hours=1)
    await add_meeting(db, connection_id, "sent", reminder=ReminderStatus.SENT, reminder_claimed_at=old)
    await add_meeting(db, connection_id, "missed", reminder=ReminderStatus.MISSED, reminder_claimed_at=old)
    async with db.transaction() as session:
        for event_id in ("sent", "missed"):
            assert await repo.claim_reminder(session, event_id, now=NOW, stale_before=NOW) is None
    assert (await get(db, "sent")).reminder is ReminderStatus.SENT
    assert (await get(db, "missed")).reminder is ReminderStatus.MISSED


async def test_a_reminder_leaving_touches_only_its_own_meeting(db: Database) -> None:
    connection_id = await add_member(db)
    for event_id in ("a", "b"):
        await add_meeting(db, connection_id, event_id, reminder=ReminderStatus.SENDING, reminder_claimed_at=NOW)
    leaves = NOW + timedelta(seconds=5)
    async with db.transaction() as session:
        assert await repo.reminder_leaving(session, "a", claimed_at=NOW, now=leaves) is True
    assert [(await get(db, e)).reminder_claimed_at for e in ("a", "b")] == [leaves, NOW]


async def test_due_meetings_come_soonest_first(db: Database) -> None:
    connection_id = await add_member(db)
    for event_id, hours in (("later", 5), ("soonest", 1), ("middle", 3)):
        start = NOW + timedelta(hours=hours)
        await add_meeting(
            db, connection_id, event_id, start_time=start, end_time=start + timedelta(hours=1), due_at=NOW
        )
    async with db.transaction() as session:
        everything = await repo.due_meetings(session, statuses=[ReconcileStatus.PENDING], now=NOW)
        first = await repo.due_meetings(session, statuses=[ReconcileStatus.PENDING], now=NOW, limit=1)
    assert everything == ["soonest", "middle", "later"]
    assert first == ["soonest"]


async def test_the_admit_alert_moves_none_sending_sent_on_that_meeting_only(db: Database) -> None:
    connection_id = await add_member(db)
    for event_id in ("a", "b"):
        await add_meeting(db, connection_id, event_id)
    await add_meeting(db, connection_id, "done", admit_alert=AlertStatus.SENT)

    async def alerts() -> list[AlertStatus]:
        return [(await get(db, e)).admit_alert for e in ("a", "b", "done")]

    async with db.transaction() as session:
        assert await repo.claim_admit_alert(session, "a") is True
        assert await repo.claim_admit_alert(session, "a") is False  # once
        assert await repo.claim_admit_alert(session, "done") is False  # sent already: never again
    assert await alerts() == [AlertStatus.SENDING, AlertStatus.NONE, AlertStatus.SENT]
    async with db.transaction() as session:
        await repo.release_admit_alert(session, "b")  # not being sent: nothing to give back
        await repo.release_admit_alert(session, "done")  # sent: stays sent (a release never re-arms it)
        await repo.release_admit_alert(session, "a")
    assert await alerts() == [AlertStatus.NONE, AlertStatus.NONE, AlertStatus.SENT]
    async with db.transaction() as session:
        assert await repo.claim_admit_alert(session, "a") is True
        assert await repo.claim_admit_alert(session, "b") is True
        await repo.finish_admit_alert(session, "a")
    assert await alerts() == [AlertStatus.SENT, AlertStatus.SENDING, AlertStatus.SENT]
    await add_meeting(db, connection_id, "quiet")
    async with db.transaction() as session:
        await repo.finish_admit_alert(session, "quiet")  # never claimed: not marked sent
    assert (await get(db, "quiet")).admit_alert is AlertStatus.NONE
    async with db.transaction() as session:
        assert await repo.claim_admit_alert(session, "quiet") is True
        await repo.release_admit_alert(session, "quiet")  # gives back its own claim, not b's
    assert await alerts() == [AlertStatus.SENT, AlertStatus.SENDING, AlertStatus.SENT]
    assert (await get(db, "quiet")).admit_alert is AlertStatus.NONE


async def test_a_job_claims_a_meeting_only_while_it_is_still_due(db: Database) -> None:
    """Another process may just have settled it, or put its retry off: the job's claim then takes nothing."""
    connection = await add_member(db)
    due = [ReconcileStatus.PENDING, ReconcileStatus.RETRYING]
    for event_id, status, due_at in (
        ("due-now", ReconcileStatus.RETRYING, NOW),
        ("settled", ReconcileStatus.SETTLED, NOW - timedelta(minutes=1)),
        ("put-off", ReconcileStatus.RETRYING, NOW + timedelta(seconds=1)),
    ):
        await add_meeting(db, connection, event_id, status=status, due_at=due_at)
    async with db.transaction() as session:
        claimed = {
            event_id: await repo.claim_meeting(session, event_id, owner="job", lease=LEASE, now=NOW, only_if_due=due)
            for event_id in ("due-now", "settled", "put-off")
        }
    assert claimed == {"due-now": True, "settled": False, "put-off": False}
    async with db.transaction() as session:  # a member's click claims it whatever its status
        assert await repo.claim_meeting(session, "settled", owner="click", lease=LEASE, now=NOW)


async def test_colleagues_with_the_bot_come_in_the_order_they_joined_and_never_from_deleted_meetings(
    db: Database,
) -> None:
    key = "2026-11-30T10:00:00Z-https://zoom.us/j/1"
    for user_id, event_id, deleted, updated in (
        ("UADA", "ada", False, NOW + timedelta(minutes=2)),
        ("UBOB", "bob", False, NOW + timedelta(minutes=1)),
        ("UCY", "cy", True, NOW),  # the meeting left Cy's calendar
    ):
        connection = await add_member(db, user_id=user_id, calendar=f"cal-{event_id}")
        await add_meeting(db, connection, event_id, current_key=key, scheduled_key=key, is_deleted=deleted)
        async with db.transaction() as session:
            meeting = await session.get(Meeting, event_id)
            assert meeting is not None
            meeting.updated_at = updated
    async with db.transaction() as session:
        assert await repo.colleagues_with_bot(session, team_id="T1", key=key, exclude_user_id="UDAN") == [
            "UBOB",
            "UADA",
        ]


async def test_a_members_meetings_between_two_times_are_theirs_alone_soonest_first(db: Database) -> None:
    """[start, end): a meeting starting at ``start`` is in, one starting at ``end`` is not (the next day's). Her
    two calendars' meetings come interleaved by start time."""
    ada = await add_member(db, user_id="UADA", calendar="cal-ada")
    bob = await add_member(db, user_id="UBOB", calendar="cal-bob")
    async with db.transaction() as session:
        ada_member = (await session.get(CalendarConnection, ada)).member_id  # type: ignore[union-attr]
        outlook = CalendarConnection(
            member_id=ada_member,
            provider="microsoft",
            email="ada@acme.test",
            recall_calendar_id="cal-ada-outlook",
            status="connected",
            refresh_token_encrypted="x",
        )
        session.add(outlook)
        await session.flush()
        ada_outlook = outlook.id
    start, end = NOW, NOW + timedelta(hours=5)
    for connection, event_id, hours in (
        (ada_outlook, "later", 3),
        (ada, "at-start", 0),
        (ada, "at-end", 5),
        (ada_outlook, "before", -1),
        (ada, "soon", 1),
        (ada_outlook, "between", 2),
        (ada, "last", 4),
    ):
        await add_meeting(db, connection, event_id, start_time=start + timedelta(hours=hours))
    await add_meeting(db, bob, "bobs", start_time=start + timedelta(hours=2))
    async with db.transaction() as session:
        rows = await repo.member_meetings_between(session, member_id=ada_member, start=start, end=end)
    assert [m.recall_event_id for m in rows] == ["at-start", "soon", "between", "later", "last"]


async def test_meetings_are_found_by_their_ids_and_only_those(db: Database) -> None:
    connection = await add_member(db)
    for event_id in ("e1", "e2", "e3"):
        await add_meeting(db, connection, event_id)
    async with db.transaction() as session:
        found = await repo.meetings_by_ids(session, ["e3", "e1", "missing"])
        assert {key: meeting.recall_event_id for key, meeting in found.items()} == {"e1": "e1", "e3": "e3"}
        assert await repo.meetings_by_ids(session, []) == {}
        one = await repo.get_meeting(session, "e2")
        assert one is not None and one.recall_event_id == "e2"
        assert await repo.get_meeting(session, "missing") is None


async def test_a_meetings_owner_is_the_member_of_its_own_calendar(db: Database) -> None:
    await add_member(db, user_id="UADA", calendar="cal-ada")
    bob = await add_member(db, user_id="UBOB", calendar="cal-bob")
    await add_meeting(db, bob, "bobs")
    async with db.transaction() as session:
        meeting = await session.get(Meeting, "bobs")
        assert meeting is not None
        owner = await repo.owner_of(session, meeting)
    assert owner is not None
    connection, member = owner
    assert (connection.id, connection.recall_calendar_id, member.slack_user_id) == (bob, "cal-bob", "UBOB")
    assert connection.member_id == member.id
