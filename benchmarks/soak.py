"""Reliability soak: a seeded script of calendar changes and webhooks, played twice (fault-free, then with the server
SIGKILLed at random moments and 20% of Slack and Recall calls failing); are the DMs and bots the same?

Run from the repository root (see benchmarks/README.md):

    .venv/bin/python benchmarks/soak.py [--deliveries 1000] [--members 20] [--seed 1] [--database-url URL] [--json F]

Each run starts fresh twins (FakeSlack, FakeRecall) and a fresh database, seeds `--members` connected members
(rules: all / organised / ask), and runs `python -m slackbot serve` against them. Then it plays the same script:
before each signed `calendar.sync_events` webhook it changes the calendar the way calendars change (a meeting
added, moved, relinked, retitled, cancelled, declined by an attendee; a quarter of the meetings are on two
members' calendars), and now and then it redelivers an earlier webhook with the same svix message id. Webhooks
that get no 2xx are resent with the same message id until they do, as Svix does. The faults run adds chaos on
both twins and a killer that SIGKILLs the server every few seconds and restarts it at once. After the last
webhook each run settles (chaos off; what the repair job would do later is done now, see README) and the end
states are compared per meeting copy: DMs, their final content, and Recall's bots. It reports; it exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import httpx  # noqa: E402
from sqlalchemy import func, or_, select, update  # noqa: E402
from sync_fanout import (  # noqa: E402
    BOT_TOKEN,
    TEAM_ID,
    TEAM_NAME,
    WEBHOOK_SECRET,
    BenchDatabase,
    Server,
    git_revision,
    log,
    seed_members,
    server_env,
    total_calls,
    user_id,
)

from storage.db import Database  # noqa: E402
from storage.lifecycle import DeliveryStatus, ReconcileStatus, SyncStatus  # noqa: E402
from storage.models import CalendarSync, Meeting, Member, WebhookDelivery, utcnow  # noqa: E402
from tests.twins.fake_recall import FakeRecall, sign_webhook  # noqa: E402
from tests.twins.fake_slack import CHAOS_KINDS, LOST_REPLY, FakeSlack, Message  # noqa: E402

LEASE_SECONDS = 2  # WORK_LEASE_SECONDS: a killed process's leases run out this fast (as test_crash_recovery does)
RULES = ("all", "organised", None, "organised")  # member i gets RULES[i % 4]; None: ask (the default)
TITLES = ("Design review", "Standup", "Planning", "1:1", "Retro", "Customer call", "Budget", "Roadmap", "Sync")
HORIZON_MINUTES = 14 * 24 * 60  # meetings start within 14 days of the anchor
CANCEL_GAP = 150  # a meeting is cancelled or declined only this many webhooks after it was added
SEND_TIMEOUT = 10.0  # one webhook POST
DELIVERY_BOUND = 180.0  # resends of one message stop after this long (counted as given up)
QUIET_SECONDS = 2.0
QUIET_BOUND = 60.0
SETTLE_BOUND = 5 * 60.0
REPAIR_BOUND = 180.0
POLL = 0.25

# What the repair job does (slackbot.jobs.repair_meetings), run once in its own process now.
REPAIR_NOW = """
import asyncio, sys
from slackbot.jobs import repair_meetings
from slackbot.log_format import configure_logging
from slackbot.registry import build_services
from slackbot.settings import load_settings

async def main() -> None:
    services = build_services(load_settings())
    try:
        print("repaired", await repair_meetings(services), flush=True)
    finally:
        await services.aclose()

configure_logging()
asyncio.run(main())
"""


# ---- the script: meetings and what happens to them -------------------------------------------------------------


@dataclass(frozen=True)
class MeetingSpec:
    """One meeting as the script knows it; ``partner``: a second member who has a copy (an attendee)."""

    serial: int
    owner: int
    partner: int | None
    start: int  # minutes after the anchor
    minutes: int
    link: str
    title: str
    added_at: int  # webhook index when it was added
    cancelled: bool = False
    partner_declined: bool = False

    @property
    def token(self) -> str:
        return f"[m{self.serial:04d}]"

    def members(self) -> list[int]:
        return [self.owner] if self.partner is None else [self.owner, self.partner]


@dataclass(frozen=True)
class Op:
    kind: str  # add | move | relink | retitle | cancel | decline | touch
    spec: MeetingSpec | None  # the meeting after the change (None for touch)
    member: int | None = None  # touch: the calendar whose webhook carries no change


@dataclass
class Step:
    ops: list[Op]
    calendars: list[int]  # one webhook each, after the ops
    redeliver: list[int] = field(default_factory=list)  # earlier webhook indexes sent again, same message id


@dataclass
class Script:
    initial: list[Op]  # meetings on the calendars before the server starts
    steps: list[Step]
    meetings: dict[int, MeetingSpec]  # as they end

    @property
    def webhooks(self) -> int:
        return sum(len(s.calendars) for s in self.steps)

    @property
    def redeliveries(self) -> int:
        return sum(len(s.redeliver) for s in self.steps)

    def kinds(self) -> Counter[str]:
        return Counter(op.kind for s in self.steps for op in s.ops)


def build_script(*, seed: int, members: int, deliveries: int, initial_per_member: int = 3) -> Script:
    """A deterministic script of `deliveries` webhooks (plus redeliveries) over `members` calendars."""
    rng = random.Random(seed)
    links: set[str] = set()
    meetings: dict[int, MeetingSpec] = {}

    def link() -> str:
        while True:
            letters = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(10))
            url = f"https://meet.google.com/{letters[:3]}-{letters[3:7]}-{letters[7:]}"
            if url not in links:
                links.add(url)
                return url

    def title(serial: int) -> str:
        return f"[m{serial:04d}] {rng.choice(TITLES)}"

    def new_meeting(owner: int, at: int) -> MeetingSpec:
        serial = len(meetings) + 1
        partner = None
        if members > 1 and rng.random() < 0.25:
            partner = rng.choice([m for m in range(members) if m != owner])
        spec = MeetingSpec(
            serial=serial,
            owner=owner,
            partner=partner,
            start=rng.randrange(0, HORIZON_MINUTES // 15) * 15,
            minutes=rng.choice((30, 45, 60)),
            link=link(),
            title=title(serial),
            added_at=at,
        )
        meetings[serial] = spec
        return spec

    initial = [Op("add", new_meeting(m, 0)) for m in range(members) for _ in range(initial_per_member)]
    # Each calendar's first webhook announces the meetings already there.
    steps = [Step([], [m]) for m in range(members)]
    sent = members
    weights = {"add": 35, "move": 20, "retitle": 12, "relink": 10, "cancel": 10, "decline": 6, "touch": 7}
    while sent < deliveries:
        live = [s for s in meetings.values() if not s.cancelled]
        old = [s for s in live if s.added_at <= sent - CANCEL_GAP]
        kind = rng.choices(list(weights), weights=list(weights.values()))[0]
        if deliveries - sent < 2:
            kind = "touch"  # the last webhook: no change that would need two (a shared meeting's)
        spec: MeetingSpec | None = None
        if kind == "add":
            spec = new_meeting(rng.randrange(members), sent)
        elif kind in ("move", "retitle", "relink") and live:
            was = rng.choice(live)
            if kind == "move":
                start = was.start + rng.choice((-1, 1)) * rng.randint(1, 96) * 15
                spec = replace(was, start=min(max(start, 0), HORIZON_MINUTES))
            elif kind == "retitle":
                spec = replace(was, title=title(was.serial))
            else:
                spec = replace(was, link=link())
        elif kind == "cancel" and old:
            spec = replace(rng.choice(old), cancelled=True)
        elif kind == "decline":
            candidates = [s for s in old if s.partner is not None and not s.partner_declined]
            if candidates:
                spec = replace(rng.choice(candidates), partner_declined=True)
        if spec is None:
            member = rng.randrange(members)
            step = Step([Op("touch", None, member)], [member])
        else:
            meetings[spec.serial] = spec
            touched = [spec.partner] if kind == "decline" and spec.partner is not None else spec.members()
            step = Step([Op(kind, spec)], touched)
        sent += len(step.calendars)
        if sent > members and rng.random() < 0.08:
            step.redeliver.append(rng.randrange(0, sent - len(step.calendars)))
        steps.append(step)
    return Script(initial=initial, steps=steps, meetings=meetings)


# ---- the twins' calendars, as the script changes them --------------------------------------------------------


def email_of(member: int) -> str:
    return f"{user_id(member + 1).lower()}@bench.test"


class World:
    """Applies the script to one FakeRecall; remembers each meeting copy's event id (they differ between runs)."""

    def __init__(self, recall: FakeRecall, calendars: list[str], anchor: datetime) -> None:
        self.recall, self.calendars, self.anchor = recall, calendars, anchor
        self.events: dict[tuple[int, str], str] = {}  # (serial, "o" owner | "p" partner) -> event id
        self.added: dict[tuple[int, str], float] = {}  # when each copy was added (time.monotonic())

    def _times(self, spec: MeetingSpec) -> dict[str, datetime]:
        start = self.anchor + timedelta(minutes=spec.start)
        return {"start_time": start, "end_time": start + timedelta(minutes=spec.minutes)}

    def apply(self, op: Op) -> None:
        spec = op.spec
        if spec is None:
            return
        copies = [("o", spec.owner)] + ([("p", spec.partner)] if spec.partner is not None else [])
        if op.kind == "add":
            for role, member in copies:
                extra: dict[str, Any] = {}
                if role == "p":
                    extra = {"organizer_email": email_of(spec.owner), "self_response": "accepted"}
                elif spec.partner is not None:
                    extra = {"attendees": [email_of(spec.partner)], "self_response": "accepted"}
                event = self.recall.add_event(
                    self.calendars[member], title=spec.title, meeting_url=spec.link, **self._times(spec), **extra
                )
                self.events[(spec.serial, role)] = event["id"]
                self.added[(spec.serial, role)] = time.monotonic()
        elif op.kind == "cancel":
            for role, _ in copies:
                self.recall.delete_event(self.events[(spec.serial, role)])
        elif op.kind == "decline":
            self.recall.update_event(self.events[(spec.serial, "p")], self_response="declined")
        else:
            changes: dict[str, Any] = {
                "move": self._times(spec),
                "retitle": {"title": spec.title},
                "relink": {"meeting_url": spec.link},
            }[op.kind]
            for role, _ in copies:
                self.recall.update_event(self.events[(spec.serial, role)], **changes)


# ---- sending webhooks like Svix ------------------------------------------------------------------------------


@dataclass
class SendStats:
    messages: int = 0  # distinct webhooks (message ids) sent
    redeliveries: int = 0  # earlier messages sent again with the same id
    attempts: int = 0  # every POST
    resends: int = 0  # POSTs after a message's attempt got no 2xx
    resent_messages: int = 0  # messages that needed at least one resend
    acknowledged: int = 0  # messages (and redeliveries) that got their 2xx
    duplicates_answered: int = 0  # 2xx that said "duplicate" (the id was stored already)
    redeliveries_duplicate: int = 0  # ... of them, the deliberate redeliveries
    gave_up: int = 0  # no 2xx within DELIVERY_BOUND
    statuses: Counter[int] = field(default_factory=Counter)  # per attempt; 0 = no answer (server down, killed)


async def deliver(
    client: httpx.AsyncClient, url: str, payload: dict[str, Any], msg_id: str, stats: SendStats, *, redelivery: bool
) -> None:
    """POST one webhook until it gets a 2xx, with the same message id each time (bounded)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DELIVERY_BOUND
    delay, attempt = 0.25, 0
    while True:
        attempt += 1
        stats.attempts += 1
        if attempt > 1:
            stats.resends += 1
            if attempt == 2:
                stats.resent_messages += 1
        body, headers = sign_webhook(payload, secret=WEBHOOK_SECRET, msg_id=msg_id)  # re-signed, as Svix does
        try:
            response = await client.post(url, content=body, headers=headers | {"content-type": "application/json"})
            status = response.status_code
        except httpx.HTTPError:
            status = 0
        stats.statuses[status] += 1
        if 200 <= status < 300:
            stats.acknowledged += 1
            with contextlib.suppress(ValueError):
                if response.json().get("duplicate"):
                    stats.duplicates_answered += 1
                    stats.redeliveries_duplicate += redelivery
            return
        if loop.time() >= deadline:
            stats.gave_up += 1
            return
        await asyncio.sleep(delay)
        delay = min(delay * 2, 2.0)


async def play(
    script: Script, world: World, *, url: str, rate: float, tag: str, stats: SendStats
) -> tuple[float, list[str]]:
    """Every step at its time (`rate` webhooks a second): change the calendars, then send its webhooks."""
    loop = asyncio.get_running_loop()
    sent: list[tuple[dict[str, Any], str]] = []
    tasks: list[asyncio.Task[None]] = []
    started = loop.time()
    next_report = started + 15
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=16)
    async with httpx.AsyncClient(timeout=SEND_TIMEOUT, limits=limits) as client:
        for step in script.steps:
            due = started + len(sent) / rate
            if due > loop.time():
                await asyncio.sleep(due - loop.time())
            for op in step.ops:
                world.apply(op)
            for member in step.calendars:
                payload = world.recall.sync_events_payload(world.calendars[member])
                msg_id = f"msg_soak_{tag}_{len(sent):05d}"
                sent.append((payload, msg_id))
                stats.messages += 1
                tasks.append(asyncio.create_task(deliver(client, url, payload, msg_id, stats, redelivery=False)))
            for index in step.redeliver:
                payload, msg_id = sent[index]
                stats.redeliveries += 1
                tasks.append(asyncio.create_task(deliver(client, url, payload, msg_id, stats, redelivery=True)))
            if loop.time() >= next_report:
                log(f"  {len(sent)} webhooks sent, {stats.acknowledged} acknowledged, {stats.resends} resends")
                next_report = loop.time() + 15
        await asyncio.gather(*tasks)
    return loop.time() - started, [msg_id for _, msg_id in sent]


class DmWatcher(threading.Thread):
    """Notes when each DM first appears on FakeSlack (polled every POLL seconds), for DM latency."""

    def __init__(self, slack: FakeSlack) -> None:
        super().__init__(name="dm-watcher", daemon=True)
        self.slack = slack
        self.stop = threading.Event()
        self.first_seen: dict[tuple[str, str], float] = {}

    def run(self) -> None:
        while not self.stop.is_set():
            now = time.monotonic()
            for message in self.slack.messages():
                self.first_seen.setdefault((message.channel, message.ts), now)
            self.stop.wait(POLL)


# ---- the server, killed and restarted ------------------------------------------------------------------------


class SoakServer(Server):
    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


class Killer(threading.Thread):
    """SIGKILLs the server every `low`..`high` seconds (seeded) and restarts it at once."""

    def __init__(self, server: SoakServer, *, seed: int, low: float, high: float) -> None:
        super().__init__(name="killer", daemon=True)
        self.server, self.rng, self.low, self.high = server, random.Random(seed), low, high
        self.stop = threading.Event()
        self.kills = 0
        self.down_seconds = 0.0
        self.restart_failures: list[str] = []

    def run(self) -> None:
        while not self.stop.wait(self.rng.uniform(self.low, self.high)):
            began = time.monotonic()
            self.server.kill()
            self.kills += 1
            for _ in range(3):
                try:
                    self.server.start(timeout=90)
                    break
                except RuntimeError as exc:
                    self.restart_failures.append(str(exc)[-300:])
            self.down_seconds += time.monotonic() - began
            if not self.server.alive():
                return


# ---- settling: chaos off, then what the repair job would do later ---------------------------------------------


def wait_calls_quiet(slack: FakeSlack, recall: FakeRecall) -> bool:
    """Until no twin call came for QUIET_SECONDS (bounded by QUIET_BOUND); whether it got quiet."""
    started = time.monotonic()
    last, changed = total_calls(recall, slack), time.monotonic()
    while time.monotonic() - started < QUIET_BOUND:
        time.sleep(POLL)
        now, total = time.monotonic(), total_calls(recall, slack)
        if total != last:
            last, changed = total, now
        elif now - changed >= QUIET_SECONDS:
            return True
    return False


async def due_now(url: str) -> int:
    """Work the server picks up by itself right now: deliveries and listings that are due (not backing off)."""
    db = Database.from_url(url)
    now = utcnow()
    try:
        async with db.transaction() as session:
            deliveries = await session.scalar(
                select(func.count())
                .select_from(WebhookDelivery)
                .where(WebhookDelivery.status == DeliveryStatus.PENDING, WebhookDelivery.due_at <= now)
            )
            syncs = await session.scalar(
                select(func.count())
                .select_from(CalendarSync)
                .where(
                    CalendarSync.status == SyncStatus.DUE,
                    or_(CalendarSync.due_at.is_(None), CalendarSync.due_at <= now),
                )
            )
    finally:
        await db.dispose()
    return int(deliveries or 0) + int(syncs or 0)


def wait_server_idle(slack: FakeSlack, recall: FakeRecall, db_url: str, *, bound: float) -> bool:
    """Until the twins are quiet and nothing the server works on by itself is due (bounded)."""
    started = time.monotonic()
    while time.monotonic() - started < bound:
        if wait_calls_quiet(slack, recall) and asyncio.run(due_now(db_url)) == 0:
            return True
    return False


async def unsettled_meetings(url: str) -> list[str]:
    """Event ids of meetings not settled (pending or retrying)."""
    db = Database.from_url(url)
    try:
        async with db.transaction() as session:
            rows = await session.scalars(
                select(Meeting.recall_event_id).where(Meeting.status != ReconcileStatus.SETTLED)
            )
            return sorted(rows)
    finally:
        await db.dispose()


async def leftovers(url: str) -> dict[str, int]:
    """Work the database still holds: deliveries not processed, listings due, meetings not settled."""
    db = Database.from_url(url)
    try:
        async with db.transaction() as session:
            pending = await session.scalar(
                select(func.count())
                .select_from(WebhookDelivery)
                .where(WebhookDelivery.status == DeliveryStatus.PENDING)
            )
            due = await session.scalar(
                select(func.count()).select_from(CalendarSync).where(CalendarSync.status == SyncStatus.DUE)
            )
            rows = await session.execute(
                select(Meeting.status, func.count())
                .where(Meeting.status != ReconcileStatus.SETTLED)
                .group_by(Meeting.status)
            )
            meetings = {str(status): int(count) for status, count in rows}
    finally:
        await db.dispose()
    return {
        "deliveries_pending": int(pending or 0),
        "syncs_due": int(due or 0),
        "meetings_pending": meetings.get(ReconcileStatus.PENDING.value, 0),
        "meetings_retrying": meetings.get(ReconcileStatus.RETRYING.value, 0),
    }


async def fast_forward(url: str, *, meetings: bool) -> int:
    """Back-offs run out now: what is waiting for its `due_at` (and not held by anyone) is due now."""
    db = Database.from_url(url)
    now = utcnow()
    moved = 0
    try:
        async with db.transaction() as session:
            if meetings:
                result = await session.execute(
                    update(Meeting)
                    .where(
                        Meeting.status.in_([ReconcileStatus.PENDING, ReconcileStatus.RETRYING]),
                        or_(Meeting.claimed_until.is_(None), Meeting.claimed_until < now),
                    )
                    .values(due_at=now)
                    .execution_options(synchronize_session=False)
                )
                moved += result.rowcount or 0
            else:
                result = await session.execute(
                    update(CalendarSync)
                    .where(
                        CalendarSync.status == SyncStatus.DUE,
                        or_(CalendarSync.claimed_until.is_(None), CalendarSync.claimed_until < now),
                    )
                    .values(due_at=None)
                    .execution_options(synchronize_session=False)
                )
                moved += result.rowcount or 0
                result = await session.execute(
                    update(WebhookDelivery)
                    .where(
                        WebhookDelivery.status == DeliveryStatus.PENDING,
                        or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < now),
                    )
                    .values(due_at=now)
                    .execution_options(synchronize_session=False)
                )
                moved += result.rowcount or 0
    finally:
        await db.dispose()
    return moved


def repair_now(env: dict[str, str], cwd: Path, log_path: Path) -> int:
    """The repair job, once, in a process of its own (like a `worker` whose timer just fired)."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", REPAIR_NOW], env=env, cwd=cwd, capture_output=True, timeout=REPAIR_BOUND
        )
    except subprocess.TimeoutExpired:
        return -1
    with log_path.open("ab") as out:
        out.write(b"--- repair_now ---\n" + done.stderr + done.stdout)
    found = re.search(rb"repaired (\d+)", done.stdout)
    return int(found.group(1)) if found else -1


def settle(
    *, slack: FakeSlack, recall: FakeRecall, db_url: str, env: dict[str, str], workdir: Path, log_path: Path
) -> dict[str, Any]:
    """Until the database holds no work and the twins are quiet (bounded by SETTLE_BOUND)."""
    started = time.monotonic()
    # First the server catches up on its own (the backlog the faults left); what is left then is the repair job's.
    caught_up = wait_server_idle(slack, recall, db_url, bound=SETTLE_BOUND)
    catch_up_seconds = time.monotonic() - started
    first: dict[str, int] | None = None
    unsettled: list[str] = []
    rounds, repaired, forwarded = 0, 0, 0
    left: dict[str, int] = {}
    while True:
        wait_server_idle(slack, recall, db_url, bound=QUIET_BOUND)
        left = asyncio.run(leftovers(db_url))
        if first is None:
            first = left
            unsettled = asyncio.run(unsettled_meetings(db_url)) if any(left.values()) else []
        if not any(left.values()) or time.monotonic() - started >= SETTLE_BOUND:
            break
        rounds += 1
        # Listings and deliveries first (the server rescans for them every lease/4), then the meetings.
        forwarded += asyncio.run(fast_forward(db_url, meetings=False))
        wait_server_idle(slack, recall, db_url, bound=QUIET_BOUND)
        forwarded += asyncio.run(fast_forward(db_url, meetings=True))
        repaired += max(0, repair_now(env, workdir, log_path))
    return {
        "catch_up_seconds": round(catch_up_seconds, 1),
        "caught_up": caught_up,
        "left_for_repair": first,
        "unsettled_event_ids": unsettled,
        "rounds": rounds,
        "fast_forwarded": forwarded,
        "repaired": repaired,
        "left_at_end": left,
        "reached": not any(left.values()),
        "seconds": round(time.monotonic() - started, 1),
    }


# ---- what each run ends with ---------------------------------------------------------------------------------


def versions(message: Message) -> list[str]:
    return [str(h.get("text", "")) for h in message.history] + [message.text]


def copy_key(serial: int, role: str) -> str:
    return f"m{serial:04d}{role}"


def final_state(spec: MeetingSpec, role: str) -> str:
    if spec.cancelled:
        return "cancelled"
    if role == "p" and spec.partner_declined:
        return "declined"
    return "live"


def capture(
    slack: FakeSlack,
    recall: FakeRecall,
    world: World,
    script: Script,
    members: int,
    *,
    first_seen: dict[tuple[str, str], float],
    rows: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """Per meeting copy: its DMs (messages whose text ever carried the meeting's token), the last one's content
    with this run's event ids replaced by the copy's name, and the key of its bot at Recall."""
    names = {event_id: copy_key(serial, role) for (serial, role), event_id in world.events.items()}
    id_pattern = re.compile("|".join(re.escape(e) for e in names)) if names else None
    channels = {m: slack.dm_channel(TEAM_ID, user_id(m + 1)) for m in range(members)}
    messages = {m: slack.messages(channels[m]) for m in range(members)}
    matched: Counter[tuple[int, str]] = Counter()
    copies: dict[str, dict[str, Any]] = {}
    for (serial, role), event_id in sorted(world.events.items()):
        spec = script.meetings[serial]
        member = spec.owner if role == "o" else spec.partner
        assert member is not None
        mine = [m for m in messages[member] if any(spec.token in v for v in versions(m))]
        for m in mine:
            matched[(m.channel, m.ts)] += 1
        final = None
        if mine:
            raw = json.dumps({"text": mine[-1].text, "blocks": mine[-1].blocks}, sort_keys=True)
            final = id_pattern.sub(lambda found: names[found.group(0)], raw) if id_pattern else raw
        bot = recall.bot_for_event(event_id)
        copies[copy_key(serial, role)] = {
            "state": final_state(spec, role),
            # What the last message says of the bot (the fallback text ends with the state's words).
            "says": mine[-1].text.rsplit("): ", 1)[-1] if mine else None,
            "dms": len(mine),
            "edits": sum(m.edits for m in mine),
            "final": final,
            "bot": bot["deduplication_key"] if bot else None,
            "bot_id": bot["id"] if bot else None,
            "event_id": event_id,
            # Seconds from the meeting being added to its (first) DM appearing, at POLL resolution.
            "dm_latency": round(first_seen[(mine[0].channel, mine[0].ts)] - world.added[(serial, role)], 2)
            if mine and (mine[0].channel, mine[0].ts) in first_seen and (serial, role) in world.added
            else None,
            "row": rows.get(event_id),  # the app's own record of the meeting at the end
        }
    every = [m for ms in messages.values() for m in ms]
    # Checked against the twins, not against the other run: does each message tell the truth about the bots?
    wrong_bot, missing_colleague, stale_colleague, wrong_state, stale_key = [], [], [], [], []
    for (serial, _), key in _copy_keys(copies):
        copy = copies[key]
        spec = script.meetings[serial]
        start = world.anchor + timedelta(minutes=spec.start)
        if copy["bot"] and copy["bot"] != f"{start.strftime('%Y-%m-%dT%H:%M:%SZ')}-{spec.link}":
            stale_key.append(key)  # Recall's bot is not for the meeting's current time and link
        if copy["says"] is None:
            continue
        if (copy["says"] == "bot scheduled") != bool(copy["bot"]):
            wrong_bot.append(key)
        # A copy without a bot of its own, whose colleague's copy has one: the message must say that bot covers it
        # ("covers this meeting", "will still record it"); without a bot there, it must not name the colleague.
        other_role = "p" if key.endswith("o") else "o"
        other = copies.get(copy_key(serial, other_role))
        if other is not None and copy["state"] == "live" and not copy["bot"]:
            colleague = spec.partner if other_role == "p" else spec.owner
            mentioned = f"<@{user_id(colleague + 1)}>" in (copy["final"] or "")  # type: ignore[operator]
            if other["bot"] and other["state"] == "live" and not mentioned:
                missing_colleague.append(key)
            elif not other["bot"] and mentioned:
                stale_colleague.append(key)
        if (copy["state"] != "live") != (copy["says"] in ("cancelled", "declined")):
            wrong_state.append(key)
    bots = recall.bots()
    keys = Counter(b["deduplication_key"] for b in bots)
    return {
        "copies": copies,
        "dms_total": len(every),
        "dms_about_no_meeting": sum(1 for m in every if (m.channel, m.ts) not in matched),
        "dms_about_several_meetings": sum(1 for n in matched.values() if n > 1),
        "bots_under_a_stale_key": sorted(stale_key),
        "messages_wrong_about_own_bot": sorted(wrong_bot),
        "messages_missing_colleagues_bot": sorted(missing_colleague),
        "messages_naming_a_colleague_without_bot": sorted(stale_colleague),
        "messages_wrong_about_cancelled_or_declined": sorted(wrong_state),
        "bots_total": len(bots),
        "bot_keys_shared_by_several_bots": sum(1 for n in keys.values() if n > 1),
        "bots_serving_no_copy_of_ours": sum(1 for b in bots if not set(b["event_ids"]) & set(names)),
    }


def _copy_keys(copies: dict[str, Any]) -> list[tuple[tuple[int, str], str]]:
    return [((int(key[1:5]), key[5:]), key) for key in copies]


async def meeting_rows(url: str) -> dict[str, dict[str, Any]]:
    db = Database.from_url(url)
    try:
        async with db.transaction() as session:
            found = await session.scalars(select(Meeting))
            return {
                m.recall_event_id: {
                    "status": str(getattr(m.status, "value", m.status)),
                    "posted": m.message_ts is not None,
                    "deleted": m.is_deleted,
                    "response": m.self_response,
                }
                for m in found
            }
    finally:
        await db.dispose()


async def database_summary(url: str) -> dict[str, dict[str, int]]:
    db = Database.from_url(url)
    out: dict[str, dict[str, int]] = {}
    try:
        async with db.transaction() as session:
            for name, column in (
                ("meetings", Meeting.status),
                ("deliveries", WebhookDelivery.status),
                ("syncs", CalendarSync.status),
            ):
                rows = await session.execute(select(column, func.count()).group_by(column))
                out[name] = {str(getattr(s, "value", s)): int(n) for s, n in rows}
    finally:
        await db.dispose()
    return out


def log_events(path: Path) -> dict[str, int]:
    """WARNING / ERROR lines of the server log by event name (the word after the logger name)."""
    found: Counter[str] = Counter()
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return {}
    for line in lines:
        parts = line.split(" ", 4)
        if len(parts) == 5 and parts[2] in ("WARNING", "ERROR", "CRITICAL"):
            found[f"{parts[2]} {parts[4].split(' ', 1)[0]}"] += 1
        elif line.startswith("Traceback"):
            found["Traceback"] += 1
    return dict(found.most_common())


# ---- one run -------------------------------------------------------------------------------------------------


@dataclass
class RunConfig:
    label: str
    faults: bool
    fault_rate: float
    seed: int
    rate: float
    kill_low: float
    kill_high: float
    stall_seconds: float
    lost_replies: bool = True


async def seed_rules(url: str, members: int) -> None:
    """Each member's rule (RULES), and no daily agenda (the soak counts meeting messages, not digests)."""
    db = Database.from_url(url)
    try:
        async with db.transaction() as session:
            for m in range(members):
                await session.execute(
                    update(Member)
                    .where(Member.team_id == TEAM_ID, Member.slack_user_id == user_id(m + 1))
                    .values(rule=RULES[m % len(RULES)], agenda_minute=None)
                )
    finally:
        await db.dispose()


def one_run(
    config: RunConfig,
    *,
    script: Script,
    members: int,
    anchor: datetime,
    database_url: str | None,
    keep_log: Path | None,
) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-soak-{config.label}-"))
    database = BenchDatabase(database_url, workdir)
    log_path = workdir / "server.log"
    server: SoakServer | None = None
    killer: Killer | None = None
    created = False
    began = time.monotonic()
    try:
        with FakeSlack(published_limits=False) as slack, FakeRecall(rate_limits=False) as recall:
            slack.add_workspace(TEAM_ID, TEAM_NAME, bot_token=BOT_TOKEN)
            calendars = []
            for m in range(members):
                slack.add_user(TEAM_ID, user_id(m + 1), name=f"member{m + 1}", email=email_of(m))
                calendars.append(recall.add_calendar(oauth_email=email_of(m), status="connected")["id"])
            world = World(recall, calendars, anchor)
            for op in script.initial:
                world.apply(op)
            world.added.clear()  # DM latency counts meetings added while the server runs
            asyncio.run(database.create())
            created = True
            asyncio.run(seed_members(database.url, [(user_id(m + 1), calendars[m]) for m in range(members)]))
            asyncio.run(seed_rules(database.url, members))
            env = server_env(database_url=database.url, slack=slack, recall=recall)
            env |= {"RUN_JOBS": "true", "WORK_LEASE_SECONDS": str(LEASE_SECONDS), "SLACK_PACING": "false"}
            server = SoakServer(env=env, cwd=workdir, log_path=log_path)
            server.start()
            log(f"{config.label}: server up ({database.kind}); playing {script.webhooks} webhooks ...")
            if config.faults:
                slack.set_chaos(
                    config.fault_rate,
                    seed=config.seed * 10 + 1,
                    stall_seconds=config.stall_seconds,
                    kinds=CHAOS_KINDS + ((LOST_REPLY,) if config.lost_replies else ()),
                )
                recall.set_chaos(config.fault_rate, seed=config.seed * 10 + 2, stall_seconds=config.stall_seconds)
                killer = Killer(server, seed=config.seed * 10 + 3, low=config.kill_low, high=config.kill_high)
                killer.start()
            stats = SendStats()
            watcher = DmWatcher(slack)
            watcher.start()
            play_seconds, _ = asyncio.run(
                play(
                    script,
                    world,
                    url=f"{server.url}/recall/webhook",
                    rate=config.rate,
                    tag=config.label,
                    stats=stats,
                )
            )
            if killer is not None:
                killer.stop.set()
                killer.join(timeout=120)
                if not server.alive():
                    server.start(timeout=90)
            slack.set_chaos(0)
            recall.set_chaos(0)
            calls_under_chaos = {"slack": len(slack.calls), "recall": len(recall.calls)}
            log(
                f"{config.label}: {stats.messages} webhooks (+{stats.redeliveries} redeliveries) played in "
                f"{play_seconds:.0f}s; {killer.kills if killer else 0} kills; settling ..."
            )
            settled = settle(
                slack=slack, recall=recall, db_url=database.url, env=env, workdir=workdir, log_path=log_path
            )
            log(f"{config.label}: settled in {settled['seconds']}s (reached: {settled['reached']})")
            watcher.stop.set()
            watcher.join(timeout=10)
            rows = asyncio.run(meeting_rows(database.url))
            end = capture(slack, recall, world, script, members, first_seen=watcher.first_seen, rows=rows)
            by_event = {event_id: copy_key(serial, role) for (serial, role), event_id in world.events.items()}
            settled["unsettled_copies"] = sorted(by_event.get(e, e) for e in settled.pop("unsettled_event_ids"))
            alive = server.alive()
            server.stop()
            db_summary = asyncio.run(database_summary(database.url))
            if keep_log is not None:
                shutil.copyfile(log_path, keep_log)
            slack_calls = Counter(c.method for c in slack.calls)
            return {
                "label": config.label,
                "faults": config.faults,
                "seconds": round(time.monotonic() - began, 1),
                "play_seconds": round(play_seconds, 1),
                "send": {
                    "messages": stats.messages,
                    "redeliveries": stats.redeliveries,
                    "attempts": stats.attempts,
                    "acknowledged": stats.acknowledged,
                    "resends": stats.resends,
                    "resent_messages": stats.resent_messages,
                    "duplicates_answered": stats.duplicates_answered,
                    "redeliveries_answered_duplicate": stats.redeliveries_duplicate,
                    "gave_up": stats.gave_up,
                    "statuses": {str(k): v for k, v in sorted(stats.statuses.items())},
                },
                "kills": killer.kills if killer else 0,
                "down_seconds": round(killer.down_seconds, 1) if killer else 0.0,
                "restart_failures": killer.restart_failures if killer else [],
                "faults_injected": {"slack": dict(slack.chaos_counts), "recall": dict(recall.chaos_counts)},
                # Calls made until chaos was switched off (after the last webhook): the faults' denominator.
                "calls_while_chaos_on": calls_under_chaos if config.faults else {"slack": 0, "recall": 0},
                "slack_calls": dict(slack_calls.most_common()),
                "slack_429s_published_limits": len(slack.rate_limited),
                "recall_calls": len(recall.calls),
                "settle": settled,
                "end": end,
                "database": db_summary,
                "server_alive_at_end": alive,
                "server_log_warnings": log_events(log_path),
                "contract_violations": {"slack": len(slack.violations), "recall": len(recall.violations)},
                "contract_violation_samples": [str(v) for v in slack.violations[:3]]
                + [f"{v.kind} {v.method} {v.path}: {v.message}" for v in recall.violations[:3]],
            }
    except BaseException:
        if server is not None:
            print(server.tail(), file=sys.stderr)
        raise
    finally:
        if killer is not None:
            killer.stop.set()
            killer.join(timeout=120)
        if server is not None:
            server.stop()
        if created:
            with contextlib.suppress(Exception):
                asyncio.run(database.drop())
        shutil.rmtree(workdir, ignore_errors=True)


# ---- comparing the two runs ------------------------------------------------------------------------------------


def names(keys: Iterable[str], limit: int = 10) -> list[str]:
    return sorted(keys)[:limit]


def latency(copies: Iterable[dict[str, Any]]) -> dict[str, float | int | None]:
    """DM latency (meeting added -> its DM seen) over copies that got a DM: median, p95, max, count."""
    found = sorted(c["dm_latency"] for c in copies if c["dm_latency"] is not None)
    if not found:
        return {"count": 0, "p50": None, "p95": None, "max": None}
    pick = lambda q: found[min(len(found) - 1, int(q * len(found)))]  # noqa: E731
    return {"count": len(found), "p50": pick(0.5), "p95": pick(0.95), "max": found[-1]}


def compare(clean: dict[str, Any], faulty: dict[str, Any]) -> dict[str, Any]:
    a, b = clean["end"]["copies"], faulty["end"]["copies"]
    both = sorted(set(a) & set(b))
    with_dm = {k for k in both if a[k]["dms"] > 0}
    got_dm = {k for k in both if b[k]["dms"] > 0}
    missing = with_dm - got_dm
    lost = {k for k in missing if b[k]["state"] == "live"}
    # Cancelled or declined before the faults run got to it: the app's row says it never posted and settled the
    # meeting as cancelled / declined (its quiet rules post nothing for those).
    by_design = {
        k
        for k in missing - lost
        if (row := b[k]["row"]) is not None
        and not row["posted"]
        and row["status"] == "settled"
        and (row["deleted"] or row["response"] == "declined")
    }
    lost |= missing - lost - by_design
    extra = got_dm - with_dm
    differs = {k for k in with_dm & got_dm if a[k]["final"] != b[k]["final"]}
    bots_a = {k for k in both if a[k]["bot"]}
    bots_b = {k for k in both if b[k]["bot"]}
    wrong_key = {k for k in bots_a & bots_b if a[k]["bot"] != b[k]["bot"]}

    def bots_per_meeting(copies: dict[str, dict[str, Any]]) -> dict[str, int]:
        ids: dict[str, set[str]] = {}
        for key, copy in copies.items():
            if copy["bot_id"]:
                ids.setdefault(key[:-1], set()).add(copy["bot_id"])
        return {meeting: len(found) for meeting, found in ids.items()}

    per_a, per_b = bots_per_meeting(a), bots_per_meeting(b)
    duplicated_bots = {m for m, n in per_b.items() if n > per_a.get(m, 0) and n > 1}
    return {
        "meeting_copies": len(both),
        "dms_expected": len(with_dm),
        "dms_got": len(got_dm),
        "lost_dms": names(lost),
        "lost_dms_count": len(lost),
        "not_posted_by_design_count": len(by_design),
        "not_posted_by_design": names(by_design),
        "extra_dms": names(extra),
        "extra_dms_count": len(extra),
        "duplicated_dms_fault_free": names(k for k in both if a[k]["dms"] > 1),
        "duplicated_dms": names(k for k in both if b[k]["dms"] > 1),
        "duplicated_dms_count": sum(1 for k in both if b[k]["dms"] > 1),
        "final_message_differs": names(differs),
        "final_message_differs_count": len(differs),
        "final_message_differs_samples": [
            {"copy": k, "fault_free": a[k]["final"], "faults": b[k]["final"]} for k in names(differs, 2)
        ],
        "dm_latency_fault_free": latency(a.values()),
        "dm_latency_faults": latency(b.values()),
        "bots_expected": len(bots_a),
        "bots_got": len(bots_b),
        "bots_total": [clean["end"]["bots_total"], faulty["end"]["bots_total"]],
        "lost_bots": names(bots_a - bots_b),
        "lost_bots_count": len(bots_a - bots_b),
        "extra_bots": names(bots_b - bots_a),
        "extra_bots_count": len(bots_b - bots_a),
        "bots_with_other_key": names(wrong_key),
        "bots_with_other_key_count": len(wrong_key),
        # A meeting served by more bots than in the fault-free run (its two copies on two bots), or a key with
        # several bots at Recall.
        "duplicate_bots": names(duplicated_bots),
        "duplicate_bots_count": len(duplicated_bots) + faulty["end"]["bot_keys_shared_by_several_bots"],
    }


def print_report(r: dict[str, Any]) -> None:
    clean, faulty, cmp = r["fault_free"], r["faults"], r["comparison"]
    script = r["script"]

    def row(label: str, one: object, two: object) -> str:
        return f"  {label:<38}{one!s:>22}  {two!s:>22}"

    def sends(run: dict[str, Any]) -> str:
        s = run["send"]
        return f"{s['messages']} + {s['redeliveries']}"

    lines = [
        "",
        f"soak: {script['webhooks']} webhooks (+{script['redeliveries']} redeliveries) over {r['members']} calendars, "
        f"{script['meetings']} meetings ({script['copies']} copies), seed {r['seed']}, {r['database']}, "
        f"{r['machine']['cpus']} CPUs, {r['date']}, revision {r['revision']}",
        f"  script: {script['changes']}",
        "",
        row("", "fault-free", "faults"),
        row("webhooks sent (+ redeliveries)", sends(clean), sends(faulty)),
        row(
            "POSTs / answered 2xx",
            f"{clean['send']['attempts']} / {clean['send']['acknowledged']}",
            f"{faulty['send']['attempts']} / {faulty['send']['acknowledged']}",
        ),
        row(
            "resends (messages resent)",
            f"{clean['send']['resends']} ({clean['send']['resent_messages']})",
            f"{faulty['send']['resends']} ({faulty['send']['resent_messages']})",
        ),
        row(
            "2xx saying duplicate (of redeliveries)",
            f"{clean['send']['duplicates_answered']} ({clean['send']['redeliveries_answered_duplicate']})",
            f"{faulty['send']['duplicates_answered']} ({faulty['send']['redeliveries_answered_duplicate']})",
        ),
        row("gave up (no 2xx in 180 s)", clean["send"]["gave_up"], faulty["send"]["gave_up"]),
        row("statuses per POST (0 = no answer)", "", ""),
        f"    fault-free {clean['send']['statuses']}   faults {faulty['send']['statuses']}",
        row(
            "kills (SIGKILL) / seconds down",
            f"{clean['kills']} / {clean['down_seconds']}",
            f"{faulty['kills']} / {faulty['down_seconds']}",
        ),
        row(
            "calls while chaos was on (Slack/Recall)",
            "-",
            f"{faulty['calls_while_chaos_on']['slack']} / {faulty['calls_while_chaos_on']['recall']}",
        ),
        row(
            "faults injected, Slack",
            sum(clean["faults_injected"]["slack"].values()),
            f"{sum(faulty['faults_injected']['slack'].values())} {faulty['faults_injected']['slack']}",
        ),
        row(
            "faults injected, Recall",
            sum(clean["faults_injected"]["recall"].values()),
            f"{sum(faulty['faults_injected']['recall'].values())} {faulty['faults_injected']['recall']}",
        ),
        row(
            "Slack calls (chat.postMessage)",
            f"{sum(clean['slack_calls'].values())} ({clean['slack_calls'].get('chat.postMessage', 0)})",
            f"{sum(faulty['slack_calls'].values())} ({faulty['slack_calls'].get('chat.postMessage', 0)})",
        ),
        row("Recall calls", clean["recall_calls"], faulty["recall_calls"]),
        row(
            "catch-up after the last webhook (s)",
            f"{clean['settle']['catch_up_seconds']}{'' if clean['settle']['caught_up'] else ' (bound)'}",
            f"{faulty['settle']['catch_up_seconds']}{'' if faulty['settle']['caught_up'] else ' (bound)'}",
        ),
        row(
            "left for the repair job",
            _left(clean["settle"]["left_for_repair"]),
            _left(faulty["settle"]["left_for_repair"]),
        ),
        row(
            "settle: rounds / repaired / seconds",
            f"{clean['settle']['rounds']} / {clean['settle']['repaired']} / {clean['settle']['seconds']}",
            f"{faulty['settle']['rounds']} / {faulty['settle']['repaired']} / {faulty['settle']['seconds']}",
        ),
        row("left at the end", _left(clean["settle"]["left_at_end"]), _left(faulty["settle"]["left_at_end"])),
        f"    unsettled then: fault-free {_few(clean['settle']['unsettled_copies'])}; "
        f"faults {_few(faulty['settle']['unsettled_copies'])}",
        row(
            "time: play / whole run (s)",
            f"{clean['play_seconds']} / {clean['seconds']}",
            f"{faulty['play_seconds']} / {faulty['seconds']}",
        ),
        "",
        f"end states, {cmp['meeting_copies']} meeting copies (a shared meeting has one copy per member):",
        f"  DMs expected (fault-free) / got      {cmp['dms_expected']} / {cmp['dms_got']}",
        f"  lost DMs                             {cmp['lost_dms_count']}  {cmp['lost_dms']}",
        f"  not posted, cancelled/declined first {cmp['not_posted_by_design_count']}  (no DM by design: the app "
        "first acted on them after they were cancelled or declined; see DM latency)",
        f"  DM latency (added -> DM) p50/p95/max {_lat(cmp['dm_latency_fault_free'])}  /  "
        f"{_lat(cmp['dm_latency_faults'])}",
        f"  extra DMs                            {cmp['extra_dms_count']}  {cmp['extra_dms']}",
        f"  duplicated DMs (fault-free / faults) {len(cmp['duplicated_dms_fault_free'])} / "
        f"{cmp['duplicated_dms_count']}  {cmp['duplicated_dms']}",
        f"  final message differs                {cmp['final_message_differs_count']}  {cmp['final_message_differs']}",
        f"  DMs about no meeting (either run)    {clean['end']['dms_about_no_meeting']} / "
        f"{faulty['end']['dms_about_no_meeting']}",
        "  checked against the twins, not the other run (fault-free / faults):",
        f"    bots under a stale key             {_few(clean['end']['bots_under_a_stale_key'])} / "
        f"{_few(faulty['end']['bots_under_a_stale_key'])}",
        f"    wrong about their own bot          {_few(clean['end']['messages_wrong_about_own_bot'])} / "
        f"{_few(faulty['end']['messages_wrong_about_own_bot'])}",
        f"    colleague's bot not mentioned      {_few(clean['end']['messages_missing_colleagues_bot'])} / "
        f"{_few(faulty['end']['messages_missing_colleagues_bot'])}",
        f"    names a colleague who has no bot   {_few(clean['end']['messages_naming_a_colleague_without_bot'])} / "
        f"{_few(faulty['end']['messages_naming_a_colleague_without_bot'])}",
        f"    wrong about cancelled / declined   {_few(clean['end']['messages_wrong_about_cancelled_or_declined'])} / "
        f"{_few(faulty['end']['messages_wrong_about_cancelled_or_declined'])}",
        f"  bots expected / got (copies)         {cmp['bots_expected']} / {cmp['bots_got']};  bots at Recall "
        f"{cmp['bots_total'][0]} / {cmp['bots_total'][1]}",
        f"  lost bots                            {cmp['lost_bots_count']}  {cmp['lost_bots']}",
        f"  extra bots                           {cmp['extra_bots_count']}  {cmp['extra_bots']}",
        f"  bots under another key               {cmp['bots_with_other_key_count']}  {cmp['bots_with_other_key']}",
        f"  duplicate bots                       {cmp['duplicate_bots_count']}  {cmp['duplicate_bots']}",
        f"  contract violations (Slack/Recall)   {clean['contract_violations']} / {faulty['contract_violations']}",
        f"  database at the end                  fault-free {clean['database']}",
        f"                                       faults     {faulty['database']}",
        f"  server log warnings, fault-free      {clean['server_log_warnings']}",
        f"  server log warnings, faults          {faulty['server_log_warnings']}",
        f"total {r['seconds']} s",
    ]
    lines += [f"  violation: {v}" for v in clean["contract_violation_samples"] + faulty["contract_violation_samples"]]
    lines += [f"  restart failure: {f}" for f in faulty["restart_failures"]]
    for sample in cmp["final_message_differs_samples"]:
        lines += [
            f"  differs {sample['copy']}:",
            f"    fault-free {sample['fault_free']}",
            f"    faults     {sample['faults']}",
        ]
    print("\n".join(lines), flush=True)


def _lat(found: dict[str, Any]) -> str:
    return f"{found['p50']} / {found['p95']} / {found['max']} s"


def _few(keys: list[str], limit: int = 6) -> str:
    return f"{len(keys)} {keys[:limit]}" if keys else "0"


def _left(left: dict[str, int] | None) -> str:
    if not left:
        return "-"
    return (
        f"d{left['deliveries_pending']} s{left['syncs_due']} p{left['meetings_pending']} r{left['meetings_retrying']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliveries", type=int, default=1000, help="webhooks in the script (redeliveries extra)")
    parser.add_argument("--members", type=int, default=20, help="connected members, one calendar each")
    parser.add_argument("--seed", type=int, default=1, help="seeds the script, the chaos and the killer")
    parser.add_argument("--rate", type=float, default=8.0, help="webhooks a second")
    parser.add_argument("--fault-rate", type=float, default=0.2, help="share of Slack and Recall calls failing")
    parser.add_argument("--kill-every", type=float, nargs=2, default=(5.0, 20.0), metavar=("MIN", "MAX"))
    parser.add_argument("--stall-seconds", type=float, default=2.0, help="how long a 'timeout' fault holds a call")
    parser.add_argument(
        "--database-url",
        help="default: SQLite in a temp dir; a PostgreSQL URL names a server where a fresh bench_<hex> "
        "database is created and dropped for each run (the named database itself is only used to connect)",
    )
    parser.add_argument(
        "--no-lost-replies",
        action="store_true",
        help="Slack chaos without lost replies (a call carried out, then its connection dropped): the earlier mix",
    )
    parser.add_argument("--json", type=Path, help="also write the report as JSON here")
    parser.add_argument(
        "--server-log", type=Path, help="keep the faults run's server log here (the fault-free one at PATH.fault_free)"
    )
    args = parser.parse_args(argv)
    if args.deliveries < args.members or args.members < 2:
        parser.error("--members must be at least 2 and --deliveries at least --members")
    revision = git_revision()
    began = time.monotonic()
    script = build_script(seed=args.seed, members=args.members, deliveries=args.deliveries)
    # Both runs use the same absolute times, so their messages can be compared word for word.
    anchor = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    common = {
        "seed": args.seed,
        "rate": args.rate,
        "fault_rate": args.fault_rate,
        "stall_seconds": args.stall_seconds,
        "lost_replies": not args.no_lost_replies,
    }
    low, high = args.kill_every
    runs = {}
    for label, faults in (("fault_free", False), ("faults", True)):
        config = RunConfig(label=label, faults=faults, kill_low=low, kill_high=high, **common)
        runs[label] = one_run(
            config,
            script=script,
            members=args.members,
            anchor=anchor,
            database_url=args.database_url,
            keep_log=None
            if args.server_log is None
            else args.server_log
            if faults
            else args.server_log.with_name(args.server_log.name + ".fault_free"),
        )
    copies = sum(len(s.members()) for s in script.meetings.values())
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "revision": revision,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "database": "sqlite" if not args.database_url or args.database_url.startswith("sqlite") else "postgresql",
        "members": args.members,
        "seed": args.seed,
        "rate": args.rate,
        "fault_rate": args.fault_rate,
        "kill_every": [low, high],
        "stall_seconds": args.stall_seconds,
        "lost_replies": not args.no_lost_replies,
        "script": {
            "webhooks": script.webhooks,
            "redeliveries": script.redeliveries,
            "meetings": len(script.meetings),
            "copies": copies,
            "changes": dict(script.kinds().most_common()),
        },
        "fault_free": runs["fault_free"],
        "faults": runs["faults"],
        "comparison": compare(runs["fault_free"], runs["faults"]),
        "seconds": round(time.monotonic() - began, 1),
    }
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
