"""Chaos mode of both twins (`set_chaos`): random 5xx, 429 and dropped connections, before any state changes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from recall.client import RecallClient
from recall.errors import RecallError
from tests.twins.fake_recall import CHAOS_KINDS as RECALL_KINDS
from tests.twins.fake_recall import DROPPED, FakeRecall
from tests.twins.fake_slack import CHAOS_KINDS as SLACK_KINDS
from tests.twins.fake_slack import LOST_REPLY, FakeSlack

TEAM = "T0CHAOS001"
MEMBER = "U0CHAOS001"
TOKEN = "xoxb-chaos-token"
CALENDARS = "/api/v2/calendars/"
EVENTS = "/api/v2/calendar-events/"
CREATE_BODY = {
    "platform": "google_calendar",
    "oauth_client_id": "id",
    "oauth_client_secret": "secret",
    "oauth_refresh_token": "token",
    "oauth_email": "ada@example.com",
}


@pytest.fixture
def slack(fake_slack: FakeSlack) -> FakeSlack:
    fake_slack.add_workspace(TEAM, "Chaos", bot_token=TOKEN)
    fake_slack.add_user(TEAM, MEMBER, name="ada")
    return fake_slack


@pytest.fixture
def slack_api(slack: FakeSlack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=slack.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5) as client:
        yield client


@pytest.fixture
def recall_api(fake_recall: FakeRecall) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=fake_recall.base_url, headers={"Authorization": f"Token {fake_recall.api_key}"}, timeout=5
    ) as client:
        yield client


def post_dm(api: httpx.Client, text: str) -> httpx.Response | None:
    """chat.postMessage; None when the twin dropped the connection without a reply."""
    try:
        return api.post("chat.postMessage", json={"channel": MEMBER, "text": text})
    except httpx.RemoteProtocolError:
        return None


def slack_fault(response: httpx.Response | None) -> str:
    if response is None:
        return "timeout"
    if response.status_code == 429:
        assert response.headers["Retry-After"] == "1"
        assert response.json() == {"ok": False, "error": "ratelimited"}
        return "429"
    assert (response.status_code, response.json()) in (
        (500, {"ok": False, "error": "internal_error"}),
        (503, {"ok": False, "error": "service_unavailable"}),
    )
    return "5xx"


# ---- FakeSlack -----------------------------------------------------------------------------------


def test_slack_rate_one_faults_every_call_and_changes_nothing(slack: FakeSlack, slack_api: httpx.Client) -> None:
    slack.set_chaos(1.0, seed=7, stall_seconds=0)

    kinds = [slack_fault(post_dm(slack_api, f"hello {i}")) for i in range(30)]

    assert slack.messages() == []
    assert set(kinds) == set(SLACK_KINDS)  # 30 draws from three kinds: each one comes up
    assert dict(slack.chaos_counts) == {kind: kinds.count(kind) for kind in SLACK_KINDS}
    assert [c.fault for c in slack.calls] == kinds  # recorded as calls the app made, with the fault they got
    assert slack.violations == []  # the fault replies are valid Slack replies


def test_slack_lost_replies_are_carried_out_and_only_when_asked(slack: FakeSlack, slack_api: httpx.Client) -> None:
    slack.set_chaos(1.0, seed=3, stall_seconds=0, kinds=(LOST_REPLY,))
    for i in range(3):
        with pytest.raises(httpx.TransportError):
            slack_api.post("chat.postMessage", data={"channel": MEMBER, "text": f"hello {i}"})
    assert [m.text for m in slack.messages()] == ["hello 0", "hello 1", "hello 2"]  # Slack has them all
    assert dict(slack.chaos_counts) == {LOST_REPLY: 3}
    with pytest.raises(ValueError, match="unknown chaos kinds"):
        slack.set_chaos(0.5, kinds=("meteor",))
    slack.set_chaos(1.0, seed=7, stall_seconds=0)  # the default kinds change nothing
    slack_fault(post_dm(slack_api, "not posted"))
    assert len(slack.messages()) == 3


def test_slack_rate_zero_or_switched_off_faults_nothing(slack: FakeSlack, slack_api: httpx.Client) -> None:
    slack.set_chaos(1.0, seed=1, stall_seconds=0)
    slack_fault(post_dm(slack_api, "faulted"))
    slack.set_chaos(0)

    responses = [post_dm(slack_api, f"hello {i}") for i in range(10)]

    assert all(r is not None and r.status_code == 200 and r.json()["ok"] for r in responses)
    assert len(slack.messages()) == 10
    assert sum(slack.chaos_counts.values()) == 1  # counts are kept when chaos is switched off


def test_slack_seeded_chaos_is_reproducible() -> None:
    def draws(seed: int) -> list[tuple[int, float | None]]:
        twin = FakeSlack(published_limits=False)  # handle_api needs no server
        twin.add_workspace(TEAM, "Chaos", bot_token=TOKEN)
        twin.add_user(TEAM, MEMBER, name="ada")
        twin.set_chaos(0.3, seed=seed, stall_seconds=0.5)
        body = json.dumps({"channel": MEMBER, "text": "hi"}).encode()
        headers = {"authorization": f"Bearer {TOKEN}", "content-type": "application/json"}
        replies = [
            twin.handle_api("chat.postMessage", http_verb="POST", headers=headers, query="", body=body)
            for _ in range(200)
        ]
        assert twin.violations == []
        return [(r.status, r.drop_after) for r in replies]

    first, again, other = draws(42), draws(42), draws(43)

    assert first == again
    assert first != other
    faulted = [d for d in first if d[0] != 200]
    assert 30 <= len(faulted) <= 90  # about 30% of 200
    assert {status for status, _ in faulted} <= {0, 429, 500, 503}
    assert all(drop == 0.5 for status, drop in faulted if status == 0)


def test_slack_chaos_spares_response_urls(slack: FakeSlack) -> None:
    url = slack.response_url("click-1")
    slack.set_chaos(1.0, seed=3, stall_seconds=0)

    response = httpx.post(url, json={"text": "Scheduled"}, timeout=5)

    assert response.status_code == 200
    assert [p.text for p in slack.response_posts("click-1")] == ["Scheduled"]
    assert not slack.chaos_counts


async def test_slack_sdk_sees_each_fault_as_an_error(slack: FakeSlack) -> None:
    client = AsyncWebClient(token=TOKEN, base_url=slack.base_url, retry_handlers=[])
    slack.set_chaos(1.0, seed=11, stall_seconds=0.05)
    seen: dict[str, str] = {}
    for _ in range(30):
        try:
            await client.chat_postMessage(channel=MEMBER, text="hello")
        except SlackApiError as exc:
            seen.setdefault("429" if exc.response.status_code == 429 else "5xx", exc.response["error"])
        except Exception as exc:  # aiohttp: the server dropped the connection without a reply
            seen.setdefault("timeout", type(exc).__name__)
    assert seen.keys() == set(SLACK_KINDS)
    assert seen["429"] == "ratelimited"
    assert seen["timeout"] == "ServerDisconnectedError"
    assert slack.messages() == []


def test_set_chaos_refuses_a_rate_outside_zero_to_one(slack: FakeSlack, fake_recall: FakeRecall) -> None:
    for twin in (slack, fake_recall):
        with pytest.raises(ValueError, match="rate"):
            twin.set_chaos(1.5, seed=1)
        with pytest.raises(ValueError, match="rate"):
            twin.set_chaos(-0.1, seed=1)


# ---- FakeRecall ----------------------------------------------------------------------------------


def recall_fault(fake: FakeRecall, response: httpx.Response | None) -> str:
    if response is None:
        return "timeout"
    if response.status_code == 429:
        assert response.headers["Retry-After"] == "1"
        assert response.json() == {"detail": "Request was throttled. Expected available in 1 seconds."}
        return "429"
    expected = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
    assert response.json() == {"detail": expected[response.status_code]}
    return "5xx"


def send(api: httpx.Client, method: str, path: str, **kwargs: object) -> httpx.Response | None:
    try:
        return api.request(method, path, **kwargs)  # type: ignore[arg-type]
    except httpx.RemoteProtocolError:
        return None


def test_recall_rate_one_faults_every_call_and_changes_nothing(
    fake_recall: FakeRecall, recall_api: httpx.Client
) -> None:
    calendar = fake_recall.add_calendar()
    event = fake_recall.add_event(calendar["id"], start_time=datetime.now(UTC) + timedelta(hours=3))
    fake_recall.set_chaos(1.0, seed=5, stall_seconds=0)
    bot = {"deduplication_key": "k-1", "bot_config": {"bot_name": "Notetaker"}}

    kinds = []
    for _ in range(10):
        kinds.append(recall_fault(fake_recall, send(recall_api, "POST", CALENDARS, json=CREATE_BODY)))
        kinds.append(recall_fault(fake_recall, send(recall_api, "POST", f"{EVENTS}{event['id']}/bot/", json=bot)))
        kinds.append(recall_fault(fake_recall, send(recall_api, "GET", EVENTS)))

    assert len(fake_recall.calendars()) == 1  # only the seeded one
    assert fake_recall.bots() == []
    assert set(kinds) == set(RECALL_KINDS)
    assert dict(fake_recall.chaos_counts) == {kind: kinds.count(kind) for kind in RECALL_KINDS}
    statuses = [c.status for c in fake_recall.calls]
    assert statuses.count(DROPPED) == kinds.count("timeout")
    assert set(statuses) <= {DROPPED, 429, 500, 502, 503}
    assert fake_recall.violations == []


def test_recall_chaos_still_answers_contract_breaches_first(fake_recall: FakeRecall, recall_api: httpx.Client) -> None:
    fake_recall.set_chaos(1.0, seed=5, stall_seconds=0)
    body = {key: value for key, value in CREATE_BODY.items() if key != "platform"}

    response = send(recall_api, "POST", CALENDARS, json=body)

    assert response is not None and response.status_code == 400
    assert not fake_recall.chaos_counts
    assert [v.kind for v in fake_recall.violations] == ["request"]
    fake_recall.violations.clear()


def test_recall_rate_zero_faults_nothing(fake_recall: FakeRecall, recall_api: httpx.Client) -> None:
    fake_recall.set_chaos(0.0, seed=5)

    responses = [send(recall_api, "POST", CALENDARS, json=CREATE_BODY) for _ in range(10)]

    assert all(r is not None and r.status_code == 201 for r in responses)
    assert len(fake_recall.calendars()) == 10
    assert not fake_recall.chaos_counts


def test_recall_seeded_chaos_is_reproducible(fake_recall: FakeRecall, recall_api: httpx.Client) -> None:
    def run(seed: int) -> list[int]:
        fake_recall.reset_calls()
        fake_recall.set_chaos(0.3, seed=seed, stall_seconds=0)
        for _ in range(60):
            send(recall_api, "GET", EVENTS)
        fake_recall.set_chaos(0)
        return [c.status for c in fake_recall.calls]

    first, again, other = run(9), run(9), run(10)

    assert first == again
    assert first != other
    assert 8 <= sum(1 for s in first if s != 200) <= 32  # about 30% of 60


async def test_recall_client_retries_what_it_can_and_reports_the_rest(fake_recall: FakeRecall) -> None:
    calendar = fake_recall.add_calendar()
    fake_recall.add_event(calendar["id"], start_time=datetime.now(UTC) + timedelta(hours=3))

    async def no_sleep(_: float) -> None:
        return None

    fake_recall.set_chaos(1.0, seed=2, stall_seconds=0)
    async with RecallClient(
        api_key=fake_recall.api_key, base_url=fake_recall.base_url, sleep=no_sleep, max_attempts=3
    ) as client:
        with pytest.raises(RecallError):
            await client.retrieve_calendar(calendar["id"])
        fake_recall.set_chaos(0.3, seed=4, stall_seconds=0)
        found = [e for page in [p async for p in client.iter_calendar_event_pages()] for e in page]
    assert len(found) == 1
