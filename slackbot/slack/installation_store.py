"""Slack installation store on our database, with bot and user tokens encrypted at rest."""

from __future__ import annotations

from typing import Any

from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy import MetaData, Table, Text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.types import TypeDecorator

from storage.crypto import TokenCipher
from storage.slack_tables import BOTS_TABLE, ENCRYPTED_COLUMNS, INSTALLATIONS_TABLE, OAUTH_STATES_TABLE

INSTALL_STATE_EXPIRATION_SECONDS = 600


class EncryptedText(TypeDecorator[str]):
    """Text column whose values are Fernet-encrypted on the way in and decrypted on the way out."""

    impl = Text
    cache_ok = False  # holds a cipher instance

    def __init__(self, cipher: TokenCipher) -> None:
        super().__init__()
        self.cipher = cipher

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else self.cipher.encrypt(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else self.cipher.decrypt(value)


def _encrypting_copy(table: Table, metadata: MetaData, cipher: TokenCipher) -> Table:
    columns = []
    for column in table.columns:
        copy = column._copy()
        if column.name in ENCRYPTED_COLUMNS:
            copy.type = EncryptedText(cipher)
        columns.append(copy)
    return Table(table.name, metadata, *columns)


class EncryptedInstallationStore(AsyncSQLAlchemyInstallationStore):
    """slack_sdk's async SQLAlchemy store; the schema comes from our Alembic migrations."""

    def __init__(self, *, client_id: str, engine: AsyncEngine, cipher: TokenCipher) -> None:
        super().__init__(
            client_id=client_id,
            engine=engine,
            bots_table_name=BOTS_TABLE,
            installations_table_name=INSTALLATIONS_TABLE,
        )
        metadata = MetaData()
        self.bots = _encrypting_copy(self.bots, metadata, cipher)
        self.installations = _encrypting_copy(self.installations, metadata, cipher)
        self.metadata = metadata

    async def create_tables(self) -> None:
        raise NotImplementedError("tables are created by Alembic migrations (recall-slackbot migrate)")


def build_state_store(engine: AsyncEngine) -> AsyncSQLAlchemyOAuthStateStore:
    return AsyncSQLAlchemyOAuthStateStore(
        expiration_seconds=INSTALL_STATE_EXPIRATION_SECONDS, engine=engine, table_name=OAUTH_STATES_TABLE
    )
