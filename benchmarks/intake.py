"""Webhook intake benchmark: how fast the app takes signed webhooks in, against the least an intake can do.

Run from the repository root (see benchmarks/README.md):

    .venv/bin/python benchmarks/intake.py [--webhooks 3000] [--concurrency 32] [--database-url URL] [--json out.json]

Both sides run as uvicorn subprocesses on loopback, one after the other, against fresh databases of the same kind:

- bare: `benchmarks/bare_intake.py` verifies the Svix signature and inserts the body into a table unique by
  message id; nothing else.
- app: `python -m slackbot serve` against the twins, with 200 connected calendars; every webhook is a
  `calendar.sync_events` for one of them with a new message id. The app stores it, answers, then processes it
  (listings coalesced, meetings acted on) in the same process.

For each: requests a second, p50 / p99 latency, server CPU per request. For the app also: deliveries processed when
the last answer came back, seconds until every delivery was processed, seconds from the first webhook to the first
listing, and to the last of the meetings' DMs. Ratios are app / bare. It reports; it never asserts a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import httpx  # noqa: E402
import psutil  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sync_fanout import (  # noqa: E402
    LIST_PATH,
    PAGE_SIZE,
    TEAM_ID,
    WEBHOOK_SECRET,
    BenchDatabase,
    Server,
    count_rows,
    dm_count,
    free_port,
    git_revision,
    log,
    ratio,
    seed_members,
    seed_twins,
    server_env,
)

from storage.lifecycle import DeliveryStatus  # noqa: E402
from storage.models import WebhookDelivery  # noqa: E402
from tests.twins.fake_recall import FakeRecall, sign_webhook  # noqa: E402
from tests.twins.fake_slack import FakeSlack  # noqa: E402

CALENDARS = 200
MEETINGS = 5
# The DMs have all been posted once none came for this long.
DMS_SETTLED = 3.0


async def blast(url: str, bodies: list[tuple[bytes, dict[str, str]]], concurrency: int) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: dict[int | str, int] = {}
    gate = asyncio.Semaphore(concurrency)
    dropped: list[tuple[float, float]] = []  # (seconds into the run, seconds waited) of each transport error
    first = time.perf_counter()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:

        async def one(body: bytes, headers: dict[str, str]) -> None:
            async with gate:
                started = time.perf_counter()
                try:
                    response = await client.post(
                        f"{url}/recall/webhook", content=body, headers=headers | {"Content-Type": "application/json"}
                    )
                except httpx.TransportError as exc:  # counted, not fatal: the report says how many, and when
                    status: int | str = type(exc).__name__
                    dropped.append((round(started - first, 2), round(time.perf_counter() - started, 2)))
                else:
                    status = response.status_code
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1

        started_at = time.time()  # wall clock: the caller may be another process
        started = time.perf_counter()
        await asyncio.gather(*(one(b, h) for b, h in bodies))
        seconds = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(bodies),
        "seconds": round(seconds, 2),
        "per_second": round(len(bodies) / seconds, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
        "statuses": {str(k): v for k, v in sorted(statuses.items(), key=lambda item: str(item[0]))},
        "transport_errors_at": dropped,
        "started_at": started_at,
    }


def _blast_here(url: str, bodies: list[tuple[bytes, dict[str, str]]], concurrency: int) -> dict[str, Any]:
    return asyncio.run(blast(url, bodies, concurrency))


def blast_apart(url: str, bodies: list[tuple[bytes, dict[str, str]]], concurrency: int) -> dict[str, Any]:
    """`blast` in a process of its own: the load must not share an interpreter (and its GIL) with the twins that
    answer the app's Slack and Recall calls, or the app would be measured slower for the twins' work."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_blast_here, url, bodies, concurrency).result()


def run_bare(args: argparse.Namespace, workdir: Path, bodies: list[tuple[bytes, dict[str, str]]]) -> dict[str, Any]:
    database = BenchDatabase(args.database_url, workdir / "bare")
    (workdir / "bare").mkdir(exist_ok=True)
    asyncio.run(database.create())
    port = free_port()
    env = os.environ | {"DATABASE_URL": database.url, "RECALL_WEBHOOK_SECRET": WEBHOOK_SECRET}
    process = subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "bare_intake.py"), str(port)], env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(200):
            with contextlib.suppress(httpx.HTTPError):
                httpx.post(f"{url}/recall/webhook", content=b"{}", timeout=1)
                break
            time.sleep(0.1)
        cpu = psutil.Process(process.pid)
        before = sum(cpu.cpu_times()[:2])
        result = blast_apart(url, bodies, args.concurrency)
        result.pop("started_at")
        result["cpu_ms_per_request"] = round((sum(cpu.cpu_times()[:2]) - before) * 1000 / len(bodies), 2)
        return result
    finally:
        process.terminate()
        process.wait(10)
        asyncio.run(database.drop())


def medians(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Each number's median over the rounds (None where a round had none)."""
    out: dict[str, Any] = {}
    for key, value in results[0].items():
        if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
            values = [r[key] for r in results if isinstance(r.get(key), int | float)]
            out[key] = round(statistics.median(values), 2) if values else None
    return out


async def processed(url: str) -> int:
    (done,) = await count_rows(
        url, select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.status == DeliveryStatus.DONE)
    )
    return done


def run_app(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    database = BenchDatabase(args.database_url, workdir)
    asyncio.run(database.create())
    server: Server | None = None
    try:
        with FakeSlack(published_limits=False) as slack, FakeRecall(page_size=PAGE_SIZE, rate_limits=False) as recall:
            pairs = seed_twins(slack, recall, CALENDARS, MEETINGS)
            asyncio.run(seed_members(database.url, pairs))
            server = Server(
                env=server_env(database_url=database.url, slack=slack, recall=recall),
                cwd=workdir,
                log_path=workdir / "server.log",
            )
            server.start()
            bodies = [
                sign_webhook(recall.sync_events_payload(pairs[i % len(pairs)][1]), secret=WEBHOOK_SECRET)
                for i in range(args.webhooks)
            ]
            recall.reset_calls()
            first_list: list[float] = []

            def watch(started: float) -> None:
                while not first_list and time.perf_counter() - started < 120:
                    if recall.count("GET", LIST_PATH):
                        first_list.append(time.time())  # wall clock, against the load process's start
                    time.sleep(0.05)

            cpu_before = server.cpu_seconds()
            watcher = threading.Thread(target=watch, args=(time.perf_counter(),), daemon=True)
            watcher.start()
            result = blast_apart(server.url, bodies, args.concurrency)
            started = result.pop("started_at")
            result["cpu_ms_per_request"] = round((server.cpu_seconds() - cpu_before) * 1000 / len(bodies), 2)
            result["processed_at_last_answer"] = asyncio.run(processed(database.url))
            deadline = time.perf_counter() + 600
            accepted = result["statuses"].get("200", 0)  # a webhook that got no 200 was never stored
            while time.perf_counter() < deadline and asyncio.run(processed(database.url)) < accepted:
                time.sleep(0.25)
            result["seconds_until_all_processed"] = round(time.time() - started, 1)
            # The meetings those webhooks changed get their DMs after the intake (it goes first): until the DMs
            # stop coming (bounded), then when the last one was posted.
            channels = {slack.dm_channel(TEAM_ID, uid) for uid, _ in pairs}
            count, steady_since = dm_count(slack, channels), time.perf_counter()
            while time.perf_counter() - steady_since < DMS_SETTLED and time.perf_counter() < deadline:
                time.sleep(0.25)
                if (now := dm_count(slack, channels)) != count:
                    count, steady_since = now, time.perf_counter()
            posted = [float(m.ts) for m in slack.messages() if m.channel in channels]
            result["dms"] = count
            result["seconds_to_last_dm"] = round(max(posted) - started, 1) if posted else None
            watcher.join(5)
            result["seconds_to_first_listing"] = round(first_list[0] - started, 2) if first_list else None
            result["info_log_lines"] = sum(
                " INFO " in line for line in (workdir / "server.log").read_text(errors="replace").splitlines()
            )
            return result
    finally:
        if server is not None:
            server.stop()
        if args.server_log and (workdir / "server.log").exists():
            shutil.copyfile(workdir / "server.log", args.server_log)
        asyncio.run(database.drop())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--webhooks", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="app and bare runs, interleaved; medians are reported")
    parser.add_argument("--database-url")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--server-log", type=Path, help="keep the app server's log here")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="bench-intake-"))
    payload = {"event": "calendar.sync_events", "data": {"calendar_id": "c", "last_updated_ts": "2026-01-01T00:00:00Z"}}
    apps: list[dict[str, Any]] = []
    bares: list[dict[str, Any]] = []
    try:
        for n in range(args.rounds):  # interleaved, so a slow minute of the machine hits both sides
            (workdir / f"round{n}").mkdir()
            log(f"round {n + 1}/{args.rounds}: app ...")
            apps.append(run_app(args, workdir / f"round{n}"))
            log(f"round {n + 1}/{args.rounds}: bare endpoint ...")
            bodies = [sign_webhook(payload, secret=WEBHOOK_SECRET) for _ in range(args.webhooks)]
            bares.append(run_bare(args, workdir / f"round{n}", bodies))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    app, bare = medians(apps), medians(bares)
    kind = "postgresql" if args.database_url and not args.database_url.startswith("sqlite") else "sqlite"
    report = {
        "revision": git_revision(),
        "database": kind,
        "webhooks": args.webhooks,
        "rounds": args.rounds,
        "app": app,
        "bare": bare,
        "app_rounds": apps,
        "bare_rounds": bares,
    }
    per_round = ", ".join(ratio(a["per_second"] / b["per_second"]) for a, b in zip(apps, bares, strict=True))
    print(
        "\n".join(
            [
                "",
                f"intake: {args.webhooks} signed webhooks, concurrency {args.concurrency}, {kind}, "
                f"revision {report['revision']}; medians of {args.rounds} interleaved rounds",
                f"  requests/s ratio per round: {per_round}",
                f"  requests/s    app {app['per_second']:>8}  bare {bare['per_second']:>8}  "
                f"({ratio(app['per_second'] / bare['per_second'])} of bare; goal >= 0.6x)",
                f"  p50 ms        app {app['p50_ms']:>8}  bare {bare['p50_ms']:>8}",
                f"  p99 ms        app {app['p99_ms']:>8}  bare {bare['p99_ms']:>8}  "
                f"({ratio(app['p99_ms'] / bare['p99_ms'])}; goal <= 2x)",
                f"  CPU ms / req  app {app['cpu_ms_per_request']:>8}  bare {bare['cpu_ms_per_request']:>8}",
                f"  statuses (all rounds)  app {[a['statuses'] for a in apps]}  bare {[b['statuses'] for b in bares]}",
                f"  transport errors (s into the run, s waited)  app {[a['transport_errors_at'] for a in apps]}"
                f"  bare {[b['transport_errors_at'] for b in bares]}",
                f"  app: {app['processed_at_last_answer']} processed when the last answer came back; "
                f"all processed after {app['seconds_until_all_processed']} s; "
                f"first listing {app['seconds_to_first_listing']} s after the "
                f"first webhook (goal <= 2 s); {app['info_log_lines']} INFO log lines",
                f"  app: {app['dms']} meeting DMs, the last {app['seconds_to_last_dm']} s after the first webhook",
            ]
        ),
        flush=True,
    )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
