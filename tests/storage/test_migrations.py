"""Alembic migrations on a fresh database: the expected tables, models and migrations agree, down and up again.

SQLite always; PostgreSQL when TEST_POSTGRES_URL is set (a fresh database per test, dropped afterwards). In CI
(CI=true) an unreachable PostgreSQL fails the test instead of skipping it.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

import storage.slack_tables  # noqa: F401 - registers Slack's tables on Base.metadata
from storage.db import create_engine
from storage.migrate import alembic_config, current_revision, head_revision, upgrade
from storage.models import Base
from tests.unit_fixtures import EXPECTED_TABLES

# ---------------------------------------------------------------------------------------------------------------------
# Fresh databases
# ---------------------------------------------------------------------------------------------------------------------


def postgres_unavailable(reason: str) -> None:
    """Skip on a laptop; fail in CI, where PostgreSQL must be there."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: PostgreSQL tests may not skip)")
    pytest.skip(reason)


async def _admin_execute(admin_url: str, sql: str) -> None:
    conn = await asyncpg.connect(admin_url, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_postgres_database(admin_url: str) -> tuple[str, str]:
    """CREATE DATABASE mig_<random> on the server of ``admin_url``; returns (name, url)."""
    name = f"mig_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_admin_execute(admin_url, f'CREATE DATABASE "{name}"'))
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        postgres_unavailable(f"PostgreSQL at TEST_POSTGRES_URL is unreachable: {exc!r}")
    base, _, _ = admin_url.partition("?")[0].rpartition("/")
    return name, f"{base}/{name}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database that has never been migrated."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    admin_url = os.environ.get("TEST_POSTGRES_URL")
    if not admin_url:
        pytest.skip("TEST_POSTGRES_URL is not set: PostgreSQL migration tests need a server")
    name, url = create_postgres_database(admin_url)
    try:
        yield url
    finally:
        asyncio.run(_admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def engine(fresh_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(fresh_url)
    try:
        yield engine
    finally:
        await engine.dispose()


# ---------------------------------------------------------------------------------------------------------------------
# Helpers run on the sync side of an async connection
# ---------------------------------------------------------------------------------------------------------------------


def _downgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_downgrade, revision)


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, Base.metadata)


async def metadata_diff(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as conn:
        return await conn.run_sync(_diff)


def revisions_in_order() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


# ---------------------------------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------------------------------


def test_models_declare_exactly_the_expected_tables() -> None:
    assert set(Base.metadata.tables) == EXPECTED_TABLES


def test_revision_history_is_linear() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_heads() == [head_revision()]
    assert len(script.get_bases()) == 1
    order = revisions_in_order()
    assert order[-1] == head_revision()
    assert len(order) == len(set(order)) >= 1


async def test_upgrade_to_head_creates_tables_matching_the_models(engine: AsyncEngine) -> None:
    assert await current_revision(engine) is None
    assert await table_names(engine) == set()

    await upgrade(engine)

    assert await table_names(engine) == EXPECTED_TABLES | {"alembic_version"}
    assert head_revision() is not None
    assert await current_revision(engine) == head_revision()
    diff = await metadata_diff(engine)
    assert diff == [], f"models and migrations disagree (add a migration): {diff}"


async def test_upgrade_twice_changes_nothing(engine: AsyncEngine) -> None:
    await upgrade(engine)
    before = await table_names(engine)
    await upgrade(engine)
    assert await table_names(engine) == before
    assert await current_revision(engine) == head_revision()
    assert await metadata_diff(engine) == []


async def test_downgrade_to_base_then_upgrade_again(engine: AsyncEngine) -> None:
    await upgrade(engine)
    await downgrade(engine, "base")
    assert await current_revision(engine) is None
    assert await table_names(engine) <= {"alembic_version"}

    await upgrade(engine)
    assert await current_revision(engine) == head_revision()
    assert await table_names(engine) == EXPECTED_TABLES | {"alembic_version"}
    assert await metadata_diff(engine) == []


async def test_every_revision_steps_up_and_down(engine: AsyncEngine) -> None:
    order = revisions_in_order()
    seen_tables: list[set[str]] = []
    for revision in order:
        await upgrade(engine, revision)
        assert await current_revision(engine) == revision
        seen_tables.append(await table_names(engine))
    # Each step only adds tables.
    for earlier, later in itertools.pairwise(seen_tables):
        assert earlier <= later
    for index in range(len(order) - 1, 0, -1):
        await downgrade(engine, order[index - 1])
        assert await current_revision(engine) == order[index - 1]
        assert await table_names(engine) == seen_tables[index - 1]
    await downgrade(engine, "base")
    assert await current_revision(engine) is None
    await upgrade(engine)
    assert await metadata_diff(engine) == []


# ---------------------------------------------------------------------------------------------------------------------
# The skip / fail rule itself
# ---------------------------------------------------------------------------------------------------------------------


def test_unreachable_postgres_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        create_postgres_database("postgresql://postgres@127.0.0.1:1/test")


def test_unreachable_postgres_skips_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="unreachable"):
        create_postgres_database("postgresql://postgres@127.0.0.1:1/test")


async def test_processes_starting_together_migrate_one_after_the_other(fresh_url: str) -> None:
    """`serve` migrates on start on every database: replicas starting at once must not trip over each other."""
    engines = [create_engine(fresh_url) for _ in range(3)]
    try:
        async with asyncio.timeout(60):  # without the lock they wait on each other's catalog locks for good
            await asyncio.gather(*(upgrade(engine) for engine in engines))
        assert await current_revision(engines[0]) == head_revision()
        assert await metadata_diff(engines[0]) == []
    finally:
        for engine in engines:
            await engine.dispose()
