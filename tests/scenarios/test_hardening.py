"""Hostile and careless input (issue #9): link previewers, headers on our pages, malformed webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from storage.db import create_engine
from storage.models import CalendarSync, WebhookDelivery
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
