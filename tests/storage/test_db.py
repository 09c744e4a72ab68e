"""Transactions under concurrency: on SQLite, read-then-write transactions from many tasks and from two engines
(two processes) all commit instead of failing with "database is locked"; a transaction opened inside another is
refused at once instead of waiting for itself."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, text

from storage.db import Database
from storage.models import Member

TASKS = 40


@pytest.fixture(autouse=True)
def sqlite_only(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite only: PostgreSQL runs transactions side by side (read committed)")


async def bump(db: Database, user_id: str) -> None:
    """Read a row, let other tasks run, then write what was read plus one (a lost update would show)."""
    async with db.transaction() as session:
        member = (await session.scalars(select(Member).where(Member.slack_user_id == user_id))).one()
        await asyncio.sleep(0)
        member.agenda_minute = (member.agenda_minute or 0) + 1


async def seed(db: Database) -> None:
    async with db.transaction() as session:
        session.add(Member(team_id="T1", slack_user_id="U1", agenda_minute=0))


async def hour(db: Database) -> int:
    async with db.transaction() as session:
        return (await session.scalars(select(Member.agenda_minute).where(Member.slack_user_id == "U1"))).one()


async def test_concurrent_read_then_write_transactions_all_commit(db: Database) -> None:
    await seed(db)
    results = await asyncio.gather(*(bump(db, "U1") for _ in range(TASKS)), return_exceptions=True)
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert await hour(db) == TASKS  # and none overwrote another's write


async def test_two_engines_on_one_database_do_not_dead_lock(database_url: str) -> None:
    """Two processes' engines (a server and the CLI, or a replica) writing the same SQLite file at once."""
    first, second = Database.from_url(database_url), Database.from_url(database_url)
    try:
        await seed(first)
        results = await asyncio.gather(
            *(bump(first, "U1") for _ in range(TASKS // 2)),
            *(bump(second, "U1") for _ in range(TASKS // 2)),
            return_exceptions=True,
        )
        assert [r for r in results if isinstance(r, BaseException)] == []
        assert await hour(first) == TASKS
    finally:
        await first.dispose()
        await second.dispose()


async def test_sqlite_uses_wal_and_refuses_a_nested_transaction(db: Database) -> None:
    async with db.engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
    async with db.transaction():
        with pytest.raises(RuntimeError, match="inside another"):
            async with db.transaction():
                pass  # pragma: no cover
    await seed(db)  # the refused one left nothing held
    assert await hour(db) == 0
