"""Quiet-week benchmark: members connect, then a simulated working week passes; how many messages each member gets.

Run from the repository root (see benchmarks/README.md):

    .venv/bin/python benchmarks/quiet_week.py [--members 200] [--meetings 40] [--database-url URL] [--json out.json]

In one process, against the twins (FakeSlack, FakeRecall) and a fresh database, with the app's clock moved rather
than slept. `--members` members connect a calendar holding `--meetings` upcoming meetings each; then, over five
working days, every member gets 10 new meetings and 10 moved meetings (two of each a day), the daily agenda runs at
08:31 their time and the reminder job every half hour from 08:00 to 18:00. The same run is made twice:

- quiet: the meetings were in the calendar before the member connected (the provider's creation time says so), so
  connecting sends one summary; new meetings get a DM each; one agenda a day;
- per-meeting: the design it replaces, where every meeting gets its own DM (the same code, with every meeting
  counted as new and no agenda).

It reports messages posted and updated per member on connecting and per day, and Slack calls per method with the
minutes they need at Slack's published limits (the floor), for both. Slack pacing is off (the count is what
matters); it never asserts a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import sys
import tempfile
import time as wall
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from sqlalchemy import update  # noqa: E402
from sync_fanout import (  # noqa: E402
    BOT_TOKEN,
    PAGE_SIZE,
    SECRET_KEY,
    SIGNING_SECRET,
    TEAM_ID,
    TEAM_NAME,
    WEBHOOK_SECRET,
    BenchDatabase,
    git_revision,
    log,
    seed_members,
    slack_limits_on,
    user_id,
)

from recall.client import RecallClient  # noqa: E402
from slackbot import jobs  # noqa: E402
from slackbot.registry import build_services  # noqa: E402
from slackbot.requester import Requester  # noqa: E402
from slackbot.settings import Settings  # noqa: E402
from slackbot.slack.pacing import method_limits  # noqa: E402
from storage import syncs  # noqa: E402
from storage.models import Member  # noqa: E402
from tests.twins.fake_recall import FakeRecall  # noqa: E402
from tests.twins.fake_slack import FakeSlack  # noqa: E402

NEW_YORK = ZoneInfo("America/New_York")  # the twins' members' time zone
DAYS = 5
NEW_PER_DAY = 2
MOVED_PER_DAY = 2
SLACK_METHODS = ("chat.postMessage", "chat.update", "views.publish", "conversations.open", "users.info")


class Clock:
    """The app's clock, and FakeRecall's moved with it (its `updated_at` must follow the simulated days)."""

    def __init__(self, start: datetime, recall: FakeRecall) -> None:
        self._recall = recall
        self.now = datetime.now(UTC)
        self.set(start)

    def __call__(self) -> datetime:
        return self.now

    def set(self, moment: datetime) -> None:
        self._recall.advance((moment - self._recall.now()).total_seconds())
        self.now = moment


# What a posted message is, from its notification text (slackbot/blocks/digests.py and blocks/meeting.py).
POST_KINDS = (("Your meetings on", "agenda"), ("Starts in 30 minutes", "reminder"))


def post_kind(text: str) -> str:
    return next((kind for prefix, kind in POST_KINDS if text.startswith(prefix)), "meeting or summary")


def slack_counts(slack: FakeSlack) -> Counter[str]:
    """Calls per method, and `chat.postMessage` also per kind of message (`posts: agenda` etc.)."""
    counts = Counter(call.method for call in slack.calls)
    posts = slack.calls_to("chat.postMessage")
    counts.update(f"posts: {post_kind(str(call.params.get('text') or ''))}" for call in posts)
    return counts


async def sync_all(services: Any, calendars: list[str]) -> None:
    async with services.db.transaction() as session:
        for calendar_id in calendars:
            await syncs.request_sync(session, recall_calendar_id=calendar_id, until=None)
    while await services.syncer.run_pending() is not None:
        pass


def run_design(args: argparse.Namespace, *, quiet: bool) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-quiet-week-"))
    database = BenchDatabase(args.database_url, workdir)
    created = False
    try:
        with (
            FakeSlack(published_limits=slack_limits_on()) as slack,
            FakeRecall(page_size=PAGE_SIZE, rate_limits=False) as recall,
        ):
            slack.add_workspace(TEAM_ID, TEAM_NAME, bot_token=BOT_TOKEN)
            monday = datetime.now(NEW_YORK).date()
            monday += timedelta(days=(7 - monday.weekday()) % 7 or 7)
            connect_at = datetime.combine(monday - timedelta(days=3), time(12), tzinfo=NEW_YORK).astimezone(UTC)
            clock = Clock(connect_at, recall)
            created_at = (connect_at - timedelta(days=30) if quiet else connect_at + timedelta(minutes=1)).isoformat()
            pairs = []
            for m in range(args.members):
                uid = user_id(m + 1)
                slack.add_user(TEAM_ID, uid, name=f"member{m + 1}", email=f"{uid.lower()}@bench.test")
                calendar = recall.add_calendar(oauth_email=f"{uid.lower()}@bench.test", status="connected")
                for k in range(args.meetings):
                    start = connect_at + timedelta(hours=20) + timedelta(days=21) * k / args.meetings
                    start += timedelta(minutes=(m * 7) % 300)
                    recall.add_event(
                        calendar["id"], start_time=start, title=f"Meeting {k}", raw_extra={"created": created_at}
                    )
                pairs.append((uid, calendar["id"]))
            asyncio.run(database.create())
            created = True
            asyncio.run(seed_members(database.url, pairs, connected_at=connect_at))
            settings = Settings(
                _env_file=None,
                database_url=database.url,
                public_url="http://127.0.0.1",
                secret_key=SECRET_KEY,
                slack_signing_secret=SIGNING_SECRET,
                slack_bot_token=BOT_TOKEN,
                slack_api_url=slack.base_url,
                recall_api_key=recall.api_key,
                recall_api_url=recall.base_url,
                recall_webhook_secret=WEBHOOK_SECRET,
                run_jobs=False,
                slack_pacing=False,
            )

            async def week() -> dict[str, Any]:
                recall_client = RecallClient(api_key=recall.api_key, base_url=recall.base_url)
                services = build_services(settings, recall=recall_client, clock=clock)
                calendars = [c for _, c in pairs]
                try:
                    if not quiet:
                        async with services.db.transaction() as session:
                            await session.execute(update(Member).values(agenda_minute=None, remind=False))
                    slack.reset_calls()
                    started = wall.monotonic()
                    if quiet:
                        for uid, calendar_id in pairs:
                            await services.digests.start_summary(
                                Requester(TEAM_ID, uid), recall_calendar_id=calendar_id, replaced_email=None
                            )
                    await sync_all(services, calendars)
                    await services.digests.run_due()
                    connect = {"calls": dict(slack_counts(slack)), "seconds": round(wall.monotonic() - started, 1)}
                    await jobs.refresh_profiles(services)
                    days = []
                    for d in range(DAYS):
                        day = monday + timedelta(days=d)
                        slack.reset_calls()
                        clock.set(datetime.combine(day, time(7, 0), tzinfo=NEW_YORK).astimezone(UTC))
                        for m, (_, calendar_id) in enumerate(pairs):
                            for n in range(NEW_PER_DAY):
                                recall.add_event(
                                    calendar_id,
                                    start_time=clock.now + timedelta(hours=3 + n + (m % 5) / 10),
                                    title=f"New {d}.{n}",
                                    raw_extra={"created": clock.now.isoformat()},
                                )
                            events = [
                                e for e in recall.events(calendar_id) if e["raw"]["summary"].startswith("Meeting")
                            ]
                            for n in range(MOVED_PER_DAY):
                                event = events[(d * MOVED_PER_DAY + n) % len(events)]
                                moved = datetime.fromisoformat(event["start_time"].replace("Z", "+00:00"))
                                moved += timedelta(minutes=15)
                                recall.update_event(
                                    event["id"], start_time=moved, end_time=moved + timedelta(minutes=30)
                                )
                        await sync_all(services, calendars)
                        for slot in range(21):  # 08:00 ... 18:00, every half hour
                            morning = datetime.combine(day, time(8, 0), tzinfo=NEW_YORK).astimezone(UTC)
                            clock.set(morning + timedelta(minutes=30 * slot + 1))
                            await jobs.send_agendas(services)
                            await jobs.send_reminders(services)
                        days.append(dict(slack_counts(slack)))
                    return {"connect": connect, "days": days}
                finally:
                    await services.aclose()

            result = asyncio.run(week())
            result["contract_violations"] = {"slack": len(slack.violations), "recall": len(recall.violations)}
            return result
    finally:
        if created:
            with contextlib.suppress(Exception):
                asyncio.run(database.drop())
        shutil.rmtree(workdir, ignore_errors=True)


def per_member(calls: dict[str, int], members: int) -> dict[str, float]:
    kinds = sorted(k for k in calls if k.startswith("posts: "))
    return {m: round(calls.get(m, 0) / members, 2) for m in [*SLACK_METHODS, *kinds] if calls.get(m)}


def floor_minutes(calls: dict[str, int]) -> dict[str, float]:
    """Minutes these calls need at Slack's per-workspace limits (the pacer's budgets)."""
    limits = method_limits()
    return {m: round(calls[m] / limits[m], 1) for m in SLACK_METHODS if calls.get(m) and m in limits}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--meetings", type=int, default=40)
    parser.add_argument("--database-url")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    revision = git_revision()
    report: dict[str, Any] = {"revision": revision, "members": args.members, "meetings_per_member": args.meetings}
    for name, quiet in (("quiet", True), ("per-meeting", False)):
        log(f"{name}: {args.members} members x {args.meetings} meetings, then a working week ...")
        report[name] = run_design(args, quiet=quiet)
    lines = ["", f"quiet week: {args.members} members x {args.meetings} meetings, revision {revision}", ""]
    for name in ("quiet", "per-meeting"):
        r = report[name]
        lines.append(f"{name}:")
        lines.append(
            f"  on connecting, per member: {per_member(r['connect']['calls'], args.members)}"
            f"  (floor at Slack's limits: {floor_minutes(r['connect']['calls'])} minutes)"
        )
        for d, calls in enumerate(r["days"]):
            lines.append(
                f"  day {d + 1}, per member: {per_member(calls, args.members)}  (floor: {floor_minutes(calls)} min)"
            )
        lines.append(f"  contract violations: {r['contract_violations']}")
    print("\n".join(lines), flush=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
