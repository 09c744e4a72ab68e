"""RecallClient against the FakeRecall twin (itself held to Recall's OpenAPI contract)."""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from recall.client import RecallClient
from recall.errors import (
    RecallAuthError,
    RecallBadRequest,
    RecallConflict,
    RecallNotFound,
    RecallRateLimited,
    RecallResponseError,
    RecallUnavailable,
)
from recall.models import Calendar
from tests.recall.conftest import RecordingSleep
from tests.twins.fake_recall import ENDED_MESSAGE, FakeRecall

EVENTS = "/api/v2/calendar-events/"
CALENDARS = "/api/v2/calendars/"
SECRET = "sEcReT-client-secret-0451"
REFRESH = "1//rEfReSh-token-9931"


def soon(hours: float = 2) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + timedelta(hours=hours)


async def make_calendar(recall: RecallClient, *, platform: str = "google_calendar", email: str = "ada@example.com"):
    return await recall.create_calendar(
        platform=platform,
        oauth_client_id="client-id",
        oauth_client_secret=SECRET,
        oauth_refresh_token=REFRESH,
        oauth_email=email,
    )


# ---- calendars ---------------------------------------------------------------------------------


async def test_calendar_lifecycle(recall: RecallClient, fake_recall: FakeRecall) -> None:
    calendar = await make_calendar(recall)
    assert calendar.status == "connecting"
    assert calendar.platform == "google_calendar"
    assert calendar.platform_email is None
    assert calendar.created_at.tzinfo is not None
    sent = fake_recall.calls[-1]
    assert sent.headers["authorization"] == f"Token {fake_recall.api_key}"
    assert sent.json["oauth_refresh_token"] == REFRESH

    fake_recall.set_calendar_status(calendar.id, "connected")
    fetched = await recall.retrieve_calendar(calendar.id)
    assert fetched.status == "connected"
    assert fetched.platform_email == "ada@example.com"
    assert [change.status for change in fetched.status_changes] == ["connecting", "connected"]

    fake_recall.set_calendar_status(calendar.id, "disconnected")
    updated = await recall.update_calendar(calendar.id, oauth_refresh_token="1//new-token")
    assert fake_recall.calls[-1].method == "PATCH"
    assert fake_recall.calls[-1].json == {"oauth_refresh_token": "1//new-token"}  # only non-None fields
    assert updated.id == calendar.id
    assert updated.status == "connecting"  # new credentials kick off a reconnection
    assert fake_recall.calendar(calendar.id)["oauth_refresh_token"] == "1//new-token"

    await recall.delete_calendar(calendar.id)
    assert not fake_recall.has_calendar(calendar.id)
    await recall.delete_calendar(calendar.id)  # 404: already deleted, returns normally
    assert fake_recall.count("DELETE", f"{CALENDARS}{calendar.id}/") == 2
    with pytest.raises(RecallNotFound) as caught:
        await recall.retrieve_calendar(calendar.id)
    assert caught.value.status == 404
    assert caught.value.message == "Not found."


# ---- calendar events ---------------------------------------------------------------------------


async def test_list_events_follows_next_across_pages(recall: RecallClient, fake_recall: FakeRecall) -> None:
    calendar = fake_recall.add_calendar()
    other = fake_recall.add_calendar(oauth_email="other@example.com")
    start = soon()
    ids = [fake_recall.add_event(calendar["id"], start_time=start + timedelta(minutes=i))["id"] for i in range(250)]
    fake_recall.add_event(other["id"], start_time=start)

    page_sizes = [len(page) async for page in recall.iter_calendar_event_pages(calendar_id=calendar["id"])]
    assert page_sizes == [100, 100, 50]
    calls = fake_recall.calls_to("GET", EVENTS)
    assert len(calls) == 3
    assert all(call.param("calendar_id") == calendar["id"] for call in calls)  # filters survive `next`
    assert calls[0].param("cursor") is None and calls[1].param("cursor")

    events = [e async for page in recall.iter_calendar_event_pages(calendar_id=calendar["id"]) for e in page]
    assert [event.id for event in events] == ids
    assert fake_recall.count("GET", EVENTS) == 6
    assert len([e async for page in recall.iter_calendar_event_pages() for e in page]) == 251


async def test_list_events_filters(recall: RecallClient, fake_recall: FakeRecall) -> None:
    calendar = fake_recall.add_calendar()
    start = soon()
    early = fake_recall.add_event(calendar["id"], start_time=start)
    late = fake_recall.add_event(calendar["id"], start_time=start + timedelta(days=2))
    gone = fake_recall.add_event(calendar["id"], start_time=start + timedelta(hours=3))
    fake_recall.delete_event(gone["id"])
    watermark = datetime.fromisoformat(fake_recall.event(gone["id"])["updated_at"])
    moved = fake_recall.update_event(early["id"], start_time=start + timedelta(hours=1))

    changed = [
        e.id
        async for page in recall.iter_calendar_event_pages(calendar_id=calendar["id"], updated_at__gte=watermark)
        for e in page
    ]
    assert changed == [early["id"], gone["id"]]
    sent = fake_recall.calls[-1].param("updated_at__gte")
    assert sent is not None and sent.endswith("Z") and "." in sent  # ISO 8601 UTC, microseconds kept
    assert fake_recall.calls[-1].param("calendar_id") == calendar["id"]

    window = [
        e.id
        async for page in recall.iter_calendar_event_pages(
            start_time__gte=start, start_time__lte=start + timedelta(days=1), is_deleted=False
        )
        for e in page
    ]
    assert window == [early["id"]]
    assert fake_recall.calls[-1].param("is_deleted") == "false"
    assert fake_recall.calls[-1].param("start_time__gte") == start.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert fake_recall.calls[-1].param("start_time__lte") == (start + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    deleted = [e async for page in recall.iter_calendar_event_pages(is_deleted=True) for e in page]
    assert [e.id for e in deleted] == [gone["id"]] and deleted[0].is_deleted
    assert fake_recall.calls[-1].param("is_deleted") == "true"

    later = [
        e async for page in recall.iter_calendar_event_pages(start_time__gte=start + timedelta(days=1)) for e in page
    ]
    assert [e.id for e in later] == [late["id"]]
    assert later[0].start_time == start + timedelta(days=2)
    assert moved["start_time"] != early["start_time"]


@pytest.mark.parametrize("name", ["updated_at__gte", "start_time__gte", "start_time__lte"])
async def test_naive_datetime_is_refused_before_any_call(
    recall: RecallClient, fake_recall: FakeRecall, name: str
) -> None:
    with pytest.raises(ValueError, match="naive"):
        async for _ in recall.iter_calendar_event_pages(**{name: datetime(2024, 5, 1, 10, 0)}):
            pass
    assert fake_recall.calls == []


# ---- scheduling ----------------------------------------------------------------------------------


async def test_schedule_and_unschedule_share_one_bot_across_calendars(
    recall: RecallClient, fake_recall: FakeRecall
) -> None:
    ada = fake_recall.add_calendar(oauth_email="ada@example.com")
    bob = fake_recall.add_calendar(platform="microsoft_outlook", oauth_email="bob@example.com")
    start = soon()
    url = "https://us02web.zoom.us/j/8812345678?pwd=abc"
    on_ada = fake_recall.add_event(ada["id"], start_time=start, meeting_url=url)
    on_bob = fake_recall.add_event(bob["id"], start_time=start, meeting_url=url, organizer_email="ada@example.com")
    key = f"{start.strftime('%Y-%m-%dT%H:%M:%SZ')}-{url}"
    config = {"bot_name": "Recall Notetaker", "join_at": (start - timedelta(minutes=2)).isoformat()}

    first = await recall.schedule_bot(on_ada["id"], deduplication_key=key, bot_config=config)
    second = await recall.schedule_bot(on_bob["id"], deduplication_key=key, bot_config=config)
    assert len(first.bots) == 1 and len(second.bots) == 1
    assert first.bots[0].bot_id == second.bots[0].bot_id
    assert first.bots[0].deduplication_key == key
    assert first.bots[0].meeting_url == url
    assert first.bots[0].start_time == start - timedelta(minutes=2)
    assert [bot["event_ids"] for bot in fake_recall.bots()] == [sorted([on_ada["id"], on_bob["id"]])]
    assert fake_recall.calls[-1].json == {"deduplication_key": key, "bot_config": config}

    after_ada = await recall.unschedule_bot(on_ada["id"])
    assert after_ada.bots == []
    assert fake_recall.bot_for_event(on_bob["id"]) is not None  # still shared by Bob's event
    bobs = [e async for page in recall.iter_calendar_event_pages(calendar_id=bob["id"]) for e in page]
    assert [e.id for e in bobs] == [on_bob["id"]]
    assert [bot.bot_id for bot in bobs[0].bots] == [first.bots[0].bot_id]

    await recall.unschedule_bot(on_bob["id"])
    await recall.unschedule_bot(on_bob["id"])  # idempotent
    assert fake_recall.bots() == []


async def test_schedule_on_ended_event_is_a_typed_bad_request(
    recall: RecallClient, fake_recall: FakeRecall, sleeper: RecordingSleep
) -> None:
    calendar = fake_recall.add_calendar()
    event = fake_recall.add_event(calendar["id"], start_time=soon(-2), end_time=soon(-1))

    with pytest.raises(RecallBadRequest) as caught:
        await recall.schedule_bot(event["id"], deduplication_key="k", bot_config={})
    error = caught.value
    assert error.status == 400
    assert error.code == "invalid_request_data"
    assert error.message.startswith("Unable to process request because invalid data was submitted.")
    assert error.errors == {"non_field_errors": [ENDED_MESSAGE]}
    assert error.non_field_errors == [ENDED_MESSAGE]
    assert fake_recall.count("POST", f"{EVENTS}{event['id']}/bot/") == 1  # not retried
    assert sleeper.delays == []


# ---- retries -----------------------------------------------------------------------------------


async def test_429_honours_retry_after(recall: RecallClient, fake_recall: FakeRecall, sleeper: RecordingSleep) -> None:
    calendar = fake_recall.add_calendar()
    fake_recall.add_event(calendar["id"], start_time=soon())
    fake_recall.fail_next("GET", EVENTS, 429, times=2, headers={"Retry-After": "7"})

    events = [e async for page in recall.iter_calendar_event_pages(calendar_id=calendar["id"]) for e in page]
    assert len(events) == 1
    assert sleeper.delays == [7.0, 7.0]
    assert fake_recall.count("GET", EVENTS) == 3


async def test_retry_after_gets_bounded_jitter(fake_recall: FakeRecall) -> None:
    sleeper = RecordingSleep()
    fake_recall.fail_next("GET", EVENTS, 429, times=3, headers={"Retry-After": "2"})
    async with RecallClient(api_key=fake_recall.api_key, base_url=fake_recall.base_url, sleep=sleeper) as client:
        assert [e async for page in client.iter_calendar_event_pages() for e in page] == []
    assert fake_recall.count("GET", EVENTS) == 4
    assert len(sleeper.delays) == 3
    assert all(2.0 <= delay <= 2.5 for delay in sleeper.delays)


@pytest.mark.parametrize("status", [409, 502, 503, 504, 507])
async def test_transient_statuses_retried_with_exponential_backoff(fake_recall: FakeRecall, status: int) -> None:
    sleeper = RecordingSleep()
    calendar = fake_recall.add_calendar()
    event = fake_recall.add_event(calendar["id"], start_time=soon())
    fake_recall.fail_next("POST", EVENTS, status, times=4)
    async with RecallClient(
        api_key=fake_recall.api_key,
        base_url=fake_recall.base_url,
        sleep=sleeper,
        backoff_base=0.5,
        backoff_cap=1.5,
        jitter=lambda upper: upper,  # the top of each jitter range
    ) as client:
        scheduled = await client.schedule_bot(event["id"], deduplication_key="k", bot_config={})
    assert len(scheduled.bots) == 1
    assert sleeper.delays == [0.5, 1.0, 1.5, 1.5]  # doubling, capped
    assert fake_recall.count("POST", f"{EVENTS}{event['id']}/bot/") == 5


async def test_backoff_jitter_stays_in_the_upper_half(fake_recall: FakeRecall) -> None:
    sleeper = RecordingSleep()
    calendar = fake_recall.add_calendar()
    fake_recall.fail_next("GET", EVENTS, 503, times=4)
    async with RecallClient(api_key=fake_recall.api_key, base_url=fake_recall.base_url, sleep=sleeper) as client:
        pages = [page async for page in client.iter_calendar_event_pages(calendar_id=calendar["id"])]
    assert pages == [[]]
    calls = fake_recall.calls_to("GET", EVENTS)
    assert len(calls) == 5
    assert all(call.param("calendar_id") == calendar["id"] for call in calls)  # retries resend the filters
    assert len(sleeper.delays) == 4
    for attempt, delay in enumerate(sleeper.delays, start=1):
        ceiling = min(30.0, 0.5 * 2 ** (attempt - 1))
        assert ceiling / 2 <= delay <= ceiling


async def test_507_exhausted_raises_unavailable(
    recall: RecallClient, fake_recall: FakeRecall, sleeper: RecordingSleep
) -> None:
    calendar = fake_recall.add_calendar()
    event = fake_recall.add_event(calendar["id"], start_time=soon(0.05))
    fake_recall.fail_next("POST", EVENTS, 507, times=10)

    with pytest.raises(RecallUnavailable) as caught:
        await recall.schedule_bot(event["id"], deduplication_key="k", bot_config={})
    assert caught.value.status == 507
    assert fake_recall.count("POST", f"{EVENTS}{event['id']}/bot/") == 5
    assert len(sleeper.delays) == 4
    assert fake_recall.bots() == []


async def test_409_exhausted_raises_conflict(fake_recall: FakeRecall) -> None:
    calendar = fake_recall.add_calendar()
    event = fake_recall.add_event(calendar["id"], start_time=soon())
    fake_recall.fail_next("DELETE", EVENTS, 409, times=3, body={"code": "conflict", "message": "busy"})
    async with RecallClient(
        api_key=fake_recall.api_key, base_url=fake_recall.base_url, max_attempts=3, sleep=RecordingSleep()
    ) as client:
        with pytest.raises(RecallConflict) as caught:
            await client.unschedule_bot(event["id"])
    assert (caught.value.code, caught.value.message) == ("conflict", "busy")


async def test_429_exhausted_raises_rate_limited_with_hint(fake_recall: FakeRecall) -> None:
    fake_recall.fail_next("GET", CALENDARS, 429, times=2, headers={"Retry-After": "3"})
    async with RecallClient(
        api_key=fake_recall.api_key, base_url=fake_recall.base_url, max_attempts=2, sleep=RecordingSleep()
    ) as client:
        with pytest.raises(RecallRateLimited) as caught:
            await client.retrieve_calendar(fake_recall.add_calendar()["id"])
    assert caught.value.retry_after == 3.0
    assert caught.value.status == 429


async def test_client_rides_out_the_fakes_rate_limiter() -> None:
    with FakeRecall(rate_limits=True) as fake:
        calendar = fake.add_calendar()
        sleeper = RecordingSleep(fake)  # sleeping moves the fake's clock, as real waiting would
        # Our own pacing (50 a minute) would avoid the 429 altogether; switch it off to meet Recall's limiter.
        async with RecallClient(
            api_key=fake.api_key, base_url=fake.base_url, sleep=sleeper, list_calls_per_minute=1000
        ) as client:
            for _ in range(61):
                pages = client.iter_calendar_event_pages(calendar_id=calendar["id"])
                assert [e async for page in pages for e in page] == []
        assert fake.count("GET", EVENTS) == 62  # one 429, then the retry
        assert len(sleeper.delays) == 1 and 1 <= sleeper.delays[0] <= 61
        fake.assert_no_violations()


async def test_401_is_not_retried(fake_recall: FakeRecall, sleeper: RecordingSleep) -> None:
    async with RecallClient(api_key="wrong-key", base_url=fake_recall.base_url, sleep=sleeper) as client:
        with pytest.raises(RecallAuthError) as caught:
            await client.retrieve_calendar(fake_recall.add_calendar()["id"])
    assert caught.value.status == 401
    assert caught.value.message == "Invalid token."
    assert len(fake_recall.calls) == 1
    assert sleeper.delays == []


async def test_waf_403_html_is_an_auth_error_without_the_page(fake_recall: FakeRecall) -> None:
    fake_recall.fail_next("GET", CALENDARS, 403, body="<html><body>Request blocked by WAF</body></html>")
    async with RecallClient(api_key=fake_recall.api_key, base_url=fake_recall.base_url) as client:
        with pytest.raises(RecallAuthError) as caught:
            await client.retrieve_calendar(fake_recall.add_calendar()["id"])
    assert caught.value.status == 403
    assert "WAF" not in caught.value.message and "<html" not in str(caught.value)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_connection_errors_are_retried_then_unavailable() -> None:
    sleeper = RecordingSleep()
    async with RecallClient(
        api_key="k", base_url=f"http://127.0.0.1:{free_port()}", sleep=sleeper, max_attempts=3
    ) as client:
        with pytest.raises(RecallUnavailable) as caught:
            await client.retrieve_calendar("6f1c5a1e-0000-4000-8000-000000000000")
    assert caught.value.status is None
    assert "ConnectError" in caught.value.message
    assert len(sleeper.delays) == 2


def transport_raising(exc_type: type[httpx.TransportError], seen: list[str]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        raise exc_type("boom", request=request)

    return httpx.MockTransport(handler)


async def test_read_timeout_retried_for_idempotent_calls_only() -> None:
    seen: list[str] = []
    async with httpx.AsyncClient(transport=transport_raising(httpx.ReadTimeout, seen)) as http:
        client = RecallClient(
            api_key="k", base_url="https://us-east-1.recall.ai", http=http, sleep=RecordingSleep(), max_attempts=3
        )
        with pytest.raises(RecallUnavailable):
            await client.retrieve_calendar("6f1c5a1e-0000-4000-8000-000000000000")
        assert seen == ["GET"] * 3
        seen.clear()
        # A timed-out create may have created the calendar: retrying could make a duplicate.
        with pytest.raises(RecallUnavailable):
            await client.create_calendar(
                platform="google_calendar", oauth_client_id="c", oauth_client_secret="s", oauth_refresh_token="r"
            )
        assert seen == ["POST"]
        await client.aclose()
        assert not http.is_closed  # an injected client belongs to the caller


# ---- pagination safety -----------------------------------------------------------------------------


async def test_next_pointing_at_another_host_is_refused(recall: RecallClient, fake_recall: FakeRecall) -> None:
    fake_recall.fail_next(
        "GET",
        EVENTS,
        200,
        body={
            "next": "https://us-east-1.recall.ai/api/v2/calendar-events/?cursor=abc",
            "previous": None,
            "results": [],
        },
    )
    with pytest.raises(RecallResponseError, match="refusing pagination"):
        async for _ in recall.iter_calendar_event_pages():
            pass
    assert len(fake_recall.calls) == 1  # never followed


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example.com/api/v2/calendar-events/?cursor=a",
        "https://us-east-1.recall.ai:8443/api/v2/calendar-events/?cursor=a",
        "http://us-east-1.recall.ai:8080/api/v2/calendar-events/?cursor=a",
        "https://us-east-1.recall.ai.evil.example/api/v2/calendar-events/?cursor=a",
        "ftp://us-east-1.recall.ai/api/v2/calendar-events/?cursor=a",
    ],
)
async def test_next_origin_must_match_base_url(next_url: str) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"next": next_url, "previous": None, "results": []})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = RecallClient(api_key="k", base_url="https://us-east-1.recall.ai", http=http)
        with pytest.raises(RecallResponseError):
            async for _ in client.iter_calendar_event_pages():
                pass
    assert len(seen) == 1


async def test_next_pointing_at_the_same_page_does_not_loop() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"next": str(request.url), "previous": None, "results": []})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = RecallClient(api_key="k", base_url="https://us-east-1.recall.ai", http=http)
        with pytest.raises(RecallResponseError, match="same page"):
            async for _ in client.iter_calendar_event_pages():
                pass


async def test_http_next_on_the_same_host_is_upgraded_to_https() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if "cursor" in request.url.params:
            return httpx.Response(200, json={"next": None, "previous": None, "results": []})
        return httpx.Response(
            200, json={"next": "http://us-east-1.recall.ai/api/v2/calendar-events/?cursor=cD0x", "results": []}
        )

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = RecallClient(api_key="k", base_url="https://us-east-1.recall.ai/", http=http)
        pages = [page async for page in client.iter_calendar_event_pages(is_deleted=False)]
    assert pages == [[], []]
    assert seen == [
        "https://us-east-1.recall.ai/api/v2/calendar-events/?is_deleted=false",
        "https://us-east-1.recall.ai/api/v2/calendar-events/?cursor=cD0x",
    ]


async def test_unparseable_success_body_is_a_response_error(recall: RecallClient, fake_recall: FakeRecall) -> None:
    fake_recall.fail_next("GET", CALENDARS, 200, body="<html>maintenance</html>")
    with pytest.raises(RecallResponseError, match="not JSON"):
        await recall.retrieve_calendar(fake_recall.add_calendar()["id"])


async def test_ids_cannot_change_the_path() -> None:
    async with RecallClient(api_key="k", base_url="https://us-east-1.recall.ai") as client:
        for bad in ("", "..", "../bots", "a/b", "x?y=1", "%2e%2e"):
            with pytest.raises(ValueError, match="invalid Recall id"):
                await client.retrieve_calendar(bad)


# ---- secrets -----------------------------------------------------------------------------------


async def test_secrets_never_reach_logs_or_reprs(
    recall: RecallClient, fake_recall: FakeRecall, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included
    calendar = await make_calendar(recall)
    fetched = await recall.retrieve_calendar(calendar.id)
    patched = await recall.update_calendar(calendar.id, oauth_refresh_token=REFRESH, oauth_client_secret=SECRET)
    assert fake_recall.calendar(calendar.id)["oauth_client_secret"] == SECRET  # the fake did echo them

    # A calendar body Recall echoes but we cannot parse: the error must not quote it.
    broken = {**fake_recall.calendar(calendar.id), "created_at": "not a date"}
    fake_recall.fail_next("GET", CALENDARS, 200, body=broken)
    with pytest.raises(RecallResponseError) as caught:
        await recall.retrieve_calendar(calendar.id)
    missing = {"oauth_client_secret": SECRET, "oauth_refresh_token": REFRESH}
    fake_recall.fail_next("GET", CALENDARS, 200, body=missing)
    with pytest.raises(RecallResponseError) as caught_missing:
        await recall.retrieve_calendar(calendar.id)

    texts = [caplog.text]
    for model in (calendar, fetched, patched):
        assert isinstance(model, Calendar)
        texts += [repr(model), str(model), model.model_dump_json(), repr(model.model_dump())]
    for error in (caught.value, caught_missing.value):
        texts += [repr(error), str(error), repr(error.__cause__), repr(error.__context__)]
    assert "recall.http method=POST path=/api/v2/calendars/ status=201 attempt=1" in caplog.text
    assert fake_recall.api_key not in caplog.text
    assert fake_recall.api_key not in repr(recall)
    for text in texts:
        assert SECRET not in text
        assert REFRESH not in text
