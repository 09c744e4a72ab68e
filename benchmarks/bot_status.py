"""Bot-status burst benchmark: 1,000 status webhooks for 200 meetings; how many Slack calls does it make?

Run from the repository root (see benchmarks/README.md):

    .venv/bin/python benchmarks/bot_status.py [--members 50] [--meetings 4] [--order round|shuffled]
        [--split] [--database-url URL] [--json out.json]

It seeds `--members` members with `--meetings` upcoming meetings each and the rule `all` (so every meeting gets a
bot), runs `python -m slackbot serve` against the twins and lets the first sync post each meeting's DM and
schedule its bot. Then every bot lives through five statuses at once, as when 200 meetings start at the same time
(joining_call, in_waiting_room, in_call_not_recording, in_call_recording, call_ended: 1,000 signed webhooks, made
by FakeRecall), sent all together: `round` in the order Recall would send them (each status for every bot, then
the next), `shuffled` in a random order (Svix retries: late statuses must not move a message backwards).
`--split` sends them as two bursts, the waiting room first (every bot then waits to be admitted: one alert DM per
meeting), the rest after.

It counts Slack `chat.update` calls against the floor (one per message whose content changed) and against the
design it replaces (one update per webhook), the waiting-room alerts (one per meeting is the goal), and checks
every message ends on the last status. It reports; it never asserts a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from rule_switch import meetings_pending  # noqa: E402
from sqlalchemy import update  # noqa: E402
from sync_fanout import (  # noqa: E402
    BOT_TOKEN,
    PAGE_SIZE,
    QUIET_SECONDS,
    TEAM_ID,
    TEAM_NAME,
    BenchDatabase,
    Server,
    git_revision,
    log,
    push_webhooks,
    ratio,
    round_one,
    seed_members,
    server_env,
    slack_limits_on,
    user_id,
    wait_quiet,
)

from storage.db import Database  # noqa: E402
from storage.models import Member  # noqa: E402
from tests.twins.fake_recall import FakeRecall  # noqa: E402
from tests.twins.fake_slack import FakeSlack  # noqa: E402

STATUSES = ("joining_call", "in_waiting_room", "in_call_not_recording", "in_call_recording", "call_ended")
LAST_WORDS = "has left the meeting"
BURST_TIMEOUT = 30 * 60.0


def seed(slack: FakeSlack, recall: FakeRecall, members: int, meetings: int) -> list[tuple[str, str]]:
    slack.add_workspace(TEAM_ID, TEAM_NAME, bot_token=BOT_TOKEN)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    pairs = []
    for m in range(members):
        uid = user_id(m + 1)
        email = f"{uid.lower()}@bench.test"
        slack.add_user(TEAM_ID, uid, name=f"member{m + 1}", email=email)
        calendar = recall.add_calendar(oauth_email=email, status="connected")
        for k in range(meetings):
            # Distinct links: one bot per meeting (no two members share one).
            recall.add_event(
                calendar["id"],
                start_time=start + timedelta(minutes=k),
                title=f"Meeting {m}-{k}",
                meeting_url=f"https://meet.google.com/{m:03d}-{k:04d}-bch",
            )
        pairs.append((uid, calendar["id"]))
    return pairs


async def set_rule_all(url: str) -> None:
    db = Database.from_url(url)
    try:
        async with db.transaction() as session:
            await session.execute(update(Member).values(rule="all"))
    finally:
        await db.dispose()


def meeting_messages(slack: FakeSlack, channels: set[str]) -> dict[tuple[str, str], Any]:
    return {
        (m.channel, m.ts): m
        for m in slack.messages()
        if m.channel in channels and (m.metadata or {}).get("event_type") == "recall_meeting"
    }


def waiting_alerts(slack: FakeSlack, channels: set[str]) -> list[Any]:
    return [
        m
        for m in slack.messages()
        if m.channel in channels and (m.metadata or {}).get("event_type") == "recall_admit_alert"
    ]


def burst(
    *,
    server: Server,
    slack: FakeSlack,
    recall: FakeRecall,
    db_url: str,
    members: int,
    order: str,
    seed_value: int,
    codes: tuple[str, ...] = STATUSES,
    last_words: str = LAST_WORDS,
) -> dict[str, Any]:
    bots = sorted({b["id"] for b in recall.bots()})
    payloads = [recall.bot_status(bot_id, code) for code in codes for bot_id in bots]
    if order == "shuffled":
        random.Random(seed_value).shuffle(payloads)
    channels = {slack.dm_channel(TEAM_ID, user_id(i + 1)) for i in range(members)}
    before = {key: json.dumps(m.blocks, sort_keys=True) for key, m in meeting_messages(slack, channels).items()}
    edits_before = {key: m.edits for key, m in meeting_messages(slack, channels).items()}
    alerts_before = len(waiting_alerts(slack, channels))
    slack.reset_calls()
    recall.reset_calls()
    cpu_before = server.cpu_seconds()
    started = time.monotonic()
    started_wall = time.time()
    statuses, send_seconds = asyncio.run(push_webhooks(server.url, payloads))
    log(f"burst: {len(payloads)} webhooks sent in {send_seconds:.2f}s, statuses {dict(statuses)}")
    # Under Slack's limits the server is silent while it waits for its pacing: the burst is over when no
    # meeting is left to act on, not merely when the twins are quiet.
    deadline = time.monotonic() + BURST_TIMEOUT
    while True:
        quiet = wait_quiet(recall, slack, db_url, server)
        left = asyncio.run(meetings_pending(db_url))
        if not left or time.monotonic() >= deadline or not server.alive():
            break
    seconds = time.monotonic() - started - QUIET_SECONDS if quiet.reached else None
    after = meeting_messages(slack, channels)
    changed = sum(1 for key, m in after.items() if before.get(key) != json.dumps(m.blocks, sort_keys=True))
    updates = len(slack.calls_to("chat.update"))
    per_message = [m.edits - edits_before.get(key, 0) for key, m in after.items()]
    alerts = waiting_alerts(slack, channels)[alerts_before:]
    ended = sum(1 for m in after.values() if last_words in json.dumps(m.blocks))
    return {
        "codes": list(codes),
        "order": order,
        "webhooks": len(payloads),
        "meetings": len(bots),
        "webhook_statuses": {str(k): v for k, v in sorted(statuses.items())},
        "webhook_send_seconds": round(send_seconds, 2),
        "chat_update": updates,
        "messages_that_changed": changed,
        "update_ratio_to_floor": round(updates / changed, 3) if changed else None,
        "update_ratio_to_one_per_webhook": round(updates / len(payloads), 3) if payloads else None,
        "most_updates_of_one_message": max(per_message, default=0),
        "messages_updated_more_than_once": sum(1 for n in per_message if n > 1),
        "waiting_room_alerts": len(alerts),
        "seconds_to_last_alert": round(max(float(m.ts) for m in alerts) - started_wall, 1) if alerts else None,
        "chat_postMessage": len(slack.calls_to("chat.postMessage")),
        "messages_on_last_status": ended,
        "recall_calls": len(recall.calls),
        "slack_429s": len(slack.rate_limited),
        "server_cpu_seconds": round(server.cpu_seconds() - cpu_before, 1),
        "seconds_to_last_call": round(seconds, 1) if seconds is not None else None,
        "quiet_reached": quiet.reached,
        "meetings_left_pending": left,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    revision = git_revision()
    workdir = Path(tempfile.mkdtemp(prefix="bench-bot-status-"))
    database = BenchDatabase(args.database_url, workdir)
    server: Server | None = None
    created = False
    try:
        with (
            FakeSlack(published_limits=slack_limits_on()) as slack,
            FakeRecall(page_size=PAGE_SIZE, rate_limits=False) as recall,
        ):
            log(f"seeding {args.members} members x {args.meetings} meetings, rule `all` ...")
            pairs = seed(slack, recall, args.members, args.meetings)
            asyncio.run(database.create())
            created = True
            asyncio.run(seed_members(database.url, pairs))
            asyncio.run(set_rule_all(database.url))
            server = Server(
                env=server_env(database_url=database.url, slack=slack, recall=recall),
                cwd=workdir,
                log_path=workdir / "server.log",
            )
            server.start()
            payloads = [recall.sync_events_payload(calendar_id) for _, calendar_id in pairs]
            twins = {"server": server, "slack": slack, "recall": recall, "db_url": database.url}
            first = round_one(**twins, payloads=payloads, expected=args.members * args.meetings)
            log(f"first sync: {first['dms']} DMs in {first['seconds_to_all_dms']} s, {len(recall.bots())} bots")
            if args.split:
                # The waiting room first (every bot waits to be admitted), then the rest once that has settled.
                plan = [(STATUSES[:2], "waiting room"), (STATUSES[2:], LAST_WORDS)]
            else:
                plan = [(STATUSES, LAST_WORDS)]
            results = []
            for codes, words in plan:
                result = burst(
                    **twins,
                    members=args.members,
                    order=args.order,
                    seed_value=args.seed,
                    codes=codes,
                    last_words=words,
                )
                log(
                    f"burst: {result['chat_update']} updates for {result['messages_that_changed']} messages that "
                    f"changed, {result['waiting_room_alerts']} alerts"
                )
                results.append(result)
            alive = server.alive()
            server.stop()
            if args.server_log:
                shutil.copyfile(workdir / "server.log", args.server_log)
            return {
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "revision": revision,
                "database": database.kind,
                "members": args.members,
                "meetings_per_member": args.meetings,
                "slack_limits": slack_limits_on(),
                "bursts": results,
                "server_alive_at_end": alive,
                "contract_violations": {"slack": len(slack.violations), "recall": len(recall.violations)},
            }
    finally:
        if server is not None:
            server.stop()
        if created:
            with contextlib.suppress(Exception):
                asyncio.run(database.drop())
        shutil.rmtree(workdir, ignore_errors=True)


def print_report(r: dict[str, Any]) -> None:
    lines = [
        "",
        f"bot-status bursts: {r['database']}, Slack limits {'on' if r['slack_limits'] else 'off'}, {r['date']}, "
        f"revision {r['revision']}",
    ]
    for b in r["bursts"]:
        lines += burst_lines(b)
    lines.append(
        f"contract violations: Slack {r['contract_violations']['slack']}, Recall {r['contract_violations']['recall']}"
    )
    print("\n".join(lines), flush=True)


def burst_lines(b: dict[str, Any]) -> list[str]:
    return [
        f"{b['webhooks']} status webhooks ({', '.join(b['codes'])}) for {b['meetings']} meetings, {b['order']} order",
        f"  webhooks answered     {b['webhook_statuses']} in {b['webhook_send_seconds']} s",
        f"  Slack chat.update     {b['chat_update']:>6}  floor {b['messages_that_changed']:>6}"
        f"  ({ratio(b['update_ratio_to_floor'])} the floor; {ratio(b['update_ratio_to_one_per_webhook'])} of one "
        "update per webhook)",
        f"  most updates of one message {b['most_updates_of_one_message']}; messages updated more than once "
        f"{b['messages_updated_more_than_once']}",
        f"  waiting-room alerts   {b['waiting_room_alerts']:>6}  (new in this burst: one per meeting whose bot still "
        f"waits when its message is updated; the last {b['seconds_to_last_alert']} s after the first webhook; "
        f"chat.postMessage {b['chat_postMessage']})",
        f"  messages on the last status {b['messages_on_last_status']} of {b['meetings']}",
        f"  Recall calls {b['recall_calls']}; Slack 429s {b['slack_429s']}; server CPU {b['server_cpu_seconds']} s; "
        f"last call {b['seconds_to_last_call']} s after the first webhook (quiet reached: {b['quiet_reached']}; "
        f"meetings left pending: {b['meetings_left_pending']})",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--meetings", type=int, default=4)
    parser.add_argument("--order", choices=("round", "shuffled"), default="round")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--split", action="store_true", help="two bursts: joining and waiting room first, then the rest"
    )
    parser.add_argument("--database-url")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--server-log", type=Path, help="keep the server's log here")
    args = parser.parse_args(argv)
    report = run(args)
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
