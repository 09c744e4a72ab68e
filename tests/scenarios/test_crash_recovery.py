"""Nothing acknowledged is lost: kill the server after its 2xx, restart it, the DM appears once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from storage.crypto import TokenCipher
from storage.db import Database
from storage.deliveries import store_delivery
from storage.models import CalendarConnection, Member, utcnow
from tests.conftest import BOT_TOKEN, TEAM_ID, TEAM_NAME
from tests.scenarios.harness import SIGNING_SECRET, WEBHOOK_SECRET
from tests.twins.fake_recall import FakeRecall, sign_webhook
from tests.twins.fake_slack import FakeSlack

ADA = "U0ADA00001"
SECRET_KEY = "crash-test-secret"
LEASE_SECONDS = 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`python -m slackbot serve` as a real process, so it can be killed."""

    def __init__(self, *, env: dict[str, str], cwd: Path, log: Path) -> None:
        self.env, self.cwd, self.log = env, cwd, log
        self.url = f"http://127.0.0.1:{env['PORT']}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "slackbot", "serve"], env=self.env, cwd=self.cwd, stdout=log, stderr=log
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"server did not start: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


@pytest.fixture
def world(
    database_url: str, fake_slack: FakeSlack, fake_recall: FakeRecall, tmp_path: Path
) -> Iterator[tuple[Server, FakeRecall, FakeSlack, str, str]]:
    fake_slack.add_workspace(TEAM_ID, TEAM_NAME, bot_token=BOT_TOKEN)
    fake_slack.add_user(TEAM_ID, ADA, name="ada")
    calendar = fake_recall.add_calendar(oauth_email="ada@acme.test")

    async def seed() -> None:
        db = Database.from_url(database_url)
        async with db.transaction() as session:
            member = Member(team_id=TEAM_ID, slack_user_id=ADA)
            session.add(member)
            await session.flush()
            session.add(
                CalendarConnection(
                    member_id=member.id,
                    provider="google",
                    email="ada@acme.test",
                    recall_calendar_id=calendar["id"],
                    status="connected",
                    refresh_token_encrypted=TokenCipher([SECRET_KEY]).encrypt("refresh"),
                )
            )
        await db.dispose()

    asyncio.run(seed())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "RECALL_", "GOOGLE_", "MICROSOFT_"))}
    env |= {
        "DATABASE_URL": database_url,
        "PORT": str(_free_port()),
        "HOST": "127.0.0.1",
        "PUBLIC_URL": "http://127.0.0.1",
        "SECRET_KEY": SECRET_KEY,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": fake_slack.base_url,
        "RECALL_API_KEY": fake_recall.api_key,
        "RECALL_API_URL": fake_recall.base_url,
        "RECALL_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "WORK_LEASE_SECONDS": str(LEASE_SECONDS),
        "RUN_JOBS": "false",
    }
    server = Server(env=env, cwd=tmp_path, log=tmp_path / "server.log")
    try:
        yield server, fake_recall, fake_slack, calendar["id"], database_url
    finally:
        fake_recall.release_holds()
        fake_slack.release_holds()
        server.stop()


def _meeting_dms(slack: FakeSlack, title: str) -> list[str]:
    return [m.ts for m in slack.messages(slack.dm_channel(TEAM_ID, ADA)) if title in m.text]


def _wait_for(predicate: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_killed_after_2xx_while_processing_then_restarted(world: tuple) -> None:
    server, recall, slack, calendar_id, _ = world
    recall.add_event(calendar_id, start_time=_in_hours(5), title="Board meeting")
    server.start()
    hold = recall.hold("GET", "/api/v2/calendar-events/")

    body, headers = sign_webhook(recall.sync_events_payload(calendar_id), secret=WEBHOOK_SECRET)
    response = httpx.post(f"{server.url}/recall/webhook", content=body, headers=headers, timeout=10)
    assert response.status_code == 200
    assert hold.entered.wait(10), "the server never started listing events"
    server.kill()
    assert _meeting_dms(slack, "Board meeting") == []

    recall.release_holds()
    server.start()
    _wait_for(lambda: _meeting_dms(slack, "Board meeting"), timeout=LEASE_SECONDS * 10)
    time.sleep(LEASE_SECONDS * 2)  # any leftover lease has run out and been rescanned by now
    assert len(_meeting_dms(slack, "Board meeting")) == 1
    lists = recall.count("GET", "/api/v2/calendar-events/")
    assert lists == 2, lists  # the interrupted listing, then exactly one more


def test_stored_but_unprocessed_delivery_is_processed_on_start(world: tuple) -> None:
    server, recall, slack, calendar_id, database_url = world
    recall.add_event(calendar_id, start_time=_in_hours(6), title="Offsite")

    async def store() -> None:
        # What a process leaves behind when it dies right after answering 2xx.
        db = Database.from_url(database_url)
        async with db.transaction() as session:
            payload = recall.sync_events_payload(calendar_id)
            await store_delivery(
                session,
                message_id="msg_left_behind",
                event_type=payload["event"],
                payload=json.dumps(payload),
                now=utcnow(),
            )
        await db.dispose()

    asyncio.run(store())
    server.start()
    _wait_for(lambda: _meeting_dms(slack, "Offsite"))
    # The same message redelivered by Svix later is answered 200 and changes nothing.
    body, headers = sign_webhook(
        recall.sync_events_payload(calendar_id), secret=WEBHOOK_SECRET, msg_id="msg_left_behind"
    )
    response = httpx.post(f"{server.url}/recall/webhook", content=body, headers=headers, timeout=10)
    assert response.status_code == 200 and response.json().get("duplicate") is True
    time.sleep(0.5)
    assert len(_meeting_dms(slack, "Offsite")) == 1


def test_killed_after_slack_took_the_first_dm_then_restarted(world: tuple) -> None:
    """The soak's one gap, on purpose: SIGKILL after Slack has posted a meeting's first DM and before the server
    heard back and recorded it. The restarted server finds that DM and keeps it; the member gets one message."""
    server, recall, slack, calendar_id, _ = world
    recall.add_event(calendar_id, start_time=_in_hours(7), title="Quarterly review")
    server.start()
    hold = slack.hold_reply("chat.postMessage")

    body, headers = sign_webhook(recall.sync_events_payload(calendar_id), secret=WEBHOOK_SECRET)
    assert httpx.post(f"{server.url}/recall/webhook", content=body, headers=headers, timeout=10).status_code == 200
    assert hold.entered.wait(20), "the server never posted the meeting's DM"
    server.kill()
    slack.release_holds()
    (posted,) = _meeting_dms(slack, "Quarterly review")  # Slack has it; the server never heard back

    slack.reset_calls()
    server.start()  # its start-up repair pass finds the meeting pending once the dead server's lease runs out
    _wait_for(
        lambda: slack.calls_to("conversations.history") or slack.calls_to("chat.postMessage"),
        timeout=LEASE_SECONDS * 15,
    )
    time.sleep(LEASE_SECONDS * 2)
    assert _meeting_dms(slack, "Quarterly review") == [posted]
    assert slack.calls_to("chat.postMessage") == []


def _in_hours(hours: float):
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC) + timedelta(hours=hours)).replace(microsecond=0)
