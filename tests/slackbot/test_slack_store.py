"""EncryptedInstallationStore: slack_sdk's store on our migrated tables, tokens encrypted at rest."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from slackbot.slack.installation_store import (
    INSTALL_STATE_EXPIRATION_SECONDS,
    EncryptedInstallationStore,
    build_state_store,
)
from storage.crypto import DecryptionError, TokenCipher
from storage.db import create_engine
from storage.migrate import upgrade
from storage.slack_tables import BOTS_TABLE, ENCRYPTED_COLUMNS, INSTALLATIONS_TABLE, OAUTH_STATES_TABLE

CLIENT_ID = "111.222"
KEY = "slack-store-test-key"
BOT_TOKEN = "xoxb-111-222-BotTokenSecretValue"
BOT_REFRESH = "xoxe-1-BotRefreshSecretValue"
USER_TOKEN = "xoxp-111-222-UserTokenSecretValue"
SECRETS = (BOT_TOKEN, BOT_REFRESH, USER_TOKEN)


def installation(
    team_id: str = "T0ACME", *, bot_token: str = BOT_TOKEN, installed_at: float | None = None
) -> Installation:
    return Installation(
        app_id="A0APP",
        enterprise_id=None,
        team_id=team_id,
        team_name="Acme",
        bot_token=bot_token,
        bot_id="B0BOT",
        bot_user_id="U0BOT",
        bot_scopes=["commands", "chat:write", "im:write"],
        bot_refresh_token=BOT_REFRESH,
        bot_token_expires_at=int(datetime(2030, 1, 1, tzinfo=UTC).timestamp()),
        user_id="U0ADMIN",
        user_token=USER_TOKEN,
        user_scopes=["identify"],
        token_type="bot",
        installed_at=installed_at or datetime(2024, 5, 1, 10, tzinfo=UTC).timestamp(),
    )


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    await upgrade(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def cipher() -> TokenCipher:
    return TokenCipher([KEY])


@pytest.fixture
def store(engine: AsyncEngine, cipher: TokenCipher) -> EncryptedInstallationStore:
    return EncryptedInstallationStore(client_id=CLIENT_ID, engine=engine, cipher=cipher)


async def raw_rows(engine: AsyncEngine, table: str) -> list[dict[str, object]]:
    async with engine.connect() as conn:
        result = await conn.execute(text(f"SELECT * FROM {table}"))  # noqa: S608 - table names are our constants
        return [dict(row) for row in result.mappings()]


async def test_tokens_are_ciphertext_in_the_database(
    store: EncryptedInstallationStore, engine: AsyncEngine, cipher: TokenCipher
) -> None:
    await store.async_save(installation())

    bots = await raw_rows(engine, BOTS_TABLE)
    installs = await raw_rows(engine, INSTALLATIONS_TABLE)
    assert len(bots) == 1
    assert len(installs) == 1
    assert bots[0]["client_id"] == CLIENT_ID
    assert installs[0]["team_id"] == "T0ACME"

    stored_bot_token = bots[0]["bot_token"]
    assert isinstance(stored_bot_token, str)
    assert stored_bot_token != BOT_TOKEN
    assert not stored_bot_token.startswith("xox")
    assert cipher.decrypt(stored_bot_token) == BOT_TOKEN
    assert cipher.decrypt(str(bots[0]["bot_refresh_token"])) == BOT_REFRESH
    assert cipher.decrypt(str(installs[0]["bot_token"])) == BOT_TOKEN
    assert cipher.decrypt(str(installs[0]["user_token"])) == USER_TOKEN
    assert cipher.decrypt(str(installs[0]["bot_refresh_token"])) == BOT_REFRESH

    # No plaintext token anywhere in either table, in any column.
    for row in bots + installs:
        dump = repr(row)
        for secret in SECRETS:
            assert secret not in dump
        assert "xoxb-" not in dump
        assert "xoxp-" not in dump
    # Non-secret columns are stored as they are (they're used in WHERE clauses).
    assert bots[0]["bot_id"] == "B0BOT"
    assert installs[0]["user_id"] == "U0ADMIN"


async def test_find_bot_and_installation_return_plaintext(store: EncryptedInstallationStore) -> None:
    await store.async_save(installation())

    bot = await store.async_find_bot(enterprise_id=None, team_id="T0ACME")
    assert bot is not None
    assert bot.bot_token == BOT_TOKEN
    assert bot.bot_refresh_token == BOT_REFRESH
    assert bot.bot_id == "B0BOT"
    assert bot.bot_user_id == "U0BOT"
    assert bot.team_id == "T0ACME"
    assert list(bot.bot_scopes) == ["commands", "chat:write", "im:write"]

    found = await store.async_find_installation(enterprise_id=None, team_id="T0ACME")
    assert found is not None
    assert found.bot_token == BOT_TOKEN
    assert found.user_token == USER_TOKEN
    assert found.bot_refresh_token == BOT_REFRESH
    assert found.user_id == "U0ADMIN"

    by_user = await store.async_find_installation(enterprise_id=None, team_id="T0ACME", user_id="U0ADMIN")
    assert by_user is not None
    assert by_user.user_token == USER_TOKEN
    assert by_user.bot_token == BOT_TOKEN


async def test_unknown_team_finds_nothing(store: EncryptedInstallationStore) -> None:
    await store.async_save(installation())
    assert await store.async_find_bot(enterprise_id=None, team_id="T0OTHER") is None
    assert await store.async_find_installation(enterprise_id=None, team_id="T0OTHER") is None


async def test_other_client_id_does_not_see_the_installation(engine: AsyncEngine, cipher: TokenCipher) -> None:
    await EncryptedInstallationStore(client_id=CLIENT_ID, engine=engine, cipher=cipher).async_save(installation())
    other = EncryptedInstallationStore(client_id="999.999", engine=engine, cipher=cipher)
    assert await other.async_find_bot(enterprise_id=None, team_id="T0ACME") is None


async def test_reinstall_returns_the_latest_token(store: EncryptedInstallationStore, engine: AsyncEngine) -> None:
    await store.async_save(installation(installed_at=datetime(2024, 5, 1, tzinfo=UTC).timestamp()))
    await store.async_save(
        installation(bot_token="xoxb-newer-token", installed_at=datetime(2024, 6, 1, tzinfo=UTC).timestamp())
    )
    bot = await store.async_find_bot(enterprise_id=None, team_id="T0ACME")
    assert bot is not None
    assert bot.bot_token == "xoxb-newer-token"
    assert "xoxb-newer-token" not in repr(await raw_rows(engine, BOTS_TABLE))


async def test_delete_all_removes_the_workspace_only(store: EncryptedInstallationStore, engine: AsyncEngine) -> None:
    await store.async_save(installation("T0ACME"))
    await store.async_save(installation("T0OTHER", bot_token="xoxb-other"))

    await store.async_delete_all(enterprise_id=None, team_id="T0ACME")

    assert await store.async_find_bot(enterprise_id=None, team_id="T0ACME") is None
    assert await store.async_find_installation(enterprise_id=None, team_id="T0ACME") is None
    assert [r["team_id"] for r in await raw_rows(engine, BOTS_TABLE)] == ["T0OTHER"]
    assert [r["team_id"] for r in await raw_rows(engine, INSTALLATIONS_TABLE)] == ["T0OTHER"]
    other = await store.async_find_bot(enterprise_id=None, team_id="T0OTHER")
    assert other is not None
    assert other.bot_token == "xoxb-other"

    await store.async_delete_all(enterprise_id=None, team_id="T0OTHER")
    assert await raw_rows(engine, BOTS_TABLE) == []
    assert await raw_rows(engine, INSTALLATIONS_TABLE) == []


async def test_a_rotated_key_still_reads_and_a_wrong_key_fails_loudly(
    store: EncryptedInstallationStore, engine: AsyncEngine
) -> None:
    await store.async_save(installation())

    rotated = EncryptedInstallationStore(client_id=CLIENT_ID, engine=engine, cipher=TokenCipher(["new-key", KEY]))
    bot = await rotated.async_find_bot(enterprise_id=None, team_id="T0ACME")
    assert bot is not None
    assert bot.bot_token == BOT_TOKEN

    wrong = EncryptedInstallationStore(client_id=CLIENT_ID, engine=engine, cipher=TokenCipher(["wrong-key"]))
    with pytest.raises(DecryptionError):
        await wrong.async_find_bot(enterprise_id=None, team_id="T0ACME")


async def test_schema_comes_from_alembic(store: EncryptedInstallationStore) -> None:
    assert store.bots.name == BOTS_TABLE
    assert store.installations.name == INSTALLATIONS_TABLE
    for name in ENCRYPTED_COLUMNS:
        if name in store.bots.c:
            assert type(store.bots.c[name].type).__name__ == "EncryptedText"
        assert type(store.installations.c[name].type).__name__ == "EncryptedText"
    with pytest.raises(NotImplementedError, match="Alembic"):
        await store.create_tables()


async def test_state_store_uses_our_table(engine: AsyncEngine) -> None:
    state_store = build_state_store(engine)
    assert state_store.expiration_seconds == INSTALL_STATE_EXPIRATION_SECONDS == 600
    state = await state_store.async_issue()
    assert state
    assert await state_store.async_consume(state) is True
    assert await state_store.async_consume(state) is False  # single use
    assert await raw_rows(engine, OAUTH_STATES_TABLE) == []
