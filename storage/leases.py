"""Leases on rows, so that several processes share work: one generic mechanism for every kind of work.

A process claims a row by writing its id and an expiry (`claimed_by`, `claimed_until`); it renews the lease
while it works and releases it when done. If it dies, the lease runs out and another process (or the same one
restarted) takes the work over. Renewing and finishing are refused to anyone but the holder, so a stalled
process whose lease ran out cannot finish work somebody else has taken over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import utcnow

logger = logging.getLogger(__name__)

# Who holds a lease: this process, unique across hosts and restarts.
PROCESS_ID = f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(4)}"
DEFAULT_LEASE = timedelta(seconds=60)


def _key(model: Any) -> Any:
    (column,) = model.__mapper__.primary_key
    return column


def claimable(model: Any, now: datetime) -> ColumnElement[bool]:
    """Nobody holds the row, or its holder's lease ran out."""
    return or_(model.claimed_until.is_(None), model.claimed_until < now)


def held_by(model: Any, owner: str) -> ColumnElement[bool]:
    return model.claimed_by == owner


async def claim(
    session: AsyncSession,
    model: Any,
    keys: Sequence[Any],
    *,
    owner: str,
    lease: timedelta,
    now: datetime,
    where: Sequence[ColumnElement[bool]] = (),
    values: dict[str, Any] | None = None,
) -> list[Any]:
    """Claim those of ``keys`` that are free and still match ``where``; returns the keys now held by ``owner``.

    One conditional UPDATE: PostgreSQL re-checks the condition on rows another transaction changed meanwhile,
    and SQLite runs one writer at a time, so two processes never both get a row.
    """
    if not keys:
        return []
    key = _key(model)
    result = await session.execute(
        update(model)
        .where(key.in_(list(keys)), claimable(model, now), *where)
        .values(claimed_by=owner, claimed_until=now + lease, **(values or {}))
        .returning(key)
        .execution_options(synchronize_session=False)
    )
    return [row[0] for row in result]


async def renew(session: AsyncSession, model: Any, keys: Sequence[Any], *, owner: str, until: datetime) -> int:
    """Extend the owner's own leases; rows somebody else took over are left alone."""
    if not keys:
        return 0
    result = await session.execute(
        update(model)
        .where(_key(model).in_(list(keys)), held_by(model, owner))
        .values(claimed_until=until)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


async def release(
    session: AsyncSession, model: Any, key: Any, *, owner: str, values: dict[str, Any] | None = None
) -> bool:
    """Give a row back (writing ``values`` with it); False if ``owner`` no longer holds it."""
    result = await session.execute(
        update(model)
        .where(and_(_key(model) == key, held_by(model, owner)))
        .values(claimed_by=None, claimed_until=None, **(values or {}))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


@asynccontextmanager
async def holding(db: Database, model: Any, keys: Sequence[Any], *, lease: timedelta) -> AsyncIterator[None]:
    """Renew this process's leases on ``keys`` every third of ``lease`` until the block ends."""

    async def keep_renewing() -> None:
        while True:
            await asyncio.sleep(lease.total_seconds() / 3)
            try:
                async with db.transaction() as session:
                    await renew(session, model, keys, owner=PROCESS_ID, until=utcnow() + lease)
            except SQLAlchemyError:
                logger.warning("leases.renew_failed", extra={"table": model.__tablename__, "count": len(keys)})

    task = asyncio.create_task(keep_renewing())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
