"""Bots in the database: remembered once (the first scheduler stays), adopted by the meetings their metadata
names, the waiting-room alert claimed once, and forgotten with their meetings."""

from __future__ import annotations

import asyncio

from sqlalchemy import delete, select

from storage import bots
from storage import meetings as repo
from storage.db import Database
from storage.lifecycle import AlertStatus
from storage.models import Bot, Meeting
from tests.storage.conftest import add_meeting, add_member


async def test_the_first_member_a_bot_was_scheduled_for_stays_its_scheduler(db: Database) -> None:
    async with db.transaction() as session:
        await bots.ensure_bot(session, bot_id="b1", team_id="T1", scheduled_by="U1", dedup_key=None)
    async with db.transaction() as session:
        again = await bots.ensure_bot(session, bot_id="b1", team_id="T1", scheduled_by="U2", dedup_key="k")
        assert again.scheduled_by == "U1"
        assert again.dedup_key == "k"  # learnt later
    async with db.transaction() as session:
        assert [b.bot_id for b in await session.scalars(select(Bot))] == ["b1"]


async def test_meetings_named_in_metadata_adopt_the_bot_unless_they_have_another(db: Database) -> None:
    connection = await add_member(db)
    await add_meeting(db, connection, "e1")
    await add_meeting(db, connection, "e2", bot_id="other-bot")
    await add_meeting(db, connection, "e3")
    other_team = await add_member(db, team_id="T2", user_id="U9", calendar="cal-9")
    await add_meeting(db, other_team, "e4", team_id="T2")
    async with db.transaction() as session:
        adopted = await bots.adopt_bot(session, "b1", team_id="T1", event_ids=["e1", "e2", "e4", "missing"])
        assert adopted == ["e1"]
        assert await bots.adopt_bot(session, "b1", team_id="T1", event_ids=[]) == []
    async with db.transaction() as session:
        assert await bots.event_ids_with_bot(session, "b1") == ["e1"]
        assert await bots.event_ids_with_bot(session, "other-bot") == ["e2"]


async def test_the_waiting_room_alert_is_claimed_once_and_released_on_failure(db: Database) -> None:
    await add_meeting(db, await add_member(db), "e1")
    async with db.transaction() as session:
        assert await repo.claim_admit_alert(session, "e1")
    async with db.transaction() as session:
        assert not await repo.claim_admit_alert(session, "e1")
        await repo.release_admit_alert(session, "e1")
    async with db.transaction() as session:
        assert await repo.claim_admit_alert(session, "e1")
        meeting = await session.get(Meeting, "e1")
        assert meeting is not None and meeting.admit_alert is AlertStatus.SENDING


async def test_bots_no_meeting_shows_are_forgotten(db: Database) -> None:
    connection = await add_member(db)
    await add_meeting(db, connection, "e1", bot_id="kept")
    await add_meeting(db, connection, "e2", bot_id="gone")
    await add_meeting(db, connection, "e3")
    async with db.transaction() as session:
        for bot_id in ("kept", "gone", "never-tied"):
            await bots.ensure_bot(session, bot_id=bot_id, team_id="T1", scheduled_by="U1", dedup_key=None)
        await session.execute(delete(Meeting).where(Meeting.recall_event_id == "e2"))
    async with db.transaction() as session:
        assert await bots.delete_orphan_bots(session) == 2
    async with db.transaction() as session:
        assert [b.bot_id for b in await session.scalars(select(Bot))] == ["kept"]
        assert await bots.delete_orphan_bots(session) == 0


async def test_a_meeting_shows_its_own_bot_or_a_colleagues_with_its_key_never_once_cancelled(db: Database) -> None:
    ada = await add_member(db)
    bob = await add_member(db, user_id="U2", calendar="cal-2")
    eve = await add_member(db, team_id="T2", user_id="U3", calendar="cal-3")
    await add_meeting(db, ada, "ada", bot_id="b1", current_key="k1", scheduled_key="k1")
    await add_meeting(db, bob, "bob-covered", current_key="k1")
    await add_meeting(db, bob, "bob-cancelled", current_key="k1", is_deleted=True)
    await add_meeting(db, bob, "bob-other", current_key="k2")
    await add_meeting(db, eve, "eve-other-team", team_id="T2", current_key="k1")
    async with db.transaction() as session:
        await bots.ensure_bot(session, bot_id="b1", team_id="T1", scheduled_by="U1", dedup_key="k1")
    async with db.transaction() as session:
        meetings = [m for m in await session.scalars(select(Meeting))]
        found = await bots.bots_for(session, meetings)
        assert {event_id: bot.bot_id for event_id, bot in found.items()} == {"ada": "b1", "bob-covered": "b1"}
        bot = await bots.get_bot(session, "b1")
        assert bot is not None
        assert await bots.event_ids_showing(session, bot) == ["ada", "bob-covered"]


async def test_the_bot_is_handed_to_a_colleague_when_its_scheduler_leaves_it(db: Database) -> None:
    ada = await add_member(db)
    bob = await add_member(db, user_id="U2", calendar="cal-2")
    await add_meeting(db, ada, "ada", bot_id="b1")
    await add_meeting(db, bob, "bob", bot_id="b1")
    async with db.transaction() as session:
        bot = await bots.ensure_bot(session, bot_id="b1", team_id="T1", scheduled_by="U1", dedup_key=None)
        await bots.hand_over(session, bot, leaving_event_id="ada")
        assert bot.scheduled_by == "U2"
        await bots.hand_over(session, bot, leaving_event_id="bob")
        assert bot.scheduled_by == "U1"
        await session.execute(delete(Meeting).where(Meeting.recall_event_id == "ada"))
        await bots.hand_over(session, bot, leaving_event_id="bob")
        assert bot.scheduled_by is None


async def test_two_processes_making_the_same_bot_row_get_one(db: Database) -> None:
    async def make(user: str) -> str | None:
        async with db.transaction() as session:
            bot = await bots.ensure_bot(session, bot_id="b1", team_id="T1", scheduled_by=user, dedup_key=None)
            return bot.scheduled_by

    first, second = await asyncio.gather(make("U1"), make("U2"))
    assert first == second
    async with db.transaction() as session:
        assert len(list(await session.scalars(select(Bot)))) == 1
