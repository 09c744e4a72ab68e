"""A migrated, empty database per test (SQLite; PostgreSQL too when TEST_POSTGRES_URL is set) and rows to use."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from storage.db import Database
from storage.models import CalendarConnection, Meeting, Member

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database.from_url(database_url)
    try:
        yield database
    finally:
        await database.dispose()


async def add_member(db: Database, *, team_id: str = "T1", user_id: str = "U1", calendar: str = "cal-1") -> int:
    """A member with one Google connection; returns the connection id."""
    async with db.transaction() as session:
        member = Member(team_id=team_id, slack_user_id=user_id)
        session.add(member)
        await session.flush()
        connection = CalendarConnection(
            member_id=member.id,
            provider="google",
            email=f"{user_id.lower()}@acme.test",
            recall_calendar_id=calendar,
            status="connected",
            refresh_token_encrypted="x",
        )
        session.add(connection)
        await session.flush()
        return connection.id


async def add_meeting(db: Database, connection_id: int, event_id: str, **fields: object) -> None:
    values: dict[str, object] = {
        "recall_event_id": event_id,
        "connection_id": connection_id,
        "team_id": "T1",
        "recall_updated_at": NOW,
        "start_time": NOW + timedelta(hours=1),
        "end_time": NOW + timedelta(hours=2),
        "meeting_url": "https://zoom.us/j/1",
        "version": 1,
    }
    values.update(fields)
    async with db.transaction() as session:
        session.add(Meeting(**values))
