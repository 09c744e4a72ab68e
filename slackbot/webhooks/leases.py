"""Keep database leases alive while this process works on what it claimed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError

from storage import deliveries as repo
from storage.db import Database
from storage.models import utcnow

logger = logging.getLogger(__name__)

# Who holds a lease: renewing and finishing are refused to anyone else (a stalled process whose lease ran
# out must not finish work another process has taken over).
PROCESS_ID = f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(4)}"


@asynccontextmanager
async def holding(db: Database, *, model: type, keys: Sequence[object], lease: timedelta) -> AsyncIterator[None]:
    """Renew the leases on ``keys`` every third of ``lease`` until the block ends (or the process dies)."""

    async def renew() -> None:
        while True:
            await asyncio.sleep(lease.total_seconds() / 3)
            try:
                async with db.transaction() as session:
                    await repo.renew_leases(session, model=model, keys=keys, owner=PROCESS_ID, until=utcnow() + lease)
            except SQLAlchemyError:
                logger.warning("leases.renew_failed", extra={"count": len(keys)})

    task = asyncio.create_task(renew())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
