"""FakeRecall's bot lifecycle: webhook payloads held to webhooks.json, Retrieve Bot / Remove Bot From Call held to
openapi.json, and S3-style media links that expire on the fake's clock."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.twins.contracts import recall_webhook_schemas
from tests.twins.fake_recall import (
    BOT_STATUS_CODES,
    COMPLETED_BOT_MESSAGE,
    COMPLETED_CODES,
    DEFAULT_MEDIA_URL_TTL,
    DEFAULT_SUB_CODES,
    LEAVABLE_CODES,
    LEAVE_CALL_SUB_CODE,
    MEDIA_PREFIX,
    UNSTARTED_BOT_MESSAGE,
    FakeRecall,
    google_meet_url,
    teams_url,
    zoom_url,
)

EVENTS = "/api/v2/calendar-events/"
BOTS = "/api/v1/bot/"
METADATA = {"slack_team_id": "T0BOTS0001", "slack_user_id": "U0BOTS0001", "meeting_ref": "m-42"}
RECORDING_METADATA = {"meeting_ref": "m-42"}
TRANSCRIPT_METADATA = {"kind": "live"}
BOT_CONFIG: dict[str, Any] = {
    "bot_name": "Acme Notetaker",
    "metadata": METADATA,
    "recording_config": {
        "transcript": {
            "provider": {"recallai_streaming": {"mode": "prioritize_accuracy"}},
            "metadata": TRANSCRIPT_METADATA,
        },
        "metadata": RECORDING_METADATA,
        "retention": {"type": "timed", "hours": 24},
    },
}


@pytest.fixture
def api(fake_recall: FakeRecall) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=fake_recall.base_url, headers={"Authorization": f"Token {fake_recall.api_key}"}, timeout=5
    ) as client:
        yield client


@pytest.fixture
def s3() -> Iterator[httpx.Client]:
    """What fetches a pre-signed URL: no Recall credentials."""
    with httpx.Client(timeout=5) as client:
        yield client


def schedule_bot(
    fake: FakeRecall,
    api: httpx.Client,
    *,
    bot_config: dict[str, Any] | None = None,
    meeting_url: str | None = None,
) -> str:
    """Schedule a bot the way the app does (Calendar V2) and return its id."""
    calendar = fake.add_calendar()
    extra = {} if meeting_url is None else {"meeting_url": meeting_url}
    event = fake.add_event(calendar["id"], start_time=datetime.now(UTC) + timedelta(hours=1), **extra)
    response = api.post(
        f"{EVENTS}{event['id']}/bot/",
        json={"deduplication_key": f"key-{event['id']}", "bot_config": bot_config or BOT_CONFIG},
    )
    assert response.status_code == 200, response.text
    bot = fake.bot_for_event(event["id"])
    assert bot is not None
    return str(bot["id"])


@pytest.fixture
def bot_id(fake_recall: FakeRecall, api: httpx.Client) -> str:
    return schedule_bot(fake_recall, api)


def assert_valid_webhook(payload: dict[str, Any]) -> None:
    entry = recall_webhook_schemas()[payload["event"]]
    entry.validate(payload)  # draft-07 with format checks


def media_urls(bot: dict[str, Any]) -> tuple[str | None, str | None]:
    shortcuts = bot["recordings"][-1]["media_shortcuts"]
    transcript = shortcuts["transcript"]
    return shortcuts["video_mixed"]["data"]["download_url"], transcript["data"]["download_url"] if transcript else None


# ---- webhook payloads ----------------------------------------------------------------------------


@pytest.mark.parametrize("code", BOT_STATUS_CODES)
def test_bot_status_payload_matches_webhooks_json(fake_recall: FakeRecall, bot_id: str, code: str) -> None:
    payload = fake_recall.bot_status(bot_id, code)

    assert_valid_webhook(payload)
    assert payload["event"] == f"bot.{code}"
    assert payload["data"]["bot"] == {"id": bot_id, "metadata": METADATA}
    assert payload["data"]["data"]["code"] == code
    assert payload["data"]["data"]["sub_code"] == DEFAULT_SUB_CODES.get(code)
    assert datetime.fromisoformat(payload["data"]["data"]["updated_at"]).tzinfo is not None
    change = fake_recall.bot(bot_id)["status_changes"][-1]
    assert (change["code"], change["sub_code"], change["message"]) == (code, DEFAULT_SUB_CODES.get(code), None)


@pytest.mark.parametrize(
    ("code", "sub_code"),
    [
        ("fatal", "meeting_password_incorrect"),
        ("call_ended", "bot_kicked_from_waiting_room"),
        ("recording_permission_denied", "zoom_local_recording_disabled"),
        ("in_waiting_room", None),
    ],
)
def test_bot_status_carries_the_given_sub_code(
    fake_recall: FakeRecall, bot_id: str, code: str, sub_code: str | None
) -> None:
    payload = fake_recall.bot_status(bot_id, code, sub_code)

    assert_valid_webhook(payload)
    assert payload["data"]["data"]["sub_code"] == sub_code


@pytest.mark.parametrize("code", BOT_STATUS_CODES)
def test_legacy_status_payload_matches_webhooks_json(fake_recall: FakeRecall, bot_id: str, code: str) -> None:
    payload = fake_recall.legacy_status(bot_id, code)

    assert_valid_webhook(payload)
    assert payload["event"] == "bot.status_change"
    assert payload["data"]["bot_id"] == bot_id
    assert payload["data"]["status"]["code"] == code
    assert "metadata" not in payload["data"]  # v1.10 carries none
    assert fake_recall.bot(bot_id)["status_changes"][-1]["code"] == code


def test_status_timestamps_increase(fake_recall: FakeRecall, bot_id: str) -> None:
    payloads = fake_recall.play(bot_id, "joining_call", "in_waiting_room", "in_call_recording")

    stamps = [datetime.fromisoformat(p["data"]["data"]["updated_at"]) for p in payloads]
    assert stamps == sorted(stamps) and len(set(stamps)) == 3
    assert [p["event"] for p in payloads] == ["bot.joining_call", "bot.in_waiting_room", "bot.in_call_recording"]


def test_finish_recording_payloads_match_webhooks_json(fake_recall: FakeRecall, bot_id: str) -> None:
    fake_recall.play(bot_id, "joining_call", "in_call_recording")
    recording_id = fake_recall.bot(bot_id)["recordings"][0]["id"]

    payloads = fake_recall.finish_recording(bot_id)

    assert [p["event"] for p in payloads] == ["recording.done", "transcript.done"]
    for payload in payloads:
        assert_valid_webhook(payload)
        assert payload["data"]["bot"] == {"id": bot_id, "metadata": METADATA}
        assert payload["data"]["recording"] == {"id": recording_id, "metadata": RECORDING_METADATA}
        assert payload["data"]["data"]["code"] == "done"
    transcript_id = fake_recall.bot(bot_id)["recordings"][0]["media_shortcuts"]["transcript"]["id"]
    assert payloads[1]["data"]["transcript"] == {"id": transcript_id, "metadata": TRANSCRIPT_METADATA}


def test_finish_recording_without_transcript_then_fail_transcript(fake_recall: FakeRecall, bot_id: str) -> None:
    fake_recall.play(bot_id, "joining_call", "in_call_recording")

    payloads = fake_recall.finish_recording(bot_id, transcript=False)
    assert [p["event"] for p in payloads] == ["recording.done"]
    assert fake_recall.bot(bot_id)["recordings"][0]["media_shortcuts"]["transcript"]["status"]["code"] == "processing"

    failed = fake_recall.fail_transcript(bot_id)
    assert_valid_webhook(failed)
    assert failed["event"] == "transcript.failed"
    transcript = fake_recall.bot(bot_id)["recordings"][0]["media_shortcuts"]["transcript"]
    assert transcript["status"]["code"] == "failed"
    assert transcript["data"]["download_url"] is None
    with pytest.raises(ValueError, match="unfinished transcript"):
        fake_recall.fail_transcript(bot_id)


@pytest.mark.parametrize("sub_code", [None, "recording_storage_error"])
def test_fail_recording_payload_matches_webhooks_json(
    fake_recall: FakeRecall, bot_id: str, sub_code: str | None
) -> None:
    fake_recall.play(bot_id, "joining_call", "in_call_recording")

    payload = fake_recall.fail_recording(bot_id, sub_code)

    assert_valid_webhook(payload)
    assert payload["event"] == "recording.failed"
    assert payload["data"]["data"]["sub_code"] == sub_code
    recording = fake_recall.bot(bot_id)["recordings"][0]
    assert recording["status"]["code"] == "failed"
    assert recording["media_shortcuts"]["video_mixed"]["data"]["download_url"] is None
    assert recording["media_shortcuts"]["transcript"]["status"]["code"] == "failed"


def test_expire_media_payloads_and_state(
    fake_recall: FakeRecall, bot_id: str, api: httpx.Client, s3: httpx.Client
) -> None:
    fake_recall.play(bot_id, "joining_call", "in_call_recording")
    fake_recall.finish_recording(bot_id)
    video_url, transcript_url = media_urls(api.get(f"{BOTS}{bot_id}/").json())
    assert video_url and transcript_url

    payloads = fake_recall.expire_media(bot_id)

    assert [p["event"] for p in payloads] == ["recording.deleted"]
    assert_valid_webhook(payloads[0])
    recording = api.get(f"{BOTS}{bot_id}/").json()["recordings"][0]
    assert recording["status"]["code"] == "deleted"
    shortcuts = recording["media_shortcuts"]
    assert shortcuts["video_mixed"]["status"]["code"] == "deleted"
    assert shortcuts["video_mixed"]["data"]["download_url"] is None
    assert shortcuts["transcript"]["status"]["code"] == "deleted"
    assert shortcuts["transcript"]["data"]["download_url"] is None
    # A link handed out before the deletion stops working, though it has not expired.
    gone = s3.get(video_url)
    assert gone.status_code == 403 and "<Code>AccessDenied</Code>" in gone.text
    assert fake_recall.expire_media(bot_id) == []  # nothing left to delete


def test_in_call_recording_starts_one_recording_at_a_time(fake_recall: FakeRecall, bot_id: str) -> None:
    fake_recall.play(bot_id, "joining_call", "in_call_recording", "in_call_not_recording", "in_call_recording")
    assert len(fake_recall.bot(bot_id)["recordings"]) == 1

    fake_recall.finish_recording(bot_id)
    fake_recall.bot_status(bot_id, "in_call_recording")  # stop/start makes a second recording
    recordings = fake_recall.bot(bot_id)["recordings"]
    assert [r["status"]["code"] for r in recordings] == ["done", "processing"]


def test_helpers_refuse_what_cannot_happen(fake_recall: FakeRecall, bot_id: str) -> None:
    with pytest.raises(ValueError, match="code must be one of"):
        fake_recall.bot_status(bot_id, "media_expired")
    with pytest.raises(ValueError, match="no recording in progress"):
        fake_recall.finish_recording(bot_id)
    with pytest.raises(ValueError, match="no recording in progress"):
        fake_recall.fail_recording(bot_id)
    with pytest.raises(KeyError):
        fake_recall.bot_status(str(uuid.uuid4()), "joining_call")


def test_bot_without_transcript_config_has_no_transcript_until_one_is_made(
    fake_recall: FakeRecall, api: httpx.Client
) -> None:
    bot_id = schedule_bot(fake_recall, api, bot_config={"metadata": METADATA})
    fake_recall.play(bot_id, "joining_call", "in_call_recording")
    recording = fake_recall.bot(bot_id)["recordings"][0]
    assert recording["media_shortcuts"]["transcript"] is None
    assert recording["metadata"] == {}

    payloads = fake_recall.finish_recording(bot_id)  # transcript=True: an async transcript was made

    for payload in payloads:
        assert_valid_webhook(payload)
    transcript = api.get(f"{BOTS}{bot_id}/").json()["recordings"][0]["media_shortcuts"]["transcript"]
    assert transcript["status"]["code"] == "done"
    assert transcript["data"]["download_url"]


# ---- GET /api/v1/bot/{id}/ -------------------------------------------------------------------------


def test_retrieve_bot_matches_the_contract_through_a_whole_life(
    fake_recall: FakeRecall, bot_id: str, api: httpx.Client
) -> None:
    scheduled = api.get(f"{BOTS}{bot_id}/")
    assert scheduled.status_code == 200
    body = scheduled.json()
    assert body["id"] == bot_id
    assert body["bot_name"] == "Acme Notetaker"
    assert body["metadata"] == METADATA
    assert body["join_at"] is not None
    assert body["status_changes"] == [] and body["recordings"] == []
    assert body["meeting_url"]["platform"] == "google_meet"

    fake_recall.play(bot_id, "joining_call", "in_call_recording")
    recording_now = api.get(f"{BOTS}{bot_id}/").json()
    assert recording_now["join_at"] is None  # cleared once the bot has joined
    recording = recording_now["recordings"][0]
    assert recording["status"]["code"] == "processing"
    assert recording["completed_at"] is None
    assert media_urls(recording_now) == (None, None)  # download URLs only once done

    fake_recall.finish_recording(bot_id)
    fake_recall.play(bot_id, "call_ended", "done")
    done = api.get(f"{BOTS}{bot_id}/").json()
    recording = done["recordings"][0]
    assert recording["status"]["code"] == "done"
    completed = datetime.fromisoformat(recording["completed_at"])
    assert datetime.fromisoformat(recording["expires_at"]) == completed + timedelta(hours=24)  # retention
    assert [c["code"] for c in done["status_changes"]] == ["joining_call", "in_call_recording", "call_ended", "done"]
    assert all(media_urls(done))

    assert fake_recall.violations == []


def test_each_retrieve_mints_fresh_media_urls(
    fake_recall: FakeRecall, bot_id: str, api: httpx.Client, s3: httpx.Client
) -> None:
    fake_recall.play(bot_id, "joining_call", "in_call_recording")
    fake_recall.finish_recording(bot_id)

    first = media_urls(api.get(f"{BOTS}{bot_id}/").json())
    second = media_urls(api.get(f"{BOTS}{bot_id}/").json())

    assert first[0] != second[0] and first[1] != second[1]
    for url in (*first, *second):
        assert url is not None and url.startswith(f"{fake_recall.base_url}{MEDIA_PREFIX}")
    video = s3.get(second[0])
    assert video.status_code == 200
    assert video.headers["content-type"] == "video/mp4"
    assert video.content[4:8] == b"ftyp"
    transcript = s3.get(second[1])
    assert transcript.status_code == 200
    assert transcript.headers["content-type"] == "application/json"
    assert transcript.json()[0]["words"][0]["text"]
    assert fake_recall.media_fetch_count == 2
    assert fake_recall.violations == []


@pytest.mark.parametrize(
    ("make_url", "platform"),
    [(google_meet_url, "google_meet"), (zoom_url, "zoom"), (teams_url, "microsoft_teams")],
)
def test_meeting_url_is_the_structured_object_the_contract_wants(
    fake_recall: FakeRecall, api: httpx.Client, make_url: Any, platform: str
) -> None:
    url = make_url()
    bot_id = schedule_bot(fake_recall, api, meeting_url=url)

    meeting_url = api.get(f"{BOTS}{bot_id}/").json()["meeting_url"]

    assert meeting_url["platform"] == platform
    if platform == "zoom":
        assert meeting_url["meeting_id"] in url and meeting_url["meeting_password"] in url
    if platform == "google_meet":
        assert url.endswith(meeting_url["meeting_id"])
    if platform == "microsoft_teams":
        assert meeting_url["thread_id"].endswith("@thread.v2")
        assert meeting_url["tenant_id"]
    assert fake_recall.violations == []


def test_retrieve_unknown_bot_is_404(fake_recall: FakeRecall, api: httpx.Client) -> None:
    response = api.get(f"{BOTS}{uuid.uuid4()}/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert fake_recall.violations == []


def test_retrieve_response_is_still_checked_against_the_contract(
    fake_recall: FakeRecall, bot_id: str, api: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fake's own repairs to the Bot schema leave it with teeth: a plain-string meeting_url (the write shape)
    or a missing ``recordings`` is a response violation."""
    real = fake_recall._render_bot

    def broken(bot: Any) -> dict[str, Any]:
        body = real(bot)
        body["meeting_url"] = "https://meet.google.com/abc-defg-hij"
        del body["recordings"]
        return body

    monkeypatch.setattr(fake_recall, "_render_bot", broken)
    api.get(f"{BOTS}{bot_id}/")

    assert [(v.kind, v.method) for v in fake_recall.violations] == [("response", "GET")]
    assert "recordings" in fake_recall.violations[0].message
    fake_recall.violations.clear()


def test_a_started_bot_outlives_its_deleted_event(fake_recall: FakeRecall, api: httpx.Client) -> None:
    calendar = fake_recall.add_calendar()
    event = fake_recall.add_event(calendar["id"], start_time=datetime.now(UTC) + timedelta(hours=1))
    api.post(f"{EVENTS}{event['id']}/bot/", json={"deduplication_key": "k", "bot_config": BOT_CONFIG})
    bot = fake_recall.bot_for_event(event["id"])
    assert bot is not None
    fake_recall.play(bot["id"], "joining_call")

    fake_recall.delete_event(event["id"])

    assert fake_recall.bot_for_event(event["id"]) is None
    assert api.get(f"{BOTS}{bot['id']}/").status_code == 200


# ---- media links -----------------------------------------------------------------------------------


def test_media_url_expires_after_the_ttl_on_the_fakes_clock(
    fake_recall: FakeRecall, bot_id: str, api: httpx.Client, s3: httpx.Client
) -> None:
    fake_recall.play(bot_id, "joining_call", "in_call_recording")
    fake_recall.finish_recording(bot_id)
    old_video, old_transcript = media_urls(api.get(f"{BOTS}{bot_id}/").json())
    assert old_video and old_transcript
    assert fake_recall.media_url_ttl == DEFAULT_MEDIA_URL_TTL == 6 * 3600

    fake_recall.advance(DEFAULT_MEDIA_URL_TTL + 1)

    for url in (old_video, old_transcript):
        expired = s3.get(url)
        assert expired.status_code == 403
        assert expired.headers["content-type"] == "application/xml"
        assert "<Code>AccessDenied</Code>" in expired.text
        assert "<Message>Request has expired</Message>" in expired.text
    fresh_video, _ = media_urls(api.get(f"{BOTS}{bot_id}/").json())
    assert fresh_video and s3.get(fresh_video).status_code == 200


def test_media_url_ttl_is_a_constructor_option() -> None:
    with FakeRecall(media_url_ttl=60) as fake, httpx.Client(timeout=5) as client:
        api = httpx.Client(base_url=fake.base_url, headers={"Authorization": f"Token {fake.api_key}"}, timeout=5)
        with api:
            bot_id = schedule_bot(fake, api)
            fake.play(bot_id, "joining_call", "in_call_recording")
            fake.finish_recording(bot_id)
            url, _ = media_urls(api.get(f"{BOTS}{bot_id}/").json())
        assert url
        fake.advance(59)
        assert client.get(url).status_code == 200
        fake.advance(2)
        assert client.get(url).status_code == 403
        fake.assert_no_violations()


def test_media_refuses_unknown_tokens_and_recall_credentials(
    fake_recall: FakeRecall, bot_id: str, api: httpx.Client, s3: httpx.Client
) -> None:
    unknown = s3.get(f"{fake_recall.base_url}{MEDIA_PREFIX}not-a-token")
    assert unknown.status_code == 403
    assert "<Code>AccessDenied</Code>" in unknown.text

    fake_recall.play(bot_id, "joining_call", "in_call_recording")
    fake_recall.finish_recording(bot_id)
    url, _ = media_urls(api.get(f"{BOTS}{bot_id}/").json())
    assert url
    # The Recall API client's Token header on a pre-signed URL: S3 refuses two auth mechanisms.
    with_key = api.get(url)
    assert with_key.status_code == 400
    assert "<Code>InvalidArgument</Code>" in with_key.text
    assert s3.get(url).status_code == 200
    assert fake_recall.count("GET", url.removeprefix(fake_recall.base_url)) == 2
    assert fake_recall.violations == []  # /media/ is outside the Recall contract


# ---- POST /api/v1/bot/{id}/leave_call/ -------------------------------------------------------------


@pytest.mark.parametrize("code", LEAVABLE_CODES)
def test_leave_call_ends_a_bot_in_the_call(fake_recall: FakeRecall, bot_id: str, api: httpx.Client, code: str) -> None:
    fake_recall.play(bot_id, "joining_call", code)

    response = api.post(f"{BOTS}{bot_id}/leave_call/")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == bot_id
    assert [(c["code"], c["sub_code"]) for c in body["status_changes"][-2:]] == [
        ("call_ended", LEAVE_CALL_SUB_CODE),
        ("done", None),
    ]
    queued = fake_recall.take_webhooks()
    assert [p["event"] for p in queued] == ["bot.call_ended", "bot.done"]
    for payload in queued:
        assert_valid_webhook(payload)
        assert payload["data"]["bot"] == {"id": bot_id, "metadata": METADATA}
    assert queued[0]["data"]["data"]["sub_code"] == LEAVE_CALL_SUB_CODE
    assert fake_recall.take_webhooks() == []
    assert fake_recall.violations == []


def test_leave_call_leaves_a_running_recording_to_finish_recording(
    fake_recall: FakeRecall, bot_id: str, api: httpx.Client
) -> None:
    fake_recall.play(bot_id, "joining_call", "in_call_recording")

    api.post(f"{BOTS}{bot_id}/leave_call/")

    assert fake_recall.bot(bot_id)["recordings"][0]["status"]["code"] == "processing"
    assert [p["event"] for p in fake_recall.finish_recording(bot_id)] == ["recording.done", "transcript.done"]


def test_leave_call_on_an_unstarted_bot_is_400(fake_recall: FakeRecall, bot_id: str, api: httpx.Client) -> None:
    response = api.post(f"{BOTS}{bot_id}/leave_call/")

    assert response.status_code == 400
    assert response.json() == {"code": "cannot_command_unstarted_bot", "message": UNSTARTED_BOT_MESSAGE, "errors": {}}
    assert fake_recall.bot(bot_id)["status_changes"] == []
    assert fake_recall.take_webhooks() == []


@pytest.mark.parametrize("code", COMPLETED_CODES)
def test_leave_call_on_a_completed_bot_is_400(
    fake_recall: FakeRecall, bot_id: str, api: httpx.Client, code: str
) -> None:
    fake_recall.play(bot_id, "joining_call", code)

    response = api.post(f"{BOTS}{bot_id}/leave_call/")

    assert response.status_code == 400
    assert response.json() == {"code": "cannot_command_completed_bot", "message": COMPLETED_BOT_MESSAGE, "errors": {}}
    assert fake_recall.bot(bot_id)["status_changes"][-1]["code"] == code
    assert fake_recall.take_webhooks() == []


def test_leave_call_twice_is_400_the_second_time(fake_recall: FakeRecall, bot_id: str, api: httpx.Client) -> None:
    fake_recall.play(bot_id, "joining_call", "in_call_not_recording")

    assert api.post(f"{BOTS}{bot_id}/leave_call/").status_code == 200
    again = api.post(f"{BOTS}{bot_id}/leave_call/")

    assert again.status_code == 400
    assert again.json()["code"] == "cannot_command_completed_bot"


def test_leave_call_for_an_unknown_bot_is_404(fake_recall: FakeRecall, api: httpx.Client) -> None:
    response = api.post(f"{BOTS}{uuid.uuid4()}/leave_call/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert fake_recall.take_webhooks() == []
    assert fake_recall.violations == []


def test_bot_paths_are_held_to_the_contract(fake_recall: FakeRecall, api: httpx.Client) -> None:
    response = api.get(f"{BOTS}not-a-uuid/")

    assert response.status_code == 400
    assert [(v.kind, v.path) for v in fake_recall.violations] == [("request", f"{BOTS}not-a-uuid/")]
    fake_recall.violations.clear()
