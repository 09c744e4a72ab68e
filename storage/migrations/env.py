"""Alembic environment: runs migrations on the connection handed over by storage.migrate."""

from __future__ import annotations

from alembic import context

import storage.slack_tables  # noqa: F401 - registers Slack's tables on the metadata
from storage.models import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through `recall-slackbot migrate` (storage.migrate)")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
