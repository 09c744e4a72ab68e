"""Transactions under concurrency: on SQLite, read-then-write transactions from many tasks and from two engines
(two processes) all commit instead of failing with "database is locked"; a transaction opened inside another is
refused at once instead of waiting for itself."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from sqlalchemy import select, text

from storage.db import WAL_ATTEMPTS, Database, _use_wal, create_engine
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


async def test_a_connection_stopped_while_it_closes_still_closes(database_url: str) -> None:
    """What SQLAlchemy does to a connection whose task was cancelled mid-query: a graceful close in its own task,
    and a forced stop beside it. Both must finish; with aiosqlite's own connection the close waited forever
    for a worker thread that had already left, and the event loop could not shut down."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver = raw.driver_connection
            closing = asyncio.create_task(driver.close())
            await asyncio.sleep(0)  # the close has queued its request to the worker thread
            driver.stop()  # the forced stop, queued behind it
            async with asyncio.timeout(5):
                await closing
            await connection.invalidate()
    finally:
        await engine.dispose()


async def test_cancelling_a_query_leaves_nothing_that_blocks_shutdown(database_url: str) -> None:
    """A query cancelled half-way (a request abandoned, a listing cut short, a server stopping) lets every task
    end, so the loop can close."""
    engine = create_engine(database_url)
    slow = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000) SELECT count(*) FROM n"

    async def query() -> None:
        async with engine.connect() as connection:
            await connection.execute(text(slow))

    try:
        for _ in range(3):
            task = asyncio.create_task(query())
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await engine.dispose()
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    async with asyncio.timeout(5):
        await asyncio.gather(*others, return_exceptions=True)


class _Cursor:
    """Answers `PRAGMA journal_mode` with ``mode``; the first ``busy`` statements fail as SQLite does."""

    def __init__(self, mode: str, *, busy: int = 0, error: str = "database is locked") -> None:
        self.mode, self.busy, self.error = mode, busy, error
        self.statements: list[str] = []

    def execute(self, statement: str) -> None:
        self.statements.append(statement)
        if self.busy:
            self.busy -= 1
            raise sqlite3.OperationalError(self.error)
        if statement.endswith("=WAL"):
            self.mode = "wal"

    def fetchone(self) -> tuple[str]:
        return (self.mode,)


@pytest.mark.parametrize(
    ("mode", "busy", "switched", "tries"),
    [
        ("wal", 0, False, 1),  # set before: only read
        ("WAL", 0, False, 1),
        ("delete", 0, True, 1),  # a new file: switched
        ("delete", 3, True, 4),  # another process had the new file for a moment: asked again
        ("delete", WAL_ATTEMPTS - 1, True, WAL_ATTEMPTS),
    ],
)
def test_wal_is_set_once_and_a_busy_new_file_is_asked_again(
    monkeypatch: pytest.MonkeyPatch, mode: str, busy: int, switched: bool, tries: int
) -> None:
    monkeypatch.setattr("storage.db.WAL_RETRY_SECONDS", 0)
    cursor = _Cursor(mode, busy=busy)
    _use_wal(cursor)
    assert cursor.mode.lower() == "wal"
    assert ("PRAGMA journal_mode=WAL" in cursor.statements) is switched
    assert cursor.statements.count("PRAGMA journal_mode") == tries


def test_wal_gives_up_after_its_attempts_and_never_retries_other_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("storage.db.WAL_RETRY_SECONDS", 0)
    stuck = _Cursor("delete", busy=WAL_ATTEMPTS)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        _use_wal(stuck)
    assert stuck.statements.count("PRAGMA journal_mode") == WAL_ATTEMPTS
    broken = _Cursor("delete", busy=5, error="disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk"):
        _use_wal(broken)
    assert len(broken.statements) == 1
