"""Hostile and careless input (issue #9): link previewers, headers on our pages, malformed webhooks."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import socket
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlsplit

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from storage.db import create_engine
from storage.lifecycle import ReconcileStatus
from storage.migrate import head_revision
from storage.models import CalendarSync, Meeting, WebhookDelivery
from tests.scenarios.harness import SIGNING_SECRET, WEBHOOK_SECRET, Harness
from tests.scenarios.test_meetings import ADA, connect, soon
from tests.twins.fake_recall import sign_webhook
from tests.twins.fake_slack import sign_slack_request

FORM = "application/x-www-form-urlencoded"

SECURITY = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


def assert_secure(headers: object) -> None:
    for name, value in SECURITY.items():
        assert headers[name] == value, name  # type: ignore[index]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]  # type: ignore[index]


def test_a_head_request_does_not_use_the_link_up(h: Harness) -> None:
    response, _ = h.slash("connect google", user_id=ADA)
    assert response.status_code == 200
    link = urlsplit(h.latest_link(ADA, "google"))
    preview = h.client.head(f"{link.path}?{link.query}", follow_redirects=False)
    assert preview.status_code == 200 and preview.content == b""
    assert_secure(preview.headers)
    started = h.open_link(h.latest_link(ADA, "google"))
    assert started.status_code == 302  # the member's own GET still works
    assert_secure(started.headers)
    again = h.open_link(h.latest_link(ADA, "google"))
    assert again.status_code == 409  # and then it is used up
    assert_secure(again.headers)
    assert "<title>" in again.text


def test_success_and_failure_pages_carry_the_security_headers(h: Harness) -> None:
    ok = h.connect(user_id=ADA, provider="google", email="ada@acme.test")
    assert ok.status_code == 200
    assert_secure(ok.headers)
    bad = h.client.get("/calendar/connect/google?state=nope", follow_redirects=False)
    assert bad.status_code == 400
    assert_secure(bad.headers)


def post_webhook(h: Harness, body: bytes, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    return h.client.post("/recall/webhook", content=body, headers=headers | {"Content-Type": "application/json"})


def stored(h: Harness) -> int:
    return len(h.rows(WebhookDelivery))


@pytest.mark.parametrize(
    "msg_id",
    ["msg_" + "x" * 200, "msg_with\tcontrol", "msg_ünïcode"],
    ids=["too-long", "control-character", "not-ascii"],
)
def test_signed_webhooks_with_unusable_message_ids_are_refused(h: Harness, msg_id: str) -> None:
    payload = {"event": "calendar.update", "data": {"calendar_id": "cal"}}
    body, headers = sign_webhook(payload, secret=WEBHOOK_SECRET, msg_id=msg_id)
    raw_headers = [(k.encode(), v.encode("utf-8")) for k, v in headers.items()]
    response = h.client.post(
        "/recall/webhook", content=body, headers=[*raw_headers, (b"content-type", b"application/json")]
    )
    assert response.status_code in (400, 401), response.text
    assert stored(h) == 0


def test_a_message_id_of_exactly_128_characters_is_stored_and_129_refused(h: Harness) -> None:
    payload = {"event": "calendar.update", "data": {"calendar_id": "cal"}}
    longest = "msg_" + "x" * 124
    body, headers = sign_webhook(payload, secret=WEBHOOK_SECRET, msg_id=longest)
    assert post_webhook(h, body, headers).json() == {"ok": True}
    body, headers = sign_webhook(payload, secret=WEBHOOK_SECRET, msg_id=longest + "x")
    refused = post_webhook(h, body, headers)
    assert (refused.status_code, refused.json()) == (400, {"ok": False, "error": "invalid_message_id"})
    h.wait_idle()
    assert stored(h) == 1


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"calendar_id": 123}, "data.calendar_id must be a string"),
        ({"calendar_id": ""}, "data.calendar_id must be a string"),
        ({"calendar_id": None}, "data.calendar_id must be a string"),
        ({"calendar_id": "cal", "last_updated_ts": "yesterday"}, "data.last_updated_ts must be an ISO 8601 timestamp"),
        ({"calendar_id": "cal", "last_updated_ts": 5}, "data.last_updated_ts must be an ISO 8601 timestamp"),
    ],
    ids=["calendar-not-a-string", "calendar-empty", "calendar-null", "ts-not-a-date", "ts-a-number"],
)
def test_a_handled_event_of_the_wrong_shape_is_a_400_that_says_what_is_wrong(
    h: Harness, data: dict, problem: str
) -> None:
    body, headers = sign_webhook({"event": "calendar.sync_events", "data": data}, secret=WEBHOOK_SECRET)
    response = post_webhook(h, body, headers)
    assert (response.status_code, response.json()) == (400, {"ok": False, "error": f"invalid_payload: {problem}"})
    assert stored(h) == 0


def test_a_bot_event_of_the_wrong_shape_is_a_400_that_names_the_field(h: Harness) -> None:
    payload = {"event": "bot.joining_call", "data": {"bot": "not-an-object", "data": {}}}
    body, headers = sign_webhook(payload, secret=WEBHOOK_SECRET)
    response = post_webhook(h, body, headers)
    assert (response.status_code, response.json()) == (
        400,
        {"ok": False, "error": "invalid_payload: bot.joining_call: data.bot is not an object"},
    )
    assert stored(h) == 0


def test_json_nested_100000_deep_is_a_400(h: Harness) -> None:
    body = b'{"event": "calendar.update", "data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    _, headers = sign_webhook(None, secret=WEBHOOK_SECRET, body=body)
    response = post_webhook(h, body, headers)
    assert response.status_code == 400
    assert "nested too deeply" in response.text
    assert stored(h) == 0


def test_a_last_updated_ts_in_the_future_never_moves_the_cursor_past_now(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    h.sync(cal)
    future = datetime.now(UTC) + timedelta(days=365)
    h.webhook(h.recall.sync_events_payload(cal, last_updated_ts=future))
    (sync,) = h.rows(CalendarSync, CalendarSync.recall_calendar_id == cal)
    assert sync.cursor is not None and sync.cursor <= datetime.now(UTC)
    # ... so a change made now is still listed by the next webhook.
    event = h.recall.add_event(cal, start_time=soon(30), title="After the future")
    h.sync(cal)
    assert any(event["id"] in str(m.blocks) for m in h.dms(ADA))


# ---- /slack/events before Bolt -------------------------------------------------------------------------------------


def slack_post(h: Harness, body: bytes, content_type: str, *, sign: bool = True, timestamp: str | None = None):  # type: ignore[no-untyped-def]
    headers = sign_slack_request(SIGNING_SECRET, body) if sign else {}
    if timestamp is not None:
        headers["X-Slack-Request-Timestamp"] = timestamp
    return h.client.post("/slack/events", content=body, headers=headers | {"Content-Type": content_type})


def test_forged_and_malformed_slack_requests_get_4xx_and_stay_out_of_the_logs(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    secret_marker = "THIS-BODY-MUST-NOT-BE-LOGGED"
    forged = f"command=/recall&text=status&user_id=U1&team_id=T1&x={secret_marker}".encode()
    with caplog.at_level(logging.DEBUG):
        assert slack_post(h, forged, FORM, sign=False).status_code == 401
        signed = slack_post(h, forged, FORM)
        assert slack_post(h, forged, FORM, timestamp="abc").status_code == 401
        huge = b"command=/recall&text=" + secret_marker.encode() * 200_000  # ~5 MB
        assert slack_post(h, huge, FORM, sign=False).status_code == 413
        not_utf8 = b"payload=" + b"\xff\xfe" * 10
        stamp = str(int(time.time()))
        digest = hmac.new(SIGNING_SECRET.encode(), b"v0:" + stamp.encode() + b":" + not_utf8, hashlib.sha256)
        headers = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=" + digest.hexdigest()}
        refused = h.client.post("/slack/events", content=not_utf8, headers=headers | {"Content-Type": FORM})
        assert refused.status_code in (400, 401)  # not UTF-8: never Slack's
        assert slack_post(h, b"payload=not-json", FORM).status_code == 400
        assert slack_post(h, b"payload=" + quote(json.dumps([1, 2])).encode(), FORM).status_code == 400
        assert slack_post(h, b"command=/recall&text=status&team_id=T0ACME0001", FORM).status_code == 400  # no user
        assert slack_post(h, b"[1, 2]", "application/json").status_code == 400
        assert slack_post(h, b"{not json", "application/json").status_code == 400
    assert signed.status_code == 200  # the signed one is answered (its team is unknown to Bolt's authorize)
    assert all(secret_marker not in record.getMessage() for record in caplog.records)


def test_while_the_database_is_down_members_are_asked_to_try_again(h: Harness) -> None:
    response, _ = h.slash("connect google", user_id=ADA)
    link = urlsplit(h.latest_link(ADA, "google"))
    broken = create_engine("postgresql://postgres@127.0.0.1:1/nowhere", connect_args={"timeout": 2})
    h.services.db.sessions = async_sessionmaker(broken, expire_on_commit=False)
    response, name = h.slash("status", user_id=ADA)
    assert response.status_code == 200
    assert any("try again in a minute" in t for t in [response.text, *h.replies(name)])
    page = h.client.get(f"{link.path}?{link.query}", follow_redirects=False)
    assert page.status_code == 503 and "try again in a minute" in page.text
    assert_secure(page.headers)
    _, name = h.click(action_id="schedule_bot", value="3f1b2c4d-0000-4000-8000-00000000abcd", user_id=ADA)
    assert any("try again in a minute" in t for t in h.replies(name))


# ---- /healthz tells the truth --------------------------------------------------------------------------------------


def test_healthz_is_ok_only_when_the_database_is_fit(h: Harness, database_url: str) -> None:
    assert h.client.get("/healthz").json() == {"status": "ok", "database": "ok"}

    h.execute(text("UPDATE alembic_version SET version_num = '0004'"))
    behind = h.client.get("/healthz")
    assert (behind.status_code, behind.json()["database"]) == (503, "schema_behind")
    h.execute(text("UPDATE alembic_version SET version_num = :head").bindparams(head=head_revision()))
    assert h.client.get("/healthz").status_code == 200

    if database_url.startswith("sqlite"):
        # Another writer holds the database: writes would wait.
        locker = sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=1)
        locker.execute("BEGIN IMMEDIATE")
        try:
            locked = h.client.get("/healthz")
        finally:
            locker.rollback()
            locker.close()
        assert (locked.status_code, locked.json()["database"]) == (503, "read_only")
    else:
        # Another session holds the schema table locked: the check waits, and gives up within its 2 s.
        holding, release = threading.Event(), threading.Event()

        def lock() -> None:
            async def hold() -> None:
                conn = await asyncpg.connect(database_url, timeout=10)
                try:
                    async with conn.transaction():
                        await conn.execute("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE")
                        holding.set()
                        await asyncio.get_running_loop().run_in_executor(None, release.wait, 20)
                finally:
                    await conn.close()

            asyncio.run(hold())

        locker_thread = threading.Thread(target=lock, daemon=True)
        locker_thread.start()
        try:
            assert holding.wait(10)
            locked = h.client.get("/healthz")
        finally:
            release.set()
            locker_thread.join(20)
        assert locked.status_code == 503
        assert locked.json()["database"] in ("read_only", "unreachable")


def test_healthz_answers_503_when_the_database_does_not(h: Harness) -> None:
    # A server that accepts connections and never answers.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)
    try:
        port = silent.getsockname()[1]
        h.services.db.engine = create_engine(f"postgresql://postgres@127.0.0.1:{port}/nowhere")
        response = h.client.get("/healthz")
    finally:
        silent.close()
    assert (response.status_code, response.json()["database"]) == (503, "unreachable")


def test_a_change_announced_with_an_older_last_updated_ts_is_not_lost(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    h.webhook(h.recall.sync_events_payload(cal, last_updated_ts=datetime.now(UTC)))  # listed; the cursor moves on
    event = h.recall.add_event(cal, start_time=soon(30), title="Written after the listing began")
    # Recall announces it with a lower bound older than our cursor (a distinct webhook, a new message id).
    h.webhook(h.recall.sync_events_payload(cal, last_updated_ts=datetime.now(UTC) - timedelta(minutes=10)))
    assert any(event["id"] in str(m.blocks) for m in h.dms(ADA))
    # A redelivery of that webhook (same message id) stays free.
    payload = h.recall.sync_events_payload(cal, last_updated_ts=datetime.now(UTC) - timedelta(minutes=10))
    h.webhook(payload, msg_id="msg_same")
    lists = h.recall.count("GET", "/api/v2/calendar-events/")
    h.webhook(payload, msg_id="msg_same")
    assert h.recall.count("GET", "/api/v2/calendar-events/") == lists


# ---- 429s are honoured later, never slept on while a meeting is held -----------------------------------------------


def test_a_slack_429_is_retried_after_its_retry_after_without_holding_the_meeting(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    event = h.recall.add_event(cal, start_time=soon(30), title="Rate limited")
    h.slack.fail_next("chat.postMessage", error="ratelimited", status=429, retry_after=120)
    h.sync(cal)
    (meeting,) = h.rows(Meeting, Meeting.recall_event_id == event["id"])
    assert meeting.status is ReconcileStatus.RETRYING
    assert meeting.due_at >= datetime.now(UTC) + timedelta(seconds=110)
    assert meeting.claimed_by is None  # nobody holds it while it waits
    assert h.run(h.services.meetings.repair) == 0  # not before its Retry-After
    h.clock.advance(timedelta(seconds=121))
    assert h.run(h.services.meetings.repair) == 1
    assert any(event["id"] in str(m.blocks) for m in h.dms(ADA))


def test_a_long_recall_retry_after_is_not_slept_on(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    event = h.recall.add_event(cal, start_time=soon(30), title="Recall busy")
    h.sync(cal)
    h.click(action_id="schedule_bot", value=event["id"], user_id=ADA)
    moved = soon(40)
    h.recall.update_event(event["id"], start_time=moved, end_time=moved + timedelta(minutes=30))
    h.recall.fail_next("POST", f"/api/v2/calendar-events/{event['id']}/bot/", 429, headers={"Retry-After": "240"})
    h.sync(cal)  # would take four minutes if the Retry-After were slept inside the call
    (meeting,) = h.rows(Meeting, Meeting.recall_event_id == event["id"])
    assert meeting.status is ReconcileStatus.RETRYING
    assert meeting.due_at >= datetime.now(UTC) + timedelta(seconds=230)
    assert meeting.claimed_by is None
    h.clock.advance(timedelta(seconds=241))
    assert h.run(h.services.meetings.repair) == 1
    assert moved.strftime("%Y-%m-%dT%H:%M:%SZ") in h.recall.bot_for_event(event["id"])["deduplication_key"]


def test_debug_logs_never_hold_a_live_connect_link(h: Harness, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        response, _ = h.slash("connect google", user_id=ADA)
        assert response.status_code == 200
    token = urlsplit(h.latest_link(ADA, "google")).query.removeprefix("state=")
    assert len(token) > 20
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "chat.postMessage" in logged or "calendar/connect" in logged  # slack_sdk did log the call
    assert token not in logged
