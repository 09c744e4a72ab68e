"""Rule-switch benchmark: many members change their recording rule at once; how many Recall and Slack calls.

Run from the repository root (see benchmarks/README.md):

    .venv/bin/python benchmarks/rule_switch.py [--members 200] [--meetings 40] [--database-url URL] [--json out.json]

It seeds `--members` members with `--meetings` upcoming meetings each (half organised by the member with a
colleague, half organised by someone outside the company and accepted), runs `python -m slackbot serve`
against the twins, lets the first sync post every meeting's DM, then sends signed `/recall rule ...` slash
commands from every member at once, three times:

1. `organised`: half of each member's meetings get a bot; every message's reason changes.
2. `organised` again: nothing changes.
3. `external`: the bots move to the other half; every message's reason changes.

For each round it counts Recall bot calls against the bots that really had to change and Slack `chat.update`
calls against the messages whose content really changed (the minimum), and `chat.postMessage` (should be 0:
messages are updated in place). It reports; it never asserts a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import httpx  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sync_fanout import (  # noqa: E402
    BOT_TOKEN,
    CONCURRENCY,
    PAGE_SIZE,
    QUIET_SECONDS,
    SIGNING_SECRET,
    TEAM_ID,
    TEAM_NAME,
    BenchDatabase,
    Server,
    count_rows,
    git_revision,
    log,
    ratio,
    round_one,
    seed_members,
    server_env,
    slack_limits_on,
    user_id,
    wait_quiet,
)

from storage.lifecycle import ReconcileStatus  # noqa: E402
from storage.models import Meeting  # noqa: E402
from tests.twins.fake_recall import FakeRecall  # noqa: E402
from tests.twins.fake_slack import FakeSlack, sign_slack_request, slash_command_body  # noqa: E402

BOT_PATH = "/bot/"
REPLY_TIMEOUT = 900.0  # seconds for every member's reply to a round's command


def seed(slack: FakeSlack, recall: FakeRecall, members: int, meetings: int) -> list[tuple[str, str]]:
    slack.add_workspace(TEAM_ID, TEAM_NAME, bot_token=BOT_TOKEN)
    now = datetime.now(UTC).replace(microsecond=0)
    pairs = []
    for m in range(members):
        uid = user_id(m + 1)
        email = f"{uid.lower()}@bench.test"
        slack.add_user(TEAM_ID, uid, name=f"member{m + 1}", email=email)
        calendar = recall.add_calendar(oauth_email=email, status="connected")
        for k in range(meetings):
            start = now + timedelta(hours=1) + timedelta(days=28) * k / meetings + timedelta(minutes=(m * 7) % 600)
            if k % 2 == 0:  # organised by the member, with a colleague
                recall.add_event(
                    calendar["id"], start_time=start, title=f"Internal {k}", attendees=["colleague@bench.test"]
                )
            else:  # organised by a partner, accepted
                recall.add_event(
                    calendar["id"],
                    start_time=start,
                    title=f"External {k}",
                    organizer_email=f"partner{m}@partner.test",
                    self_response="accepted",
                )
        pairs.append((uid, calendar["id"]))
    return pairs


async def send_commands(
    url: str, slack: FakeSlack, members: int, text: str, round_name: str, answers: Counter[str]
) -> dict[int, int]:
    """`/recall <text>` from every member at once (at most CONCURRENCY in flight); returns status counts. What the
    app answered in the HTTP response itself (an immediate reply rather than one through response_url) is counted
    in ``answers``."""
    statuses: dict[int, int] = {}
    gate = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(timeout=120) as client:

        async def one(index: int) -> None:
            uid = user_id(index + 1)
            body = slash_command_body(
                text=text, team_id=TEAM_ID, user_id=uid, response_url=slack.response_url(f"{round_name}-{uid}")
            )
            headers = sign_slack_request(SIGNING_SECRET, body) | {"Content-Type": "application/x-www-form-urlencoded"}
            async with gate:
                response = await client.post(f"{url}/slack/events", content=body, headers=headers)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.content:
                try:
                    answer = response.json().get("text") or response.text
                except ValueError:
                    answer = response.text
                answers[str(answer)[:120]] += 1

        await asyncio.gather(*(one(i) for i in range(members)))
    return statuses


async def meetings_pending(url: str) -> int:
    """Meetings marked to be decided again and not yet acted on, as the server's database says."""
    (count,) = await count_rows(
        url, select(func.count()).select_from(Meeting).where(Meeting.status == ReconcileStatus.PENDING)
    )
    return count


def replies_so_far(slack: FakeSlack, members: int, name: str) -> int:
    return sum(1 for i in range(members) if slack.response_posts(f"{name}-{user_id(i + 1)}"))


def wait_replies(slack: FakeSlack, members: int, name: str, answers: Counter[str], server: Server) -> bool:
    """Until every command not answered at once has its reply (bounded by REPLY_TIMEOUT)."""
    expected = members - sum(answers.values())
    deadline = time.monotonic() + REPLY_TIMEOUT
    while time.monotonic() < deadline and server.alive():
        if replies_so_far(slack, members, name) >= expected:
            return True
        time.sleep(0.25)
    return False


def snapshot(slack: FakeSlack, recall: FakeRecall, channels: set[str]) -> dict[str, Any]:
    """Each message's blocks and each event's bot key, to count what really changed."""
    messages = {
        (m.channel, m.ts): json.dumps(m.blocks, sort_keys=True) for m in slack.messages() if m.channel in channels
    }
    bots = {e["id"]: (e["bots"][0]["deduplication_key"] if e["bots"] else None) for e in recall.events()}
    return {"messages": messages, "bots": bots}


def switch_round(
    *, server: Server, slack: FakeSlack, recall: FakeRecall, db_url: str, members: int, text: str, name: str
) -> dict[str, Any]:
    channels = {slack.dm_channel(TEAM_ID, user_id(i + 1)) for i in range(members)}
    before = snapshot(slack, recall, channels)
    recall.reset_calls()
    slack.reset_calls()
    cpu_before = server.cpu_seconds()
    started = time.monotonic()
    answers: Counter[str] = Counter()
    statuses = asyncio.run(send_commands(server.url, slack, members, text, name, answers))
    # A round is over when every member has had their reply (through response_url) and the twins are quiet:
    # a round that changes nothing makes almost no Web API call, so quiet alone would end it too early.
    replied = wait_replies(slack, members, name, answers, server)
    # The reply comes first and the meetings are acted on after it: the round is over when none is pending.
    deadline = time.monotonic() + REPLY_TIMEOUT
    while True:
        quiet = wait_quiet(recall, slack, db_url, server)
        left = asyncio.run(meetings_pending(db_url))
        if not left or time.monotonic() >= deadline or not server.alive():
            break
    # wait_quiet returns QUIET_SECONDS after the last twin call: the work ended about then.
    seconds = time.monotonic() - started - QUIET_SECONDS if quiet.reached else None
    after = snapshot(slack, recall, channels)
    bots_changed = sum(1 for event_id, key in after["bots"].items() if before["bots"].get(event_id) != key)
    messages_changed = sum(1 for key, blocks in after["messages"].items() if before["messages"].get(key) != blocks)
    bot_calls = len([c for c in recall.calls if c.path.endswith(BOT_PATH)])
    updates = len(slack.calls_to("chat.update"))
    replies = sum(len(slack.response_posts(f"{name}-{user_id(i + 1)}")) for i in range(members))
    return {
        "command": f"/recall {text}",
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "recall_bot_calls": bot_calls,
        "bots_that_changed": bots_changed,
        "recall_ratio": round(bot_calls / bots_changed, 3) if bots_changed else None,
        "chat_update": updates,
        "messages_that_changed": messages_changed,
        "slack_update_ratio": round(updates / messages_changed, 3) if messages_changed else None,
        "chat_postMessage": len(slack.calls_to("chat.postMessage")),
        "replies_to_members": replies,
        "every_member_replied": replied,
        "immediate_answers": dict(answers),
        "slack_calls_all": len(slack.calls),
        "server_cpu_seconds": round(server.cpu_seconds() - cpu_before, 1),
        "seconds_to_last_call": round(seconds, 1) if seconds is not None else None,
        "quiet_reached": quiet.reached,
        "meetings_left_pending": left,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    revision = git_revision()
    workdir = Path(tempfile.mkdtemp(prefix="bench-rule-switch-"))
    database = BenchDatabase(args.database_url, workdir)
    server: Server | None = None
    created = False
    try:
        with (
            FakeSlack(published_limits=slack_limits_on()) as slack,
            FakeRecall(page_size=PAGE_SIZE, rate_limits=False) as recall,
        ):
            log(f"seeding {args.members} members x {args.meetings} meetings ...")
            pairs = seed(slack, recall, args.members, args.meetings)
            asyncio.run(database.create())
            created = True
            asyncio.run(seed_members(database.url, pairs))
            server = Server(
                env=server_env(database_url=database.url, slack=slack, recall=recall),
                cwd=workdir,
                log_path=workdir / "server.log",
            )
            server.start()
            payloads = [recall.sync_events_payload(calendar_id) for _, calendar_id in pairs]
            twins = {"server": server, "slack": slack, "recall": recall, "db_url": database.url}
            first = round_one(**twins, payloads=payloads, expected=args.members * args.meetings)
            log(f"first sync: {first['dms']} DMs in {first['seconds_to_all_dms']} s")
            rounds = []
            for name, text in (
                ("organised", "rule organised"),
                ("again", "rule organised"),
                ("external", "rule external"),
            ):
                result = switch_round(**twins, members=args.members, text=text, name=name)
                log(
                    f"{result['command']}: {result['recall_bot_calls']} bot calls for {result['bots_that_changed']} "
                    f"bots changed, {result['chat_update']} updates for {result['messages_that_changed']} messages"
                )
                rounds.append(result)
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
                "first_sync_seconds_to_all_dms": first["seconds_to_all_dms"],
                "rounds": rounds,
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
        f"rule switch: {r['members']} members x {r['meetings_per_member']} meetings, {r['database']}, {r['date']}, "
        f"revision {r['revision']}",
    ]
    for one in r["rounds"]:
        lines += [
            "",
            f"{one['command']} from every member at once -> statuses {one['statuses']}",
            f"  Recall bot calls      {one['recall_bot_calls']:>6}  minimum {one['bots_that_changed']:>6}"
            f"  ({ratio(one['recall_ratio'])})   bots that had to change",
            f"  Slack chat.update     {one['chat_update']:>6}  minimum {one['messages_that_changed']:>6}"
            f"  ({ratio(one['slack_update_ratio'])})   messages whose content changed",
            f"  Slack chat.postMessage{one['chat_postMessage']:>6}  minimum      0",
            f"  replies to members    {one['replies_to_members']:>6}  (one per command; answered at once: "
            f"{one.get('immediate_answers') or 'none'}; every member replied: {one.get('every_member_replied')})",
            f"  server CPU {one['server_cpu_seconds']} s; last call {one['seconds_to_last_call']} s after the first"
            f" (quiet reached: {one['quiet_reached']}; meetings left pending: {one.get('meetings_left_pending')})",
        ]
    lines += [
        "",
        f"contract violations: Slack {r['contract_violations']['slack']}, Recall {r['contract_violations']['recall']}",
    ]
    print("\n".join(lines), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--meetings", type=int, default=40)
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
