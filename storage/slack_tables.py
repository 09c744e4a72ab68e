"""Slack's installation and OAuth-state tables, attached to our metadata so Alembic owns them.

The shapes come from slack_sdk's SQLAlchemy stores; token columns are widened to Text because we
store them encrypted (ciphertext is longer than the 200 characters slack_sdk allows).
"""

from __future__ import annotations

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Table, Text

from storage.models import Base

INSTALLATIONS_TABLE = "slack_installations"
BOTS_TABLE = "slack_bots"
OAUTH_STATES_TABLE = "slack_oauth_states"

ENCRYPTED_COLUMNS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")


def _widen_token_columns(table: Table) -> Table:
    for name in ENCRYPTED_COLUMNS:
        if name in table.c:
            table.c[name].type = Text()
    return table


slack_installations = _widen_token_columns(
    SQLAlchemyInstallationStore.build_installations_table(Base.metadata, INSTALLATIONS_TABLE)
)
slack_bots = _widen_token_columns(SQLAlchemyInstallationStore.build_bots_table(Base.metadata, BOTS_TABLE))
slack_oauth_states = SQLAlchemyOAuthStateStore.build_oauth_states_table(Base.metadata, OAUTH_STATES_TABLE)
