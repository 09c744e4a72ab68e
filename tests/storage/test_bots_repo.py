"""Bots in the database: remembered once (the first scheduler stays), adopted by the meetings their metadata
names, the waiting-room alert claimed once, and forgotten with their meetings."""

from __future__ import annotations

from sqlalchemy import delete, select

from storage import bots
from storage import meetings as repo
from storage.db import Database
from storage.lifecycle import AlertStatus
from storage.models import Bot, Meeting
from tests.storage.conftest import add_meeting, add_member


async def test_the_first_member_a_bot_was_scheduled_for_stays_its_scheduler(db: Database) -> None:
    async with db.transaction() as session:
        await bots.remember_bot(session, bot_id="b1", team_id="T1", scheduled_by="U1")
    async with db.transaction() as session:
        again = await bots.remember_bot(session, bot_id="b1", team_id="T1", scheduled_by="U2")
        assert again.scheduled_by == "U1"
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
            await bots.remember_bot(session, bot_id=bot_id, team_id="T1", scheduled_by="U1")
        await session.execute(delete(Meeting).where(Meeting.recall_event_id == "e2"))
    async with db.transaction() as session:
        assert await bots.delete_orphan_bots(session) == 2
    async with db.transaction() as session:
        assert [b.bot_id for b in await session.scalars(select(Bot))] == ["kept"]
        assert await bots.delete_orphan_bots(session) == 0
