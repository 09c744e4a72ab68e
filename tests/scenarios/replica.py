"""A second replica as its own OS process: `python -m tests.scenarios.replica < job.json` does one thing with
the app's services against the same database and twins as the test, and prints what came of it as JSON.

Jobs: ``{"settings": {...}, "action": "sync", "calendar_id": "..."}`` lists the calendar's events and stores
them (as a webhook would); ``{"settings": {...}, "action": "choose", "team_id", "user_id", "event_id",
"choice"}`` is a member's click ("schedule", "skip" or null for undo); ``{"settings": {...}, "action":
"daily_jobs", "now": "<ISO instant>"}`` runs the agenda and reminder jobs once, with the app's clock at ``now``."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime
from typing import Any

from recall.client import RecallClient
from slackbot import jobs
from slackbot.meetings.decision import Choice
from slackbot.registry import build_services
from slackbot.requester import Requester
from slackbot.settings import Settings
from storage.models import utcnow


async def run(job: dict[str, Any]) -> dict[str, Any]:
    settings = Settings(_env_file=None, **job["settings"])
    recall = RecallClient(
        api_key=settings.recall_api_key, base_url=settings.recall_base_url, backoff_base=0.001, backoff_cap=0.01
    )
    now = datetime.fromisoformat(job["now"]) if "now" in job else None
    services = build_services(settings, recall=recall, clock=(lambda: now) if now else utcnow)
    try:
        if job["action"] == "sync":
            pages = recall.iter_calendar_event_pages(calendar_id=job["calendar_id"])
            events = [event async for page in pages for event in page]
            return {"acted_on": await services.meetings.apply_events(events)}
        if job["action"] == "choose":
            requester = Requester(job["team_id"], job["user_id"], None)
            choice = Choice(job["choice"]) if job["choice"] else None
            outcome = await services.meetings.choose(requester=requester, event_id=job["event_id"], choice=choice)
            return {"deferred": outcome.deferred, "error": type(outcome.error).__name__ if outcome.error else None}
        if job["action"] == "daily_jobs":
            await asyncio.gather(jobs.send_agendas(services), jobs.send_reminders(services))
            return {"done": True}
        raise SystemExit(f"unknown action {job['action']!r}")
    finally:
        await services.aclose()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(run(json.load(sys.stdin)))))
