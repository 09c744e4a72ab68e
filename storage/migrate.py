"""Apply Alembic migrations programmatically (used by the CLI, `serve` on SQLite, and tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import SQLITE_IMMEDIATE

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"  # absolute, whatever the working folder becomes


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


# PostgreSQL advisory lock held while migrating, so that replicas starting together migrate one after the other
# (the later ones then find the schema at head and do nothing). Any constant: it only has to be the same everywhere.
MIGRATION_LOCK = 0x5245_4341_4C4C  # "RECALL"


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database schema to ``revision``; on PostgreSQL one process at a time (a transaction-scoped advisory
    lock; SQLite's own write lock does the same there)."""
    # SQLite: the write lock taken up front (a deferred BEGIN that later writes fails at once with "database is
    # locked" when another process migrates at the same time, instead of waiting for it).
    async with engine.execution_options(**{SQLITE_IMMEDIATE: True}).begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        await conn.run_sync(_upgrade, revision)


def _current(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()
