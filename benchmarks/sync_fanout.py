"""Sync fan-out benchmark: many members' calendars sync at once; how many calls, how long, how much memory.

Run from the repository root (see benchmarks/README.md):

    .venv/bin/python benchmarks/sync_fanout.py [--members 200] [--meetings 40] [--database-url URL] [--json out.json]

It starts the twins (FakeSlack, FakeRecall) in this process, seeds `--members` connected members with
`--meetings` upcoming visible meetings each, runs `python -m slackbot serve` as a subprocess against them, pushes
one signed `calendar.sync_events` per calendar all at once, waits until every meeting DM exists, then pushes
every webhook again (new message ids, nothing changed) and counts what the server did. It reports; it never
asserts a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

warnings.filterwarnings("ignore", message="The httpx module is deprecated")

import asyncpg  # noqa: E402
import httpx  # noqa: E402
import psutil  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from storage.crypto import TokenCipher  # noqa: E402
from storage.db import Database, is_sqlite  # noqa: E402
from storage.db import create_engine as create_async_engine  # noqa: E402
from storage.lifecycle import DeliveryStatus, SyncStatus  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import CalendarConnection, CalendarSync, Member, WebhookDelivery  # noqa: E402
from tests.twins.fake_recall import FakeRecall, sign_webhook  # noqa: E402
from tests.twins.fake_slack import FakeSlack  # noqa: E402

TEAM_ID = "T0BENCH001"
TEAM_NAME = "Bench"
BOT_TOKEN = "xoxb-bench-token"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
WEBHOOK_SECRET = "whsec_dGVzdC13ZWJob29rLXNlY3JldC0xMjM0NTY3OA=="
SECRET_KEY = "bench-secret-key"
PAGE_SIZE = 100  # FakeRecall's default, and Recall's
LIST_PATH = "/api/v2/calendar-events/"
CONCURRENCY = 64
POLL = 0.25
QUIET_SECONDS = 3.0
ROUND_TIMEOUT = 15 * 60.0
QUIET_TIMEOUT = 5 * 60.0


def slack_limits_on() -> bool:
    """`--slack-limits` (BENCH_SLACK_LIMITS=true): FakeSlack answers 429 past Slack's published limits and the
    server paces its calls under them; off, the run measures the app's own throughput."""
    return os.environ.get("BENCH_SLACK_LIMITS") == "true"


def floor_seconds(calls: dict[str, int]) -> float:
    """The least time Slack's published per-workspace limits allow for these calls (the busiest method decides;
    the burst a minute's window tolerates counts as the first minute)."""
    from tests.twins.fake_slack import PUBLISHED_LIMITS, PUBLISHED_POST_BUDGET

    limits = PUBLISHED_LIMITS | {"chat.postMessage": PUBLISHED_POST_BUDGET}
    return round(
        max((max(0.0, (n - limits[m]) / limits[m] * 60) for m, n in calls.items() if m in limits), default=0.0), 1
    )


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def user_id(index: int) -> str:
    return f"U{index:09d}"


# ---- database ------------------------------------------------------------------------------------


class BenchDatabase:
    """SQLite in the temp dir by default; on a PostgreSQL server, a fresh `bench_<hex>` database, dropped after."""

    def __init__(self, given: str | None, workdir: Path) -> None:
        self.admin_url: str | None = None
        self.name: str | None = None
        if given is None:
            self.url = f"sqlite:///{workdir / 'bench.db'}"
        elif is_sqlite(given):
            self.url = given
        else:
            # Never touch the tables of the database named in the URL: use it only to create our own.
            self.admin_url = make_url(given).set(drivername="postgresql").render_as_string(hide_password=False)
            self.name = f"bench_{uuid.uuid4().hex[:10]}"
            self.url = make_url(given).set(database=self.name).render_as_string(hide_password=False)

    @property
    def kind(self) -> str:
        return "sqlite" if is_sqlite(self.url) else "postgresql"

    async def _admin(self, sql: str) -> None:
        assert self.admin_url is not None
        conn = await asyncpg.connect(self.admin_url, timeout=10)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def create(self) -> None:
        if self.name is not None:
            await self._admin(f'CREATE DATABASE "{self.name}"')
        engine = create_async_engine(self.url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    async def drop(self) -> None:
        if self.name is not None:
            await self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


async def seed_members(url: str, calendars: list[tuple[str, str]], *, connected_at: datetime | None = None) -> None:
    """One Member + CalendarConnection per (slack user id, Recall calendar id), as a finished connect leaves them.

    ``connected_at`` defaults to a day ago, so the seeded meetings count as created after connecting and each gets a
    DM of its own (the per-meeting path this benchmark measures); pass a later time to seed meetings that were
    there before (quiet by default: no DM each)."""
    connected_at = connected_at or datetime.now(UTC) - timedelta(days=1)
    cipher = TokenCipher([SECRET_KEY])
    token = cipher.encrypt("refresh-token-value")
    db = Database.from_url(url)
    try:
        async with db.transaction() as session:
            members = [Member(team_id=TEAM_ID, slack_user_id=uid) for uid, _ in calendars]
            session.add_all(members)
            await session.flush()
            for member, (uid, calendar_id) in zip(members, calendars, strict=True):
                session.add(
                    CalendarConnection(
                        member_id=member.id,
                        provider="google",
                        email=f"{uid.lower()}@bench.test",
                        recall_calendar_id=calendar_id,
                        status="connected",
                        refresh_token_encrypted=token,
                        created_at=connected_at,
                    )
                )
    finally:
        await db.dispose()


async def count_rows(url: str, *queries: Any) -> tuple[int, ...]:
    """``SELECT count(*)`` for each query, read from the server's database (its own engine: each asyncio.run()
    is a new event loop)."""
    db = Database.from_url(url)
    try:
        async with db.transaction() as session:
            return tuple([int(await session.scalar(query) or 0) for query in queries])
    finally:
        await db.dispose()


async def backlog(url: str) -> tuple[int, int]:
    """(unprocessed webhook deliveries, calendars with a pending sync) as the server's database says."""
    deliveries, pending = await count_rows(
        url,
        select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.status == DeliveryStatus.PENDING),
        select(func.count()).select_from(CalendarSync).where(CalendarSync.status == SyncStatus.DUE),
    )
    return deliveries, pending


# ---- the server ------------------------------------------------------------------------------------


class Server:
    """`python -m slackbot serve` as a subprocess, with its memory sampled every POLL seconds."""

    def __init__(self, *, env: dict[str, str], cwd: Path, log_path: Path, profile: Path | None = None) -> None:
        self.env, self.cwd, self.log_path, self.profile = env, cwd, log_path, profile
        self.url = f"http://127.0.0.1:{env['PORT']}"
        self.process: subprocess.Popen[bytes] | None = None
        self.rss_samples: list[tuple[float, int]] = []
        self.cpu_samples: list[tuple[float, float]] = []
        self._stop_sampling = threading.Event()
        self._sampler: threading.Thread | None = None

    def start(self, timeout: float = 60.0) -> None:
        command = [sys.executable, "-m", "slackbot", "serve"]
        if self.profile is not None:
            # pyinstrument (pip install pyinstrument) samples the event-loop thread; the report is written on exit.
            command[1:1] = ["-m", "pyinstrument", "--interval", "0.005", "-r", "text", "-o", str(self.profile)]
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(command, env=self.env, cwd=self.cwd, stdout=out, stderr=out)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    self._sampler = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)
                    self._sampler.start()
                    return
            time.sleep(0.1)
        raise RuntimeError(f"server did not answer /healthz within {timeout:.0f}s:\n{self.tail()}")

    def _sample(self) -> None:
        assert self.process is not None
        proc = psutil.Process(self.process.pid)
        while not self._stop_sampling.is_set():
            try:
                now = time.monotonic()
                self.rss_samples.append((now, proc.memory_info().rss))
                cpu = proc.cpu_times()
                self.cpu_samples.append((now, cpu.user + cpu.system))
            except psutil.Error:
                return
            self._stop_sampling.wait(POLL)

    def cpu_seconds(self) -> float:
        assert self.process is not None
        cpu = psutil.Process(self.process.pid).cpu_times()
        return cpu.user + cpu.system

    def vm_hwm_bytes(self) -> int | None:
        """Peak resident set size (VmHWM) from /proc; None where /proc is not available."""
        assert self.process is not None
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            return None
        return None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        self._stop_sampling.set()
        if self._sampler is not None:
            self._sampler.join(timeout=2)
        if self.process is not None and self.process.poll() is None:
            # uvicorn re-raises the signal after its graceful shutdown; pyinstrument writes its report on SIGINT's
            # KeyboardInterrupt but is killed by SIGTERM's default action.
            self.process.send_signal(signal.SIGINT if self.profile is not None else signal.SIGTERM)
            try:
                self.process.wait(timeout=15 if self.profile is None else 600)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def server_env(*, database_url: str, slack: FakeSlack, recall: FakeRecall) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "RECALL_", "GOOGLE_", "MICROSOFT_"))}
    env.pop("DATABASE_URL", None)
    env |= {
        "DATABASE_URL": database_url,
        "PORT": str(free_port()),
        "HOST": "127.0.0.1",
        "PUBLIC_URL": "http://127.0.0.1",
        "SECRET_KEY": SECRET_KEY,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": slack.base_url,
        "RECALL_API_KEY": recall.api_key,
        "RECALL_API_URL": recall.base_url,
        "RECALL_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "RUN_JOBS": "false",
        # This benchmark measures the app's own throughput, as it always has; Slack's rate limits are a separate
        # floor (pacing on, see README > Slack's limits).
        "SLACK_PACING": "true" if slack_limits_on() else "false",
        "PYTHONUNBUFFERED": "1",
    }
    return env


# ---- webhooks ------------------------------------------------------------------------------------


async def push_webhooks(url: str, payloads: list[dict[str, Any]]) -> tuple[Counter[int], float]:
    """POST every payload at once (at most CONCURRENCY in flight); returns status counts and seconds taken."""
    signed = [sign_webhook(p, secret=WEBHOOK_SECRET) for p in payloads]  # fresh svix message id each
    statuses: Counter[int] = Counter()
    gate = asyncio.Semaphore(CONCURRENCY)
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)

    async with httpx.AsyncClient(timeout=120, limits=limits) as client:

        async def send(body: bytes, headers: dict[str, str]) -> None:
            async with gate:
                try:
                    response = await client.post(
                        f"{url}/recall/webhook", content=body, headers=headers | {"content-type": "application/json"}
                    )
                    statuses[response.status_code] += 1
                except httpx.HTTPError:
                    statuses[0] += 1  # 0: transport error

        started = time.monotonic()
        await asyncio.gather(*(send(body, headers) for body, headers in signed))
    return statuses, time.monotonic() - started


# ---- counting what the twins saw -----------------------------------------------------------------


def recall_breakdown(recall: FakeRecall) -> dict[str, int]:
    counts: Counter[str] = Counter()
    with recall._lock:
        calls = list(recall.calls)
    for call in calls:
        path = call.path
        if path == LIST_PATH:
            kind = "list calendar-events"
        elif path.startswith(LIST_PATH) and path.endswith("/bot/"):
            kind = f"{call.method} calendar-events/{{id}}/bot"
        elif path.startswith(LIST_PATH):
            kind = f"{call.method} calendar-events/{{id}}"
        elif path.startswith("/api/v2/calendars/"):
            kind = f"{call.method} calendars"
        else:
            kind = f"{call.method} {path}"
        counts[kind] += 1
    return dict(counts)


def listings(recall: FakeRecall) -> list[dict[str, Any]]:
    """Each listing the server started (a first page: no `cursor`), with its filters and how many events it
    returned in all pages (re-evaluated on the twin's current events, which this benchmark never changes)."""
    with recall._lock:
        calls = [c for c in recall.calls if c.method == "GET" and c.path == LIST_PATH]
    events = recall.events()
    out = []
    for call in calls:
        if call.param("cursor"):
            continue
        calendar_id, since = call.param("calendar_id"), call.param("updated_at__gte")
        bound = datetime.fromisoformat(since.replace("Z", "+00:00")) if since else None
        matched = sum(
            1
            for e in events
            if (calendar_id is None or e["calendar_id"] == calendar_id)
            and (bound is None or datetime.fromisoformat(e["updated_at"].replace("Z", "+00:00")) >= bound)
        )
        out.append({"calendar_id": calendar_id, "updated_at__gte": since, "events": matched})
    return out


def slack_breakdown(slack: FakeSlack) -> dict[str, int]:
    return dict(Counter(call.method for call in slack.calls))


def total_calls(recall: FakeRecall, slack: FakeSlack) -> int:
    with recall._lock:
        recall_calls = len(recall.calls)
    return recall_calls + len(slack.calls)


def dm_count(slack: FakeSlack, channels: set[str]) -> int:
    return sum(1 for m in slack.messages() if m.channel in channels)


@dataclass
class Quiet:
    seconds_waited: float
    reached: bool
    backlog: tuple[int, int] = field(default=(0, 0))


def wait_quiet(recall: FakeRecall, slack: FakeSlack, db_url: str, server: Server) -> Quiet:
    """Until the server's database holds no unprocessed delivery or pending sync and no twin call came for
    QUIET_SECONDS (bounded by QUIET_TIMEOUT)."""
    started = time.monotonic()
    deadline = started + QUIET_TIMEOUT
    last_total, last_change = total_calls(recall, slack), time.monotonic()
    left = (-1, -1)
    while time.monotonic() < deadline and server.alive():
        time.sleep(POLL)
        total = total_calls(recall, slack)
        now = time.monotonic()
        if total != last_total:
            last_total, last_change = total, now
            continue
        if now - last_change >= QUIET_SECONDS:
            left = asyncio.run(backlog(db_url))
            if left == (0, 0):
                return Quiet(now - started, True, left)
    return Quiet(time.monotonic() - started, False, left)


# ---- the run -------------------------------------------------------------------------------------


def seed_twins(slack: FakeSlack, recall: FakeRecall, members: int, meetings: int) -> list[tuple[str, str]]:
    slack.add_workspace(TEAM_ID, TEAM_NAME, bot_token=BOT_TOKEN)
    now = datetime.now(UTC).replace(microsecond=0)
    spread = timedelta(days=28)
    pairs: list[tuple[str, str]] = []
    for m in range(members):
        uid = user_id(m + 1)
        email = f"{uid.lower()}@bench.test"
        slack.add_user(TEAM_ID, uid, name=f"member{m + 1}", email=email)
        calendar = recall.add_calendar(oauth_email=email, status="connected")
        for k in range(meetings):
            # Spread over the next 28 days, staggered per member so start times (and dedup keys) differ.
            offset = timedelta(hours=1) + spread * k / max(meetings, 1) + timedelta(minutes=(m * 7) % 600)
            recall.add_event(
                calendar["id"],
                start_time=now + offset,
                title=f"Meeting {k + 1} of member {m + 1}",
                self_response="accepted",  # organiser = owner by default; accepted: every one is visible
            )
        pairs.append((uid, calendar["id"]))
    return pairs


def peak_per_minute(samples: list[tuple[float, int]]) -> int:
    """Most list calls in any 60 s window, from (time, running count) samples (Recall allows 60 a minute)."""
    best, start = 0, 0
    for end in range(len(samples)):
        while samples[end][0] - samples[start][0] > 60:
            start += 1
        best = max(best, samples[end][1] - (samples[start - 1][1] if start else 0))
    return best


class DmWatcher(threading.Thread):
    """Polls the twins every POLL seconds until every DM exists (bounded by ROUND_TIMEOUT) or the server dies."""

    def __init__(self, *, slack: FakeSlack, recall: FakeRecall, server: Server, channels: set[str], expected: int):
        super().__init__(name="dm-watcher", daemon=True)
        self.slack, self.recall, self.server, self.channels, self.expected = slack, recall, server, channels, expected
        self.stop = threading.Event()
        self.first_dm: float | None = None
        self.all_dms: float | None = None
        self.count = 0
        self.list_samples: list[tuple[float, int]] = []

    def run(self) -> None:
        started = time.monotonic()
        deadline, next_report = started + ROUND_TIMEOUT, started + 10
        while time.monotonic() < deadline and self.server.alive() and not self.stop.is_set():
            self.count = count = dm_count(self.slack, self.channels)
            now = time.monotonic()
            lists = self.recall.count("GET", LIST_PATH)
            self.list_samples.append((now, lists))
            if count and self.first_dm is None:
                self.first_dm = now
            if count >= self.expected:
                self.all_dms = now
                return
            if now >= next_report:
                log(f"round 1: {count}/{self.expected} DMs after {now - started:.0f}s ({lists} list calls so far)")
                next_report = now + 10
            self.stop.wait(POLL)


def round_one(
    *, server: Server, slack: FakeSlack, recall: FakeRecall, db_url: str, payloads: list[dict[str, Any]], expected: int
) -> dict[str, Any]:
    channels = {slack.dm_channel(TEAM_ID, user_id(i + 1)) for i in range(len(payloads))}
    recall.reset_calls()
    slack.reset_calls()
    cpu_before = server.cpu_seconds()
    here = psutil.Process()
    harness_before = sum(here.cpu_times()[:2])
    started = time.monotonic()
    watcher = DmWatcher(slack=slack, recall=recall, server=server, channels=channels, expected=expected)
    watcher.start()  # watches from the first webhook on, so a DM that lands while others are still sent counts
    statuses, send_seconds = asyncio.run(push_webhooks(server.url, payloads))
    log(f"round 1: {len(payloads)} webhooks sent in {send_seconds:.2f}s, statuses {dict(statuses)}")
    watcher.join(timeout=ROUND_TIMEOUT + 5)
    watcher.stop.set()
    first_dm = None if watcher.first_dm is None else watcher.first_dm - started
    all_dms = None if watcher.all_dms is None else watcher.all_dms - started
    list_samples = watcher.list_samples
    if all_dms is None:
        log(f"round 1: only {watcher.count}/{expected} DMs after {time.monotonic() - started:.0f}s")
    quiet = wait_quiet(recall, slack, db_url, server)
    list_samples.append((time.monotonic(), recall.count("GET", LIST_PATH)))
    cpu_seconds = server.cpu_seconds() - cpu_before
    harness_cpu = sum(here.cpu_times()[:2]) - harness_before
    slack_calls = slack_breakdown(slack)
    recall_calls = recall_breakdown(recall)
    dms = dm_count(slack, channels)
    list_calls = recall_calls.get("list calendar-events", 0)
    minimum_lists = math.ceil(expected / PAGE_SIZE)
    posts = slack_calls.get("chat.postMessage", 0)
    slack_total = sum(slack_calls.values())
    return {
        "webhooks_sent": len(payloads),
        "webhook_statuses": {str(k): v for k, v in sorted(statuses.items())},
        "webhook_send_seconds": round(send_seconds, 3),
        "changed_events": expected,
        "dms": dms,
        "distinct_dm_channels": len({m.channel for m in slack.messages() if m.channel in channels}),
        "recall_list_calls": list_calls,
        "recall_list_calls_minimum": minimum_lists,
        "recall_list_ratio": round(list_calls / minimum_lists, 2) if minimum_lists else None,
        "recall_list_calls_peak_per_minute": peak_per_minute(list_samples),
        "recall_other_calls": {k: v for k, v in recall_calls.items() if k != "list calendar-events"},
        "slack_calls": slack_calls,
        "slack_posts": posts,
        "slack_posts_minimum": expected,
        "slack_total_calls": slack_total,
        "slack_total_ratio": round(slack_total / expected, 3) if expected else None,
        "slack_429s": len(slack.rate_limited),
        "slack_floor_seconds": floor_seconds(slack_calls) if slack_limits_on() else None,
        "seconds_to_first_dm": round(first_dm, 2) if first_dm is not None else None,
        "seconds_to_all_dms": round(all_dms, 2) if all_dms is not None else None,
        "dms_per_second": round(expected / all_dms, 1) if all_dms else None,
        "server_cpu_seconds": round(cpu_seconds, 1),
        "twins_cpu_seconds": round(harness_cpu, 1),
        "quiet_after_seconds": round(quiet.seconds_waited, 1),
        "quiet_reached": quiet.reached,
        "backlog_left": list(quiet.backlog),
        "listings": listings(recall),
    }


def round_two(
    *, server: Server, slack: FakeSlack, recall: FakeRecall, db_url: str, payloads: list[dict[str, Any]]
) -> dict[str, Any]:
    recall.reset_calls()
    slack.reset_calls()
    cpu_before = server.cpu_seconds()
    statuses, send_seconds = asyncio.run(push_webhooks(server.url, payloads))
    log(f"round 2: {len(payloads)} webhooks re-sent in {send_seconds:.2f}s, statuses {dict(statuses)}")
    quiet = wait_quiet(recall, slack, db_url, server)
    recall_calls = recall_breakdown(recall)
    slack_calls = slack_breakdown(slack)
    return {
        "webhooks_sent": len(payloads),
        "webhook_statuses": {str(k): v for k, v in sorted(statuses.items())},
        "recall_list_calls": recall_calls.get("list calendar-events", 0),
        "recall_list_calls_minimum": 0,
        "recall_other_calls": {k: v for k, v in recall_calls.items() if k != "list calendar-events"},
        "slack_calls": slack_calls,
        "slack_total_calls": sum(slack_calls.values()),
        "slack_calls_minimum": 0,
        "server_cpu_seconds": round(server.cpu_seconds() - cpu_before, 1),
        "quiet_after_seconds": round(quiet.seconds_waited, 1),
        "quiet_reached": quiet.reached,
        "backlog_left": list(quiet.backlog),
        "listings": listings(recall),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    revision = git_revision()  # read before the server starts: the code it imports
    workdir = Path(tempfile.mkdtemp(prefix="bench-sync-fanout-"))
    database = BenchDatabase(args.database_url, workdir)
    server: Server | None = None
    created = False
    try:
        with (
            FakeSlack(published_limits=slack_limits_on()) as slack,
            FakeRecall(page_size=PAGE_SIZE, rate_limits=False) as recall,
        ):
            log(f"seeding {args.members} members x {args.meetings} meetings on the twins ...")
            seeded = time.monotonic()
            pairs = seed_twins(slack, recall, args.members, args.meetings)
            asyncio.run(database.create())
            created = True
            asyncio.run(seed_members(database.url, pairs))
            log(f"seeded in {time.monotonic() - seeded:.1f}s ({database.kind} database)")

            server = Server(
                env=server_env(database_url=database.url, slack=slack, recall=recall),
                cwd=workdir,
                log_path=workdir / "server.log",
                profile=args.profile_server,
            )
            server.start()
            rss_idle = psutil.Process(server.process.pid).memory_info().rss  # type: ignore[union-attr]
            log(f"server up (pid {server.process.pid}, {rss_idle / 2**20:.0f} MB RSS idle)")  # type: ignore[union-attr]

            expected = args.members * args.meetings
            payloads = [recall.sync_events_payload(calendar_id) for _, calendar_id in pairs]
            twins = {"server": server, "slack": slack, "recall": recall, "db_url": database.url}
            first = round_one(**twins, payloads=payloads, expected=expected)
            log(
                f"round 1 done: {first['dms']} DMs, {first['recall_list_calls']} list calls, "
                f"{first['slack_total_calls']} Slack calls"
            )
            second = round_two(**twins, payloads=payloads)
            log(f"round 2 done: {second['recall_list_calls']} list calls, {second['slack_total_calls']} Slack calls")

            hwm = server.vm_hwm_bytes()
            sampled = max((rss for _, rss in server.rss_samples), default=0)
            alive = server.alive()
            server.stop()
            if args.server_log:
                shutil.copyfile(workdir / "server.log", args.server_log)
            errors = [
                line
                for line in (workdir / "server.log").read_text(errors="replace").splitlines()
                if " ERROR " in line or " WARNING " in line
            ]
            return {
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "revision": revision,
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "platform": platform.platform(),
                },
                "database": database.kind,
                "members": args.members,
                "meetings_per_member": args.meetings,
                "page_size": PAGE_SIZE,
                "round1": first,
                "round2": second,
                "server": {
                    "alive_at_end": alive,
                    "rss_idle_mb": round(rss_idle / 2**20, 1),
                    "peak_rss_mb_vmhwm": round(hwm / 2**20, 1) if hwm else None,
                    "peak_rss_mb_sampled": round(sampled / 2**20, 1),
                    "warning_or_error_log_lines": len(errors),
                    "first_warning_or_error_lines": errors[:5],
                },
                "contract_violations": {"slack": len(slack.violations), "recall": len(recall.violations)},
                "contract_violation_samples": [str(v) for v in slack.violations[:3]]
                + [f"{v.kind} {v.method} {v.path}: {v.message}" for v in recall.violations[:3]],
            }
    except BaseException:
        if server is not None:
            print(server.tail(), file=sys.stderr)
        raise
    finally:
        if server is not None:
            server.stop()
        if created:
            with contextlib.suppress(Exception):
                asyncio.run(database.drop())
        shutil.rmtree(workdir, ignore_errors=True)


def git_revision() -> str:
    """The commit measured, with "+dirty" when production files differ from it (other work in progress)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "slackbot", "storage", "recall"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def listed(result: dict[str, Any]) -> int:
    return sum(x["events"] for x in result["listings"])


def floor_text(one: dict[str, Any]) -> str:
    floor = one.get("slack_floor_seconds")
    if floor is None:
        return ""
    over = ratio(one["seconds_to_all_dms"] / floor) if floor and one["seconds_to_all_dms"] else "n/a"
    return f"; floor at Slack's limits {floor} s ({over})"


def print_report(r: dict[str, Any]) -> None:
    one, two, srv = r["round1"], r["round2"], r["server"]
    lines = [
        "",
        f"sync fan-out: {r['members']} members x {r['meetings_per_member']} meetings = {one['changed_events']} events, "
        f"{r['database']}, {r['machine']['cpus']} CPUs, {r['date']}, revision {r['revision']}",
        "",
        f"round 1: {one['webhooks_sent']} calendar.sync_events at once -> statuses {one['webhook_statuses']} "
        f"(sent in {one['webhook_send_seconds']}s)",
        f"  Recall list calls     {one['recall_list_calls']:>6}  minimum {one['recall_list_calls_minimum']:>6}"
        f"  ({ratio(one['recall_list_ratio'])})   = ceil({one['changed_events']} / {r['page_size']})",
        f"  list calls in the busiest minute {one['recall_list_calls_peak_per_minute']} (Recall allows 60)",
        f"  listings started      {len(one['listings']):>6}  returning {listed(one)} events"
        f" in all ({one['changed_events']} changed)",
        f"  Recall other calls    {sum(one['recall_other_calls'].values()):>6}  {one['recall_other_calls']}",
        f"  Slack chat.postMessage{one['slack_posts']:>6}  minimum {one['slack_posts_minimum']:>6}"
        f"  ({ratio(one['slack_posts'] / one['slack_posts_minimum'] if one['slack_posts_minimum'] else None)})",
        f"  Slack calls, all      {one['slack_total_calls']:>6}  minimum {one['slack_posts_minimum']:>6}"
        f"  ({ratio(one['slack_total_ratio'])})   {one['slack_calls']}",
        f"  DMs in Slack          {one['dms']:>6}  in {one['distinct_dm_channels']} DM channels",
        f"  time to first DM      {one['seconds_to_first_dm']} s",
        f"  time to every DM      {one['seconds_to_all_dms']} s  ({one['dms_per_second']} DMs/s)" + floor_text(one),
        f"  Slack 429s            {one['slack_429s']:>6}  goal 0",
        f"  CPU                   server {one['server_cpu_seconds']} s, twins+harness {one['twins_cpu_seconds']} s",
        f"  quiet                 {one['quiet_after_seconds']} s after the last DM (reached: {one['quiet_reached']},"
        f" backlog {one['backlog_left']})",
        "",
        f"round 2: the same {two['webhooks_sent']} webhooks again, new message ids, nothing changed -> statuses "
        f"{two['webhook_statuses']}",
        f"  Recall list calls     {two['recall_list_calls']:>6}  minimum {two['recall_list_calls_minimum']:>6}",
        f"  listings started      {len(two['listings']):>6}  returning {listed(two)} events in all (0 changed)",
        f"  Recall other calls    {sum(two['recall_other_calls'].values()):>6}  {two['recall_other_calls']}",
        f"  Slack calls           {two['slack_total_calls']:>6}  minimum {two['slack_calls_minimum']:>6}"
        f"  {two['slack_calls']}",
        f"  server CPU            {two['server_cpu_seconds']} s;  quiet after {two['quiet_after_seconds']} s"
        f" (reached: {two['quiet_reached']}, backlog {two['backlog_left']})",
        "",
        f"server memory: peak RSS {srv['peak_rss_mb_vmhwm']} MB (VmHWM), {srv['peak_rss_mb_sampled']} MB sampled, "
        f"{srv['rss_idle_mb']} MB idle before the first webhook",
        f"server log: {srv['warning_or_error_log_lines']} WARNING/ERROR lines; alive at end: {srv['alive_at_end']}",
        f"contract violations: Slack {r['contract_violations']['slack']}, Recall {r['contract_violations']['recall']}",
    ]
    lines += [f"  {line}" for line in srv["first_warning_or_error_lines"]]
    lines += [f"  violation: {v}" for v in r["contract_violation_samples"]]
    print("\n".join(lines), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=200, help="connected members (one calendar each)")
    parser.add_argument("--meetings", type=int, default=40, help="upcoming visible meetings per member")
    parser.add_argument(
        "--database-url",
        help="default: SQLite in a temp dir; a PostgreSQL URL names a server where a fresh bench_<hex> "
        "database is created and dropped (the named database itself is only used to connect)",
    )
    parser.add_argument("--json", type=Path, help="also write the report as JSON here")
    parser.add_argument("--server-log", type=Path, help="keep the server's log here")
    parser.add_argument(
        "--profile-server",
        type=Path,
        help="run the server under pyinstrument (not a project dependency) and write its text report here; "
        "timings and memory of such a run are inflated by the profiler",
    )
    parser.add_argument(
        "--slack-limits",
        action="store_true",
        help="FakeSlack enforces Slack's published limits (429 + Retry-After) and the server paces under them",
    )
    args = parser.parse_args(argv)
    if args.slack_limits:
        os.environ["BENCH_SLACK_LIMITS"] = "true"
    if args.members < 1 or args.meetings < 1:
        parser.error("--members and --meetings must be at least 1")
    report = run(args)
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
