"""The FakeRecall twin itself: held to Recall's OpenAPI contract, stateful like the real API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from recall.models import CalendarEvent
from tests.twins.fake_recall import ENDED_MESSAGE, FakeRecall, meeting_platform_for

CALENDARS = "/api/v2/calendars/"
EVENTS = "/api/v2/calendar-events/"


@pytest.fixture
def api(fake_recall: FakeRecall) -> Iterator[httpx.Client]:
    """A bare HTTP client: lets tests send what RecallClient never would."""
    with httpx.Client(
        base_url=fake_recall.base_url, headers={"Authorization": f"Token {fake_recall.api_key}"}
    ) as client:
        yield client


def soon(hours: float = 2) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + timedelta(hours=hours)


CREATE_BODY = {
    "platform": "google_calendar",
    "oauth_client_id": "id",
    "oauth_client_secret": "secret",
    "oauth_refresh_token": "token",
    "oauth_email": "ada@example.com",
}


# ---- held to the contract ------------------------------------------------------------------------


def test_request_missing_a_required_field_is_rejected_and_recorded(fake_recall: FakeRecall, api: httpx.Client) -> None:
    body = {key: value for key, value in CREATE_BODY.items() if key != "platform"}
    response = api.post(CALENDARS, json=body)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request_data"
    assert response.json()["errors"] == {"platform": ["This field is required."]}
    assert "platform" in response.json()["message"]
    assert [(v.kind, v.method, v.path) for v in fake_recall.violations] == [("request", "POST", CALENDARS)]
    assert "'platform' is a required property" in fake_recall.violations[0].message
    assert fake_recall.calendars() == []  # nothing created
    with pytest.raises(AssertionError, match="Recall contract violations"):
        fake_recall.assert_no_violations()
    fake_recall.violations.clear()


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "field"),
    [
        ("POST", CALENDARS, {"json": {**CREATE_BODY, "platform": "zoom"}}, 400, "platform"),
        ("POST", CALENDARS, {"json": {**CREATE_BODY, "oauth_email": "not-an-email"}}, 400, "oauth_email"),
        ("POST", CALENDARS, {}, 400, "non_field_errors"),
        ("GET", CALENDARS, {"params": {"status": "active"}}, 400, "status"),
        ("GET", EVENTS, {"params": {"updated_at__gte": "yesterday"}}, 400, "updated_at__gte"),
        ("GET", EVENTS, {"params": {"is_deleted": "maybe"}}, 400, "is_deleted"),
        ("GET", f"{EVENTS}not-a-uuid/", {}, 400, "id"),
        ("POST", f"{EVENTS}6f1c5a1e-0000-4000-8000-000000000000/bot/", {"json": {"deduplication_key": "k"}}, 400, None),
        ("PUT", CALENDARS, {}, 405, None),
        ("GET", "/api/v1/calendar_events/", {}, 404, None),
    ],
)
def test_contract_violations_are_answered_and_recorded(
    fake_recall: FakeRecall,
    api: httpx.Client,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    response = api.request(method, path, **kwargs)
    assert response.status_code == status
    if field is not None:
        assert field in response.json()["errors"]
    assert len(fake_recall.violations) == 1
    assert fake_recall.violations[0].kind == "request"
    fake_recall.violations.clear()


def test_400_bodies_never_echo_request_values(fake_recall: FakeRecall, api: httpx.Client) -> None:
    long_secret = "S3CR3T" * 400  # over the spec's maxLength
    response = api.post(CALENDARS, json={**CREATE_BODY, "oauth_client_secret": long_secret})
    assert response.status_code == 400
    assert response.json()["errors"] == {"oauth_client_secret": ["Does not satisfy 'maxLength' in the contract."]}
    assert "S3CR3T" not in response.text
    fake_recall.violations.clear()


def test_auth(fake_recall: FakeRecall) -> None:
    base = fake_recall.base_url
    missing = httpx.get(f"{base}{CALENDARS}")
    assert missing.status_code == 401
    assert len(fake_recall.violations) == 1  # the spec requires tokenAuth
    fake_recall.violations.clear()

    wrong = httpx.get(f"{base}{CALENDARS}", headers={"Authorization": "Token nope"})
    assert (wrong.status_code, wrong.json()) == (401, {"detail": "Invalid token."})
    bare = httpx.get(f"{base}{CALENDARS}", headers={"Authorization": fake_recall.api_key})
    assert bare.status_code == 200  # newer docs: the "Token " prefix is optional
    assert fake_recall.violations == []


def test_get_with_a_body_meets_the_waf(fake_recall: FakeRecall, api: httpx.Client) -> None:
    response = api.request("GET", CALENDARS, content=b"null", headers={"Content-Type": "application/json"})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert len(fake_recall.violations) == 1
    fake_recall.violations.clear()


def test_responses_are_checked_too(fake_recall: FakeRecall, api: httpx.Client, monkeypatch) -> None:
    calendar = fake_recall.add_calendar()
    event = fake_recall.add_event(calendar["id"], start_time=soon())
    original = fake_recall._render_event

    def without_bots(record: Any) -> dict[str, Any]:
        rendered = original(record)
        del rendered["bots"]
        rendered["meeting_platform"] = "skype"
        return rendered

    monkeypatch.setattr(fake_recall, "_render_event", without_bots)
    assert api.get(f"{EVENTS}{event['id']}/").status_code == 200
    assert [v.kind for v in fake_recall.violations] == ["response"]
    assert "'bots' is a required property" in fake_recall.violations[0].message
    fake_recall.violations.clear()


def test_null_meeting_platform_and_url_pass_the_patched_contract(fake_recall: FakeRecall, api: httpx.Client) -> None:
    calendar = fake_recall.add_calendar()
    event = fake_recall.add_event(calendar["id"], start_time=soon(), meeting_url=None)
    body = api.get(f"{EVENTS}{event['id']}/").json()
    assert body["meeting_url"] is None and body["meeting_platform"] is None
    assert fake_recall.violations == []


# ---- pagination ----------------------------------------------------------------------------------


def test_pages_carry_absolute_links_and_filters(fake_recall: FakeRecall, api: httpx.Client) -> None:
    calendar = fake_recall.add_calendar()
    for i in range(205):
        fake_recall.add_event(calendar["id"], start_time=soon() + timedelta(minutes=i))

    first = api.get(EVENTS, params={"calendar_id": calendar["id"], "is_deleted": "false"}).json()
    assert len(first["results"]) == 100 and first["previous"] is None
    assert first["next"].startswith(f"{fake_recall.base_url}{EVENTS}?")
    next_url = httpx.URL(first["next"])
    assert next_url.params["calendar_id"] == calendar["id"] and next_url.params["is_deleted"] == "false"
    assert next_url.params["cursor"]

    second = httpx.get(first["next"], headers=api.headers).json()
    third = httpx.get(second["next"], headers=api.headers).json()
    assert [len(p["results"]) for p in (first, second, third)] == [100, 100, 5]
    assert third["next"] is None
    back = httpx.get(second["previous"], headers=api.headers).json()
    assert [e["id"] for e in back["results"]] == [e["id"] for e in first["results"]]
    ids = [e["id"] for page in (first, second, third) for e in page["results"]]
    assert len(set(ids)) == 205

    assert api.get(EVENTS, params={"cursor": "bm90LWEtY3Vyc29y"}).status_code == 404


def test_counts_and_calls(fake_recall: FakeRecall, api: httpx.Client) -> None:
    api.get(EVENTS, params={"is_deleted": "true"})
    api.get(EVENTS)
    api.post(CALENDARS, json=CREATE_BODY)
    assert fake_recall.count("GET", EVENTS) == 2
    assert fake_recall.count("post", CALENDARS) == 1
    assert fake_recall.calls[0].param("is_deleted") == "true"
    assert fake_recall.calls[2].json == CREATE_BODY
    assert fake_recall.calls[2].status == 201
    assert len(fake_recall.calls_to("GET", "/api/v2/")) == 2
    fake_recall.reset_calls()
    assert fake_recall.calls == []


# ---- failure injection and rate limits -------------------------------------------------------------


def test_fail_next_matches_method_prefix_and_times(fake_recall: FakeRecall, api: httpx.Client) -> None:
    fake_recall.fail_next("GET", EVENTS, 503, times=2)
    fake_recall.fail_next("*", CALENDARS, 429)
    assert api.get(CALENDARS).status_code == 429
    assert api.get(CALENDARS).status_code == 200  # times=1 by default
    first = api.get(EVENTS)
    assert (first.status_code, first.json()) == (503, {"detail": "Service Unavailable"})
    assert api.get(EVENTS).status_code == 503
    assert api.get(EVENTS).status_code == 200


def test_fail_next_429_defaults_to_a_retry_after(fake_recall: FakeRecall, api: httpx.Client) -> None:
    fake_recall.fail_next("GET", CALENDARS, 429)
    response = api.get(CALENDARS)
    assert response.headers["Retry-After"] == "1"
    assert "throttled" in response.json()["detail"]


def test_rate_limiter_models_60_list_calls_a_minute() -> None:
    with (
        FakeRecall(rate_limits=True) as fake,
        httpx.Client(base_url=fake.base_url, headers={"Authorization": f"Token {fake.api_key}"}) as api,
    ):
        assert all(api.get(EVENTS).status_code == 200 for _ in range(60))
        limited = api.get(EVENTS)
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        assert api.get(CALENDARS).status_code == 200  # separate endpoint, separate budget
        fake.advance(61)
        assert api.get(EVENTS).status_code == 200
        fake.assert_no_violations()


def test_rate_limiter_is_off_by_default(fake_recall: FakeRecall, api: httpx.Client) -> None:
    assert all(api.get(EVENTS).status_code == 200 for _ in range(70))


# ---- state like the real one ---------------------------------------------------------------------


def test_calendar_echoes_secrets_and_tracks_status(fake_recall: FakeRecall, api: httpx.Client) -> None:
    created = api.post(CALENDARS, json=CREATE_BODY).json()
    assert created["status"] == "connecting" and created["platform_email"] is None
    assert created["oauth_client_secret"] == "secret" and created["oauth_refresh_token"] == "token"
    fake_recall.set_calendar_status(created["id"], "connected")
    fetched = api.get(f"{CALENDARS}{created['id']}/").json()
    assert fetched["status"] == "connected" and fetched["platform_email"] == "ada@example.com"
    assert [c["status"] for c in fetched["status_changes"]] == ["connecting", "connected"]
    assert api.delete(f"{CALENDARS}{created['id']}/").status_code == 204
    assert api.get(f"{CALENDARS}{created['id']}/").status_code == 404


def test_auto_connect_option() -> None:
    with FakeRecall(auto_connect=True) as fake:
        response = httpx.post(
            f"{fake.base_url}{CALENDARS}", json=CREATE_BODY, headers={"Authorization": f"Token {fake.api_key}"}
        )
        assert response.json()["status"] == "connected"
        fake.assert_no_violations()


def test_dedup_keys_share_a_bot_and_delete_keeps_shared_bots(fake_recall: FakeRecall, api: httpx.Client) -> None:
    ada = fake_recall.add_calendar(oauth_email="ada@example.com")
    bob = fake_recall.add_calendar(oauth_email="bob@example.com")
    start = soon()
    url = "https://meet.google.com/abc-defg-hij"
    a = fake_recall.add_event(ada["id"], start_time=start, meeting_url=url)
    b = fake_recall.add_event(bob["id"], start_time=start, meeting_url=url)
    body = {"deduplication_key": "same", "bot_config": {"bot_name": "Notetaker"}}

    bot_a = api.post(f"{EVENTS}{a['id']}/bot/", json=body).json()["bots"][0]["bot_id"]
    bot_b = api.post(f"{EVENTS}{b['id']}/bot/", json={**body, "bot_config": {"bot_name": "Later"}}).json()
    assert bot_b["bots"][0]["bot_id"] == bot_a
    assert fake_recall.bots()[0]["bot_config"] == {"bot_name": "Later"}  # the most recent request wins

    assert api.delete(f"{EVENTS}{a['id']}/bot/").json()["bots"] == []
    assert len(fake_recall.bots()) == 1
    assert api.delete(f"{EVENTS}{a['id']}/bot/").status_code == 200  # idempotent
    assert api.delete(f"{EVENTS}{b['id']}/bot/").json()["bots"] == []
    assert fake_recall.bots() == []

    # A different key on the same event replaces its bot.
    first = api.post(f"{EVENTS}{a['id']}/bot/", json=body).json()["bots"][0]["bot_id"]
    second = api.post(f"{EVENTS}{a['id']}/bot/", json={**body, "deduplication_key": "other"}).json()
    assert second["bots"][0]["bot_id"] != first
    assert [bot["deduplication_key"] for bot in fake_recall.bots()] == ["other"]


def test_ended_event_400_matches_the_documented_body(fake_recall: FakeRecall, api: httpx.Client) -> None:
    calendar = fake_recall.add_calendar()
    event = fake_recall.add_event(calendar["id"], start_time=soon(1))
    fake_recall.advance(2 * 3600)
    response = api.post(f"{EVENTS}{event['id']}/bot/", json={"deduplication_key": "k", "bot_config": {}})
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_request_data",
        "message": (
            "Unable to process request because invalid data was submitted. Check `errors` field for more details."
        ),
        "errors": {"non_field_errors": [ENDED_MESSAGE]},
    }


def test_reschedule_keeps_the_old_bot_and_cancel_removes_it(fake_recall: FakeRecall, api: httpx.Client) -> None:
    calendar = fake_recall.add_calendar()
    start = soon()
    event = fake_recall.add_event(calendar["id"], start_time=start)
    api.post(f"{EVENTS}{event['id']}/bot/", json={"deduplication_key": "k", "bot_config": {}})

    moved = fake_recall.update_event(event["id"], start_time=start + timedelta(hours=1), meeting_url=None)
    assert moved["updated_at"] > event["updated_at"]
    assert moved["meeting_platform"] is None
    assert moved["bots"][0]["start_time"] == start.strftime("%Y-%m-%dT%H:%M:%SZ")  # Recall does not move it

    cancelled = fake_recall.delete_event(event["id"])
    assert cancelled["is_deleted"] is True and cancelled["bots"] == []
    assert cancelled["raw"]["status"] == "cancelled"
    assert fake_recall.bots() == []


def test_disconnect_and_delete_calendar_remove_bots(fake_recall: FakeRecall, api: httpx.Client) -> None:
    calendar = fake_recall.add_calendar()
    event = fake_recall.add_event(calendar["id"], start_time=soon())
    api.post(f"{EVENTS}{event['id']}/bot/", json={"deduplication_key": "k", "bot_config": {}})
    fake_recall.set_calendar_status(calendar["id"], "disconnected")
    assert fake_recall.bots() == []

    api.post(f"{EVENTS}{event['id']}/bot/", json={"deduplication_key": "k", "bot_config": {}})
    api.delete(f"{CALENDARS}{calendar['id']}/")
    assert fake_recall.bots() == []
    assert api.get(f"{EVENTS}{event['id']}/").status_code == 404


def test_updated_at_is_strictly_increasing_even_with_a_frozen_clock() -> None:
    frozen = datetime(2025, 6, 10, 18, 0, tzinfo=UTC)
    with FakeRecall(clock=lambda: frozen) as fake:
        calendar = fake.add_calendar()
        events = [fake.add_event(calendar["id"], start_time=frozen + timedelta(hours=1)) for _ in range(3)]
        stamps = [e["updated_at"] for e in events]
        assert stamps == sorted(set(stamps))
        assert fake.now() == frozen


# ---- realistic raw bodies --------------------------------------------------------------------------


def test_google_raw_reads_back_through_the_model(fake_recall: FakeRecall) -> None:
    calendar = fake_recall.add_calendar(oauth_email="ada@example.com")
    event = fake_recall.add_event(
        calendar["id"],
        start_time=soon(),
        title="Design review <!channel>",
        organizer_email="grace@example.com",
        organizer_name="Grace Hopper",
        self_response="tentative",
        attendees=["bob@example.com", {"email": "cy@partner.example", "response": "declined"}],
        recurring_series_id="7k2lq0c1v5sdu0fo1k4p1t9e8a",
    )
    raw = event["raw"]
    assert raw["kind"] == "calendar#event" and raw["summary"] == "Design review <!channel>"
    assert raw["start"]["timeZone"] == "Europe/Berlin" and raw["start"]["dateTime"].endswith(("+01:00", "+02:00"))
    assert raw["id"].startswith("7k2lq0c1v5sdu0fo1k4p1t9e8a_")
    model = CalendarEvent.model_validate(event)
    assert model.title == "Design review <!channel>"
    assert (model.organizer_email, model.organizer_name) == ("grace@example.com", "Grace Hopper")
    assert model.self_response_status == "tentative"
    assert model.is_organizer is False
    assert model.recurring_series_id == "7k2lq0c1v5sdu0fo1k4p1t9e8a"
    assert model.meeting_platform == "google_meet" and raw["hangoutLink"] == model.meeting_url


def test_outlook_raw_reads_back_through_the_model(fake_recall: FakeRecall) -> None:
    calendar = fake_recall.add_calendar(platform="microsoft_outlook", oauth_email="bob@contoso.example")
    own = CalendarEvent.model_validate(fake_recall.add_event(calendar["id"], start_time=soon(), title="1:1"))
    assert own.title == "1:1"
    assert own.is_organizer and own.self_response_status == "accepted"  # Graph says "organizer"
    assert own.raw["responseStatus"]["response"] == "organizer"
    assert own.meeting_platform == "microsoft_teams"
    assert own.raw["onlineMeeting"]["joinUrl"] == own.meeting_url
    assert own.raw["start"]["timeZone"] == "UTC" and len(own.raw["start"]["dateTime"].split(".")[1]) == 7

    invited = CalendarEvent.model_validate(
        fake_recall.add_event(
            calendar["id"],
            start_time=soon(),
            organizer_email="ext@fabrikam.example",
            self_response="needsAction",
            recurring_series_id="AAMkAGI2TG93AAA=",
            meeting_url="https://us02web.zoom.us/j/123",
        )
    )
    assert invited.raw["responseStatus"]["response"] == "notResponded"
    assert invited.self_response_status == "needsAction"
    assert invited.organizer_email == "ext@fabrikam.example" and not invited.is_organizer
    assert invited.recurring_series_id == "AAMkAGI2TG93AAA="
    assert invited.meeting_platform == "zoom" and invited.raw["onlineMeeting"] is None


@pytest.mark.parametrize(
    ("url", "platform"),
    [
        ("https://us02web.zoom.us/j/1", "zoom"),
        ("https://meet.google.com/abc-defg-hij", "google_meet"),
        ("https://teams.microsoft.com/l/meetup-join/x", "microsoft_teams"),
        ("https://acme.webex.com/meet/x", "webex"),
        ("https://example.com/zoom.us", None),
        (None, None),
    ],
)
def test_meeting_platform_inference(url: str | None, platform: str | None) -> None:
    assert meeting_platform_for(url) == platform


def test_sync_events_payload_tracks_the_newest_change(fake_recall: FakeRecall) -> None:
    calendar = fake_recall.add_calendar()
    fake_recall.add_event(calendar["id"], start_time=soon())
    newest = fake_recall.add_event(calendar["id"], start_time=soon())
    payload = fake_recall.sync_events_payload(calendar["id"])
    assert payload["event"] == "calendar.sync_events"
    stamp = datetime.fromisoformat(payload["data"]["last_updated_ts"])
    assert stamp == datetime.fromisoformat(newest["updated_at"])
    assert json.loads(json.dumps(fake_recall.calendar_update_payload("c"))) == {
        "event": "calendar.update",
        "data": {"calendar_id": "c"},
    }


def test_start_stop_are_clean_and_idempotent() -> None:
    fake = FakeRecall().start()
    url = fake.base_url
    assert fake.start() is fake
    fake.stop()
    fake.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}{CALENDARS}", timeout=2)
    with pytest.raises(RuntimeError, match="not started"):
        _ = FakeRecall().base_url
