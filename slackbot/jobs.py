"""Background jobs (APScheduler). Each is safe to run in several processes at once."""

from __future__ import annotations

import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from slackbot.services.registry import Services
from storage import repositories as repo
from storage.models import utcnow

logger = logging.getLogger(__name__)


async def cleanup_expired_states(services: Services) -> int:
    """Forget connect links and OAuth states past their expiry."""
    async with services.db.transaction() as session:
        removed = await repo.delete_expired_states(session, before=utcnow())
    if removed:
        logger.info("jobs.states_cleaned", extra={"count": removed})
    return removed


async def retry_calendar_deletions(services: Services) -> int:
    return await services.connections.retry_calendar_deletions()


def build_scheduler(services: Services) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    common = {"args": [services], "max_instances": 1, "coalesce": True, "misfire_grace_time": 60}
    scheduler.add_job(cleanup_expired_states, "interval", minutes=10, id="cleanup_expired_states", **common)
    scheduler.add_job(retry_calendar_deletions, "interval", minutes=5, id="retry_calendar_deletions", **common)
    return scheduler
