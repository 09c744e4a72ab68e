"""Is the database fit to serve: reachable, at the schema this code expects, and writable (not read-only, not
locked)? Each check is bounded, so a database that does not answer is reported as such within seconds."""

from __future__ import annotations

import asyncio
from enum import StrEnum

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import SQLITE_BUSY_TIMEOUT_MS
from storage.migrate import current_revision, head_revision

TIMEOUT_SECONDS = 2.0


class DatabaseHealth(StrEnum):
    OK = "ok"
    UNREACHABLE = "unreachable"  # no connection, or no answer within the timeout
    SCHEMA_BEHIND = "schema_behind"  # migrations to run (`recall-slackbot migrate`)
    READ_ONLY = "read_only"  # a write is refused, or waits on a lock


async def _can_write(engine: AsyncEngine) -> bool:
    """A write that changes nothing, rolled back: refused on a read-only database, blocked by a lock."""
    async with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            await conn.execute(text("PRAGMA busy_timeout = 1000"))
        else:
            await conn.execute(text("SET LOCAL lock_timeout = '1s'"))
        try:
            await conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
        finally:
            await conn.rollback()
            if sqlite:  # the connection goes back to the pool: give it back its usual patience
                await conn.execute(text(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}"))
                await conn.rollback()
    return True


async def check(engine: AsyncEngine, *, within: float = TIMEOUT_SECONDS) -> DatabaseHealth:
    try:
        async with asyncio.timeout(within):
            revision = await current_revision(engine)
            if revision != head_revision():
                return DatabaseHealth.SCHEMA_BEHIND
            try:
                await _can_write(engine)
            except SQLAlchemyError:
                return DatabaseHealth.READ_ONLY
    except (TimeoutError, SQLAlchemyError, OSError):
        return DatabaseHealth.UNREACHABLE
    return DatabaseHealth.OK
