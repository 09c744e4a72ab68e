"""Shared fixtures: databases (SQLite always, PostgreSQL when TEST_POSTGRES_URL is set), the twins."""

from __future__ import annotations

import asyncio
import os
import uuid
import warnings
from collections.abc import Iterator

import asyncpg

# authlib warns at import time that it prefers httpx2; the project uses httpx on purpose.
warnings.filterwarnings("ignore", message="The httpx module is deprecated")
import pytest  # noqa: E402

from tests.twins.fake_recall import FakeRecall  # noqa: E402
from tests.twins.fake_slack import FakeSlack  # noqa: E402

pytest_plugins = ["tests.twins.oauth_providers"]

TEAM_ID = "T0ACME0001"
TEAM_NAME = "Acme"
BOT_TOKEN = "xoxb-acme-test-token"


def _postgres_admin_url() -> str | None:
    return os.environ.get("TEST_POSTGRES_URL") or None


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A throw-away PostgreSQL database for this test session, migrated to head."""
    admin_url = _postgres_admin_url()
    if admin_url is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must set TEST_POSTGRES_URL (PostgreSQL tests may not skip in CI)")
        pytest.skip("TEST_POSTGRES_URL is not set")
    name = f"recall_test_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_execute(admin_url, f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:  # pragma: no cover - depends on the machine
        pytest.fail(f"PostgreSQL at TEST_POSTGRES_URL is unreachable: {exc}")
    base, _, _ = admin_url.rpartition("/")
    url = f"{base}/{name}"
    from storage.db import create_engine as create_async_engine
    from storage.migrate import upgrade

    async def migrate() -> None:
        engine = create_async_engine(url)
        await upgrade(engine)
        await engine.dispose()

    asyncio.run(migrate())
    yield url
    asyncio.run(_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _execute(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _truncate_postgres(url: str) -> None:
    async def truncate() -> None:
        conn = await asyncpg.connect(url, timeout=10)
        try:
            tables = await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            )
            names = ", ".join(f'"{row["tablename"]}"' for row in tables)
            if names:
                await conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        finally:
            await conn.close()

    asyncio.run(truncate())


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated, empty database: a fresh SQLite file, or the session's PostgreSQL database truncated."""
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_database")
        _truncate_postgres(url)
        return url
    path = tmp_path_factory.mktemp("db") / "app.db"
    url = f"sqlite:///{path}"
    from storage.db import create_engine as create_async_engine
    from storage.migrate import upgrade

    async def migrate() -> None:
        engine = create_async_engine(url)
        await upgrade(engine)
        await engine.dispose()

    asyncio.run(migrate())
    return url


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake
        fake.assert_no_violations()


@pytest.fixture
def fake_recall() -> Iterator[FakeRecall]:
    with FakeRecall() as fake:
        yield fake
        fake.assert_no_violations()
