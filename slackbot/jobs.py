"""Background jobs (APScheduler), run by `serve` (unless RUN_JOBS=false) and by `worker`.

Running them in several processes duplicates effort, not effects: webhooks, listings and meetings are leased
in the database (storage.leases), Recall's schedule / unschedule calls are idempotent, and deletions tolerate
404. With several web replicas, set RUN_JOBS=false on them and run
one `worker`.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from slackbot.registry import Services
from storage import bots as bots_repo
from storage import digests as digests_repo
from storage import meetings as meetings_repo
from storage import oauth_states
from storage.models import utcnow

logger = logging.getLogger(__name__)


async def cleanup_expired_states(services: Services) -> int:
    """Forget connect links and OAuth states past their expiry."""
    async with services.db.transaction() as session:
        removed = await oauth_states.delete_expired_states(session, before=utcnow())
    if removed:
        logger.info("jobs.states_cleaned", extra={"count": removed})
    return removed


async def retry_calendar_deletions(services: Services) -> int:
    return await services.connections.retry_calendar_deletions()


async def catch_up_syncs(services: Services) -> int:
    """Re-list calendars that have not synced for hours, in case a webhook was lost."""
    due = await services.syncer.request_catch_up(older_than=timedelta(hours=6))
    if due:
        services.processor.kick()
    return due


async def refresh_ended_meetings(services: Services) -> int:
    return await services.meetings.refresh_ended()


async def repair_meetings(services: Services) -> int:
    return await services.meetings.repair()


async def send_agendas(services: Services) -> int:
    """Open today's agenda for members whose agenda time has come, then post or update every due digest."""
    opened = await services.digests.open_agendas()
    await services.digests.run_due()
    return opened


async def send_reminders(services: Services) -> int:
    return await services.reminders.run()


async def refresh_homes(services: Services) -> int:
    return await services.home.refresh_due()


async def refresh_profiles(services: Services) -> int:
    """Time zones and departures from Slack, once a day per member."""
    return await services.profiles.refresh_stale()


async def cleanup_old_rows(services: Services) -> int:
    """Forget processed webhooks after a week, meetings a month after they ended (and their bots), digests a week
    after."""
    removed = await services.processor.cleanup()
    async with services.db.transaction() as session:
        removed += await meetings_repo.delete_ended_meetings(session, before=utcnow() - timedelta(days=30))
        removed += await bots_repo.delete_orphan_bots(session)
        removed += await digests_repo.delete_old_digests(session, before=utcnow() - timedelta(days=7))
    return removed


def build_scheduler(services: Services) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    common = {"args": [services], "max_instances": 1, "coalesce": True, "misfire_grace_time": 60}
    scheduler.add_job(cleanup_expired_states, "interval", minutes=10, id="cleanup_expired_states", **common)
    scheduler.add_job(retry_calendar_deletions, "interval", minutes=5, id="retry_calendar_deletions", **common)
    scheduler.add_job(catch_up_syncs, "interval", minutes=30, id="catch_up_syncs", **common)
    scheduler.add_job(refresh_ended_meetings, "interval", minutes=5, id="refresh_ended_meetings", **common)
    scheduler.add_job(repair_meetings, "interval", minutes=1, id="repair_meetings", **common)
    scheduler.add_job(cleanup_old_rows, "interval", hours=6, id="cleanup_old_rows", **common)
    # Claimed in the database (a unique agenda per member and day, a reminder claimed before it is sent), so
    # several processes running these still send each once.
    scheduler.add_job(send_agendas, "interval", minutes=1, id="send_agendas", **common)
    scheduler.add_job(send_reminders, "interval", minutes=1, id="send_reminders", **common)
    scheduler.add_job(refresh_homes, "interval", seconds=30, id="refresh_homes", **common)
    scheduler.add_job(refresh_profiles, "interval", minutes=15, id="refresh_profiles", **common)
    return scheduler
