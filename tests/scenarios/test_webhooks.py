"""`POST /recall/webhook`: verification, storage before the 2xx, redelivery, bad input (issue #3)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.requests import Request

from slackbot.web.webhook import MAX_MESSAGE_ID, valid_message_id, webhook_routes
from storage.db import create_engine
from storage.models import CalendarConnection, WebhookDelivery
from tests.conftest import TEAM_ID
from tests.scenarios.harness import WEBHOOK_SECRET, Harness, catalogue_payload
from tests.scenarios.test_meetings import ADA, connect, soon
from tests.twins.fake_recall import make_webhook_secret, sign_webhook


def deliveries(h: Harness) -> int:
    async def count() -> int:
        async with h.services.db.transaction() as session:
            return int(await session.scalar(select(func.count()).select_from(WebhookDelivery)) or 0)

    return h.run(count)


def post(h: Harness, body: bytes, headers: dict[str, str]):
    return h.client.post("/recall/webhook", content=body, headers=headers | {"Content-Type": "application/json"})


def test_both_header_styles_are_accepted(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    h.recall.add_event(cal, start_time=soon(5), title="Svix style")
    assert h.webhook(h.recall.sync_events_payload(cal), style="svix").status_code == 200
    h.recall.add_event(cal, start_time=soon(6), title="Webhook style")
    assert h.webhook(h.recall.sync_events_payload(cal), style="webhook").status_code == 200
    texts = [m.text for m in h.dms(ADA)]
    assert any("Svix style" in t for t in texts) and any("Webhook style" in t for t in texts)


def test_forged_stale_and_unsigned_webhooks_are_rejected(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    h.recall.add_event(cal, start_time=soon(5), title="Never shown")
    payload = h.recall.sync_events_payload(cal)
    before = len(h.dms(ADA))

    body, headers = sign_webhook(payload, secret=make_webhook_secret())
    refused = post(h, body, headers)
    assert (refused.status_code, refused.json()) == (401, {"ok": False, "error": "invalid_signature"})
    body, headers = sign_webhook(payload, secret=WEBHOOK_SECRET, timestamp=datetime.now(UTC) - timedelta(minutes=6))
    assert post(h, body, headers).status_code == 401
    body, _ = sign_webhook(payload, secret=WEBHOOK_SECRET)
    assert post(h, body, {}).status_code == 401
    body, headers = sign_webhook(payload, secret=WEBHOOK_SECRET)
    tampered = body.replace(b"calendar.sync_events", b"calendar.update")
    assert post(h, tampered, headers).status_code == 401

    h.wait_idle()
    assert deliveries(h) == 0
    assert len(h.dms(ADA)) == before


def test_a_forged_webhook_logs_the_event_the_runbook_names_and_nothing_it_carried(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    payload = {"event": "calendar.update", "data": {"calendar_id": "cal-secret-looking-id"}}
    body, headers = sign_webhook(payload, secret=make_webhook_secret())
    with caplog.at_level(logging.WARNING, logger="slackbot.web.webhook"):
        assert post(h, body, headers).status_code == 401
    rejected = [r for r in caplog.records if r.name == "slackbot.web.webhook"]
    assert [(r.levelno, r.getMessage()) for r in rejected] == [(logging.WARNING, "recall.webhook.rejected_signature")]
    assert "cal-secret-looking-id" not in caplog.text and headers["svix-signature"] not in caplog.text


def test_bad_bodies(h: Harness) -> None:
    big = {"event": "calendar.sync_events", "data": {"calendar_id": "x", "pad": "a" * (1024 * 1024)}}
    body, headers = sign_webhook(big, secret=WEBHOOK_SECRET)
    too_large = post(h, body, headers)
    assert (too_large.status_code, too_large.json()) == (413, {"ok": False, "error": "body_too_large"})

    body, headers = sign_webhook(None, secret=WEBHOOK_SECRET, body=b"not json at all")
    assert post(h, body, headers).status_code == 400
    body, headers = sign_webhook(None, secret=WEBHOOK_SECRET, body=b'["a list"]')
    assert post(h, body, headers).status_code == 400
    body, headers = sign_webhook({"event": "calendar.sync_events", "data": {"calendar_id": 7}}, secret=WEBHOOK_SECRET)
    assert post(h, body, headers).status_code == 400
    body, headers = sign_webhook(
        {"event": "calendar.sync_events", "data": {"calendar_id": "c", "last_updated_ts": "yesterday"}},
        secret=WEBHOOK_SECRET,
    )
    assert post(h, body, headers).status_code == 400
    assert deliveries(h) == 0


def test_unhandled_events_and_unknown_calendars_get_200_and_are_ignored(h: Harness) -> None:
    response = h.webhook(catalogue_payload("bot.log"))
    assert response.status_code == 200
    assert response.json() == {"ok": True, "ignored": "bot.log"}
    assert deliveries(h) == 0
    response = h.webhook(catalogue_payload("calendar.sync_events", calendar_id="cal_unknown"))
    assert response.status_code == 200
    response = h.webhook(catalogue_payload("calendar.update", calendar_id="cal_unknown"))
    assert response.status_code == 200
    assert h.recall.count("GET", "/api/v2/calendar-events/") == 0
    assert h.recall.count("GET", "/api/v2/calendars/cal_unknown/") == 0


def test_redelivered_message_id_changes_nothing(h: Harness, caplog: pytest.LogCaptureFixture) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    h.recall.add_event(cal, start_time=soon(5), title="Once")
    payload = h.recall.sync_events_payload(cal)
    assert h.webhook(payload, msg_id="msg_fixed_1").status_code == 200
    lists = h.recall.count("GET", "/api/v2/calendar-events/")
    dms = len(h.dms(ADA))
    with caplog.at_level(logging.DEBUG, logger="slackbot.web.webhook"):
        response = h.webhook(payload, msg_id="msg_fixed_1")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "duplicate": True}  # Svix stops retrying on any 2xx
    noted = [r for r in caplog.records if r.getMessage() == "recall.webhook.duplicate"]
    assert [getattr(r, "event", None) for r in noted] == ["calendar.sync_events"]
    assert h.recall.count("GET", "/api/v2/calendar-events/") == lists
    assert len(h.dms(ADA)) == dms
    assert deliveries(h) == 1


def test_database_unreachable_gives_503(h: Harness, caplog: pytest.LogCaptureFixture) -> None:
    broken = create_engine("postgresql://postgres@127.0.0.1:1/nowhere", connect_args={"timeout": 2})
    h.services.db.sessions = async_sessionmaker(broken, expire_on_commit=False)
    with caplog.at_level(logging.ERROR, logger="slackbot.web.webhook"):
        response = h.webhook(catalogue_payload("calendar.sync_events", calendar_id="cal_x"), wait=False)
    assert response.status_code == 503  # Svix retries it later
    assert response.json() == {"ok": False, "error": "storage_unavailable"}
    assert [r.getMessage() for r in caplog.records if r.name == "slackbot.web.webhook"] == [
        "recall.webhook.store_failed"
    ]


def test_an_accepted_webhook_is_noted_and_logged_at_debug_with_its_type_only(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """One DEBUG line per webhook, never INFO (a busy workspace sends thousands), naming the event type only."""
    cal = connect(h, ADA, "ada@acme.test")
    h.services.lull._arrivals.clear()
    with caplog.at_level(logging.DEBUG, logger="slackbot.web.webhook"):
        assert h.webhook(h.recall.sync_events_payload(cal)).status_code == 200
    assert len(h.services.lull._arrivals) == 1  # background work knows a webhook came (issue 9)
    intake = [r for r in caplog.records if r.name == "slackbot.web.webhook"]
    assert [(r.levelno, r.getMessage(), getattr(r, "event", None)) for r in intake] == [
        (logging.DEBUG, "recall.webhook.accepted", "calendar.sync_events")
    ]
    assert cal not in caplog.text


def test_sync_listing_never_starts_after_last_updated_ts_and_coalesces(h: Harness) -> None:
    cals: list[str] = []
    for i in range(3):
        user = f"U0MEMBER0{i}"
        h.slack.add_user(TEAM_ID, user, name=f"m{i}")
        cals.append(connect(h, user, f"m{i}@acme.test"))
        h.recall.add_event(cals[-1], start_time=soon(5 + i), title=f"Meeting {i}")
    h.recall.reset_calls()
    for cal in cals:
        h.webhook(h.recall.sync_events_payload(cal), wait=False)
    h.wait_idle()
    lists = h.recall.calls_to("GET", "/api/v2/calendar-events/")
    assert len(lists) == 1, [c.query for c in lists]
    assert all(any(f"Meeting {i}" in m.text for m in h.dms(f"U0MEMBER0{i}")) for i in range(3))

    # Next changes: the listing starts at (not after) the webhook's last_updated_ts.
    event = h.recall.add_event(cals[0], start_time=soon(9), title="Later")
    payload = h.recall.sync_events_payload(cals[0])
    h.recall.reset_calls()
    h.webhook(payload)
    call = h.recall.calls_to("GET", "/api/v2/calendar-events/")[-1]
    gte = datetime.fromisoformat(call.param("updated_at__gte").replace("Z", "+00:00"))
    assert gte <= datetime.fromisoformat(payload["data"]["last_updated_ts"])
    assert call.param("calendar_id") == cals[0]
    assert any(event["id"] in str(m.blocks) for m in h.dms("U0MEMBER00"))


def test_calendar_update_disconnect_then_reconnect(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    h.recall.set_calendar_status(cal, "disconnected")
    before = len(h.dms(ADA))
    h.webhook(catalogue_payload("calendar.update", calendar_id=cal))
    h.webhook(catalogue_payload("calendar.update", calendar_id=cal))
    new = h.dms(ADA)[before:]
    assert len(new) == 1, [m.text for m in new]
    assert "Reconnect" in new[0].text

    link = h.latest_link(ADA, "google")
    started = h.open_link(link)
    callback = h.consent("google", started.headers["location"], email="ada@acme.test")
    assert h.follow_callback(callback).status_code == 200
    assert [c["id"] for c in h.recall.calendars()] == [cal]
    assert h.recall.count("PATCH", f"/api/v2/calendars/{cal}/") == 1

    async def status() -> str:
        async with h.services.db.transaction() as session:
            row = await session.scalar(select(CalendarConnection).where(CalendarConnection.recall_calendar_id == cal))
            return f"{row.status}/{row.status_notified}"

    h.recall.set_calendar_status(cal, "connected")
    h.webhook(catalogue_payload("calendar.update", calendar_id=cal))
    assert h.run(status) == "connected/None"


def test_calendar_recovering_on_its_own_is_announced(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    h.recall.set_calendar_status(cal, "disconnected")
    h.webhook(catalogue_payload("calendar.update", calendar_id=cal))
    before = len(h.dms(ADA))
    h.recall.set_calendar_status(cal, "connected")
    h.webhook(catalogue_payload("calendar.update", calendar_id=cal))
    new = h.dms(ADA)[before:]
    assert len(new) == 1 and "reconnected" in new[0].text


def test_payload_examples_come_from_the_catalogue() -> None:
    payload = catalogue_payload("calendar.sync_events", calendar_id="abc")
    assert json.loads(json.dumps(payload))["data"]["calendar_id"] == "abc"


async def test_a_client_that_leaves_mid_body_gets_a_400_and_nothing_is_stored() -> None:
    """The sender hung up before its body was read (Svix will retry): answered, never stored."""
    (route,) = webhook_routes(db=None, secret=WEBHOOK_SECRET, processor=None)  # type: ignore[arg-type]

    async def leaves() -> dict:
        return {"type": "http.disconnect"}

    scope = {"type": "http", "method": "POST", "path": "/recall/webhook", "headers": [], "query_string": b""}
    response = await route.endpoint(Request(scope, leaves))
    assert (response.status_code, json.loads(response.body)) == (400, {"ok": False, "error": "client_disconnected"})


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("msg_2mXYZ", True),
        ("m" * MAX_MESSAGE_ID, True),
        ("m" * (MAX_MESSAGE_ID + 1), False),  # longer than the column
        (None, False),
        ("", False),
        ("msg_é", False),
        ("msg_\n1", False),
    ],
)
def test_a_message_id_is_stored_only_when_it_fits_and_prints(value: str | None, valid: bool) -> None:
    assert valid_message_id(value) is valid
