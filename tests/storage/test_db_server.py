"""Server databases (PostgreSQL): a pooled connection the server dropped while it sat idle (a restart, an idle
timeout on the way) is replaced before anyone uses it; a connection in steady use is not pinged first."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from storage import db as db_module
from storage.db import Database


@pytest.fixture
async def server_db(database_url: str) -> AsyncIterator[Database]:
    if database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL only: SQLite has no server to drop a connection")
    database = Database.from_url(database_url)
    try:
        yield database
    finally:
        await database.dispose()


async def backend_pid(database: Database) -> int:
    async with database.transaction() as session:
        return int(await session.scalar(text("SELECT pg_backend_pid()")))


async def terminate(database_url: str, pid: int) -> None:
    other = Database.from_url(database_url)
    try:
        async with other.transaction() as session:
            await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await other.dispose()


async def test_a_connection_dropped_while_idle_is_replaced_unseen(
    server_db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    dropped = await backend_pid(server_db)
    await terminate(database_url, dropped)
    assert await backend_pid(server_db) != dropped  # no error: pinged, found dead, replaced


async def test_a_connection_in_steady_use_is_handed_out_without_a_ping(
    server_db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 3600.0)
    dropped = await backend_pid(server_db)
    await terminate(database_url, dropped)
    # Not pinged (used a moment ago): the drop shows on use, and the pool starts afresh for the next caller.
    with pytest.raises(DBAPIError):
        await backend_pid(server_db)
    assert await backend_pid(server_db) != dropped
