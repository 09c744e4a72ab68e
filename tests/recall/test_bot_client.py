"""RecallClient.retrieve_bot / leave_call over httpx.MockTransport, and the Bot model they return.

The response bodies are held to Recall's OpenAPI ``Bot`` schema. The shared loader does not repair two defects
that only bot responses hit, so they are repaired here, on a copy (see ``bot_contract``).
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

import httpx
import pytest
from openapi_core import OpenAPI
from openapi_core.configurations import Config
from openapi_core.testing import MockRequest, MockResponse
from openapi_core.validation.response.exceptions import InvalidData
from pydantic import ValidationError

from recall.client import RecallClient
from recall.errors import RecallAPIError, RecallBadRequest, RecallNotFound, RecallResponseError, RecallUnavailable
from recall.models import Bot, BotRecording
from tests.twins.contracts import recall_openapi_dict

BASE = "https://us-east-1.recall.ai"
BOT_ID = "6e1f5adb-5d1c-4a53-9a8e-3b3f1c2a7d10"
RECORDING_ID = "5a7062f3-6d59-4d4a-8f1e-0c6b7b9a1e22"
BOT_PATH = f"/api/v1/bot/{BOT_ID}/"
LEAVE_PATH = f"/api/v1/bot/{BOT_ID}/leave_call/"
# Pre-signed: whoever holds one can download the recording, so they must never reach a repr or a log line.
VIDEO_URL = "https://recallai-production-bot-data.s3.amazonaws.com/_workspace/video.mp4?X-Amz-Signature=vid-sig-7731"
TRANSCRIPT_URL = "https://us-east-1.recall.ai/api/v1/download/transcript?token=transcript-token-5512"
SECRETS = ("vid-sig-7731", "transcript-token-5512")


def artifact_status(code: str = "done") -> dict[str, Any]:
    return {"code": code, "sub_code": None, "updated_at": "2025-06-02T10:31:00Z"}


def video_mixed(url: str | None = VIDEO_URL) -> dict[str, Any]:
    """``VideoMixedArtifactShortcut`` with every required field."""
    return {
        "id": "1b6a4b2e-0000-4000-8000-000000000001",
        "created_at": "2025-06-02T10:00:03Z",
        "status": artifact_status("done" if url else "processing"),
        "metadata": {},
        "data": {"download_url": url},
        "format": "mp4",
    }


def transcript(url: str | None = TRANSCRIPT_URL) -> dict[str, Any]:
    """``TranscriptArtifactShortcut`` with every required field (a meeting-captions transcript)."""
    return {
        "id": "1b6a4b2e-0000-4000-8000-000000000002",
        "created_at": "2025-06-02T10:00:03Z",
        "status": artifact_status("done" if url else "processing"),
        "metadata": {},
        "data": {"download_url": url, "provider_data_download_url": None},
        "diarization": None,
        "provider": {"meeting_captions": {}},
    }


def recording(
    recording_id: str = RECORDING_ID,
    *,
    created_at: str = "2025-06-02T10:00:03Z",
    video: dict[str, Any] | None = None,
    text: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``BotRecordingEmbed`` as Recall returns it after ``recording.done``."""
    return {
        "id": recording_id,
        "created_at": created_at,
        "started_at": created_at,
        "completed_at": "2025-06-02T10:30:00Z",
        "expires_at": "2025-06-09T10:30:00Z",
        "status": {"code": "done", "sub_code": None, "updated_at": "2025-06-02T10:31:00Z"},
        "metadata": {"slack_user_id": "U0456"},
        "media_shortcuts": {
            "video_mixed": video,
            "transcript": text,
            "participant_events": None,
            "meeting_metadata": None,
            "audio_mixed": None,
        },
    }


def status_change(code: str, created_at: str, sub_code: str | None = None) -> dict[str, Any]:
    return {"code": code, "sub_code": sub_code, "message": None, "created_at": created_at}


# A bot after `bot.done`, in the shape of the spec's `Bot` (the spec ships no example; this follows
# recall-bots.md 3.2 and every required field of the schema).
BOT_BODY: dict[str, Any] = {
    "id": BOT_ID,
    "meeting_url": {"meeting_id": "abc-defg-hij", "platform": "google_meet"},
    "bot_name": "Meeting Notetaker",
    "join_at": None,
    "recording_config": None,
    "status_changes": [
        status_change("joining_call", "2025-06-02T09:58:01.123456Z"),
        status_change("in_waiting_room", "2025-06-02T09:58:30Z"),
        status_change("in_call_recording", "2025-06-02T10:00:03Z"),
        status_change("call_ended", "2025-06-02T10:30:00Z", "timeout_exceeded_everyone_left"),
        status_change("done", "2025-06-02T10:31:10+00:00"),
    ],
    "recordings": [recording(video=video_mixed(), text=transcript())],
    "calendar_meetings": [],
    "slack_team": None,
    "automatic_leave": None,
    "metadata": {"slack_team_id": "T0123", "slack_user_id": "U0456", "meeting_ref": "m-42", "unset": None},
}


# ---- the contract ------------------------------------------------------------------------------


@cache
def bot_contract() -> OpenAPI:
    """Recall's spec with the shared repairs, plus two that bot responses need.

    Patch A: ``{"allOf": [{"$ref": X}], "nullable": true}`` (``recording_config``, ``slack_team``, every
    ``media_shortcuts`` entry, ``diarization``...) rejects null in openapi-core, which applies ``nullable`` only
    where a ``type`` is; X is inlined as a nullable copy, as the shared loader does for bare ``$ref``.
    Patch B: ``TranscriptArtifactProvider`` requires all six async providers at once, so no real transcript
    (which has exactly one provider) can match; ``required`` is dropped.
    Patch C: ``BotEvent`` (a status change) types ``sub_code`` and ``message`` as non-null strings, yet Recall
    sends null for most codes (its docs' own example, and the legacy ``bot.status_change`` webhook schema types
    them ``["string", "null"]``); they are made nullable.
    """
    spec = recall_openapi_dict(BASE)
    schemas = spec["components"]["schemas"]
    del schemas["TranscriptArtifactProvider"]["required"]
    for name in ("sub_code", "message"):
        schemas["BotEvent"]["properties"][name]["nullable"] = True
    for name in ("Bot", "BotRecordingEmbed", "RecordingShortcuts", "TranscriptArtifactShortcut"):
        schemas[name] = _inline_nullable_all_of(schemas[name], schemas)
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


def _inline_nullable_all_of(node: Any, schemas: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        parts = node.get("allOf")
        if node.get("nullable") is True and isinstance(parts, list) and len(parts) == 1 and "$ref" in parts[0]:
            target = copy.deepcopy(schemas[parts[0]["$ref"].removeprefix("#/components/schemas/")])
            target.update({key: value for key, value in node.items() if key != "allOf"})
            if isinstance(target.get("enum"), list) and None not in target["enum"]:
                target["enum"] = [*target["enum"], None]
            return _inline_nullable_all_of(target, schemas)
        return {key: _inline_nullable_all_of(value, schemas) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline_nullable_all_of(item, schemas) for item in node]
    return node


def assert_contract_response(method: str, path: str, body: dict[str, Any]) -> None:
    request = MockRequest(BASE, method.lower(), path)
    bot_contract().validate_response(request, MockResponse(json.dumps(body).encode()))


def assert_contract_request(request: httpx.Request) -> None:
    bot_contract().validate_request(
        MockRequest(
            BASE,
            request.method.lower(),
            request.url.path,
            headers=dict(request.headers),
            data=request.content or None,
            content_type=request.headers.get("content-type", "application/json"),
        )
    )


def test_the_example_bot_matches_the_contract() -> None:
    assert_contract_response("GET", BOT_PATH, BOT_BODY)
    assert_contract_response("POST", LEAVE_PATH, BOT_BODY)  # leave_call answers 200 with the bot
    with pytest.raises(InvalidData):  # the repaired contract still bites
        assert_contract_response("GET", BOT_PATH, {**BOT_BODY, "recordings": [{"id": RECORDING_ID}]})


# ---- the client --------------------------------------------------------------------------------


@dataclass
class Script:
    """Answers requests in order (the last answer repeats) and keeps what was sent."""

    answers: list[httpx.Response | Callable[[httpx.Request], httpx.Response]]
    seen: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        answer = self.answers[min(len(self.seen), len(self.answers)) - 1]
        return answer(request) if callable(answer) else answer


@asynccontextmanager
async def client_for(
    *answers: httpx.Response | Callable[[httpx.Request], httpx.Response],
) -> AsyncIterator[tuple[RecallClient, Script]]:
    script = Script(list(answers))
    sleeps: list[float] = []

    async def no_sleep(delay: float) -> None:
        sleeps.append(delay)

    async with httpx.AsyncClient(transport=httpx.MockTransport(script)) as http:
        client = RecallClient(api_key="k3y", base_url=BASE, http=http, sleep=no_sleep, jitter=lambda upper: 0.0)
        yield client, script


def raise_read_timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


async def test_retrieve_bot(caplog: pytest.LogCaptureFixture) -> None:
    async with client_for(httpx.Response(200, json=BOT_BODY)) as (client, script):
        with caplog.at_level(logging.DEBUG, logger="recall"):
            bot = await client.retrieve_bot(BOT_ID)
    (request,) = script.seen
    assert (request.method, request.url.path, request.content) == ("GET", BOT_PATH, b"")  # no body on a GET
    assert request.headers["authorization"] == "Token k3y"
    assert_contract_request(request)

    assert bot.id == BOT_ID
    assert bot.metadata == {"slack_team_id": "T0123", "slack_user_id": "U0456", "meeting_ref": "m-42"}
    assert [change.code for change in bot.status_changes] == [
        "joining_call",
        "in_waiting_room",
        "in_call_recording",
        "call_ended",
        "done",
    ]
    assert bot.status_changes[3].sub_code == "timeout_exceeded_everyone_left"
    assert bot.status_changes[0].created_at == datetime(2025, 6, 2, 9, 58, 1, 123456, tzinfo=UTC)
    assert bot.last_status == "done"
    assert bot.recorded is True
    assert bot.video_url == VIDEO_URL
    assert bot.transcript_url == TRANSCRIPT_URL
    (only,) = bot.recordings
    assert (only.id, only.status_code) == (RECORDING_ID, "done")
    assert only.expires_at == datetime(2025, 6, 9, 10, 30, tzinfo=UTC)
    assert only.media_shortcuts.video_mixed is not None and only.media_shortcuts.video_mixed.status_code == "done"
    assert all(secret not in caplog.text for secret in SECRETS)
    assert BOT_ID in caplog.text  # the path is logged, so the check above looked at real log lines


async def test_retrieve_bot_retries_a_read_timeout() -> None:
    async with client_for(raise_read_timeout, httpx.Response(200, json=BOT_BODY)) as (client, script):
        bot = await client.retrieve_bot(BOT_ID)
    assert bot.id == BOT_ID and len(script.seen) == 2  # a GET is safe to resend


async def test_leave_call() -> None:
    async with client_for(httpx.Response(200, json=BOT_BODY)) as (client, script):
        assert await client.leave_call(BOT_ID) is None
    (request,) = script.seen
    assert (request.method, request.url.path, request.content) == ("POST", LEAVE_PATH, b"")
    assert request.headers["authorization"] == "Token k3y"
    assert_contract_request(request)


async def test_leave_call_ignores_the_body_it_gets_back() -> None:
    async with client_for(httpx.Response(200, content=b"")) as (client, _):
        await client.leave_call(BOT_ID)


async def test_leave_call_is_not_resent_after_a_read_timeout() -> None:
    async with client_for(raise_read_timeout, httpx.Response(200, json=BOT_BODY)) as (client, script):
        with pytest.raises(RecallUnavailable) as caught:
            await client.leave_call(BOT_ID)
    assert len(script.seen) == 1  # the bot may have left already; the caller decides
    assert caught.value.status is None and caught.value.path == LEAVE_PATH


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (
            {
                "code": "cannot_command_completed_bot",
                "message": "Cannot send a command to a bot which has completed(is shutting/has shut down/has errored).",
                "errors": None,
            },
            "cannot_command_completed_bot",
            "Cannot send a command to a bot which has completed(is shutting/has shut down/has errored).",
        ),
        (  # DRF's own shape, in case the command errors come that way
            {
                "code": "cannot_command_unstarted_bot",
                "detail": "Cannot send a command to a bot which has not been started.",
            },
            "cannot_command_unstarted_bot",
            "Cannot send a command to a bot which has not been started.",
        ),
    ],
)
async def test_leave_call_on_a_bot_that_cannot_be_commanded(body: dict[str, Any], code: str, message: str) -> None:
    async with client_for(httpx.Response(400, json=body)) as (client, script):
        with pytest.raises(RecallBadRequest) as caught:
            await client.leave_call(BOT_ID)
    assert isinstance(caught.value, RecallAPIError)
    assert (caught.value.status, caught.value.code, caught.value.message) == (400, code, message)
    assert (caught.value.method, caught.value.path) == ("POST", LEAVE_PATH)
    assert len(script.seen) == 1


@pytest.mark.parametrize("call", ["retrieve_bot", "leave_call"])
async def test_unknown_bot_is_not_found(call: str) -> None:
    async with client_for(httpx.Response(404, json={"detail": "Not found."})) as (client, script):
        with pytest.raises(RecallNotFound) as caught:
            await getattr(client, call)(BOT_ID)
    assert (caught.value.status, caught.value.code, caught.value.message) == (404, None, "Not found.")
    assert len(script.seen) == 1


@pytest.mark.parametrize("bad", ["", "..", "a/b", "x?y=1", "%2e%2e", "a#b"])
async def test_bot_ids_cannot_change_the_path(bad: str) -> None:
    async with client_for(httpx.Response(200, json=BOT_BODY)) as (client, script):
        for call in (client.retrieve_bot, client.leave_call):
            with pytest.raises(ValueError, match="invalid Recall id"):
                await call(bad)
    assert script.seen == []


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, json={"metadata": {}}),  # no id
        httpx.Response(200, json=[BOT_BODY]),
        httpx.Response(200, content=b"<html>maintenance</html>"),
    ],
)
async def test_an_unusable_bot_body_is_a_response_error(response: httpx.Response) -> None:
    async with client_for(response) as (client, _):
        with pytest.raises(RecallResponseError) as caught:
            await client.retrieve_bot(BOT_ID)
    assert "maintenance" not in str(caught.value)


# ---- the model ---------------------------------------------------------------------------------


def test_download_urls_stay_out_of_reprs() -> None:
    bot = Bot.model_validate(BOT_BODY)
    assert bot.video_url == VIDEO_URL  # they are there, to redirect to
    shortcuts = bot.recordings[0].media_shortcuts
    for text in (repr(bot), str(bot), repr(bot.recordings), repr(shortcuts), repr(shortcuts.transcript)):
        assert all(secret not in text for secret in SECRETS), text
    assert "in_call_recording" in repr(bot)  # the rest is still shown


def test_validation_errors_hide_the_urls() -> None:
    body = {**BOT_BODY, "id": None}
    with pytest.raises(ValidationError) as caught:
        Bot.model_validate(body)
    assert all(secret not in str(caught.value) for secret in SECRETS)


def test_a_bot_that_never_joined() -> None:
    bot = Bot.model_validate({"id": BOT_ID})
    assert (bot.metadata, bot.status_changes, bot.recordings) == ({}, [], [])
    assert (bot.video_url, bot.transcript_url, bot.last_status, bot.recorded) == (None, None, None, False)

    bot = Bot.model_validate({"id": BOT_ID, "metadata": None, "status_changes": None, "recordings": None})
    assert (bot.metadata, bot.status_changes, bot.recordings) == ({}, [], [])


def test_a_fatal_bot_recorded_nothing() -> None:
    bot = Bot.model_validate(
        {
            "id": BOT_ID,
            "status_changes": [
                status_change("joining_call", "2025-06-02T09:58:01Z"),
                status_change("fatal", "2025-06-02T09:58:40Z", "meeting_not_found"),
            ],
            "recordings": [],
        }
    )
    assert (bot.recorded, bot.last_status) == (False, "fatal")
    assert bot.status_changes[-1].sub_code == "meeting_not_found"


def test_recorded_by_status_or_by_recording() -> None:
    by_status = Bot.model_validate(
        {"id": BOT_ID, "status_changes": [status_change("in_call_recording", "2025-06-02T10:00:00Z")]}
    )
    assert by_status.recorded and by_status.video_url is None  # recording, not uploaded yet
    by_recording = Bot.model_validate({"id": BOT_ID, "recordings": [recording(video=None)]})
    assert by_recording.recorded and by_recording.video_url is None


@pytest.mark.parametrize(
    "shortcuts",
    [
        None,
        {},
        {"video_mixed": None, "transcript": None},
        {"video_mixed": "mp4", "transcript": []},
        {"video_mixed": {"data": None}, "transcript": {"data": "x"}},
        {"video_mixed": {"data": {"download_url": None}}, "transcript": {"data": {"download_url": ""}}},
        {"video_mixed": {"data": {"download_url": 42}}, "transcript": {"data": {}}},
        {"video_mixed": video_mixed(None), "transcript": transcript(None)},  # still processing
    ],
)
def test_recordings_without_usable_media(shortcuts: Any) -> None:
    body = {**recording(), "media_shortcuts": shortcuts}
    bot = Bot.model_validate({"id": BOT_ID, "recordings": [body]})
    assert [r.id for r in bot.recordings] == [RECORDING_ID]
    assert (bot.video_url, bot.transcript_url) == (None, None)


def test_the_newest_recording_with_media_wins() -> None:
    older_video = VIDEO_URL.replace("video.mp4", "older.mp4")
    bot = Bot.model_validate(
        {
            "id": BOT_ID,
            "recordings": [
                recording(
                    "rec-old", created_at="2025-06-02T10:00:00Z", video=video_mixed(older_video), text=transcript()
                ),
                # Newest: video ready, transcript still processing.
                recording("rec-new", created_at="2025-06-02T10:20:00Z", video=video_mixed(), text=transcript(None)),
                recording("rec-mid", created_at="2025-06-02T10:10:00Z", video=None, text=None),
            ],
        }
    )
    assert [r.id for r in bot.recordings_newest_first()] == ["rec-new", "rec-mid", "rec-old"]
    assert bot.video_url == VIDEO_URL
    assert bot.transcript_url == TRANSCRIPT_URL  # from the older recording, the only one with a transcript


def test_recordings_without_created_at_keep_recalls_order() -> None:
    first = {**recording("rec-a", video=video_mixed()), "created_at": None}
    second = {**recording("rec-b", video=video_mixed(VIDEO_URL + "-b")), "created_at": "garbage"}
    bot = Bot.model_validate({"id": BOT_ID, "recordings": [first, second]})
    assert [r.id for r in bot.recordings_newest_first()] == ["rec-a", "rec-b"]
    assert bot.video_url == VIDEO_URL  # recordings[0], as Recall's docs read it
    assert all(r.created_at is None for r in bot.recordings)


def test_bad_items_are_skipped() -> None:
    bot = Bot.model_validate(
        {
            "id": BOT_ID,
            "metadata": {"slack_user_id": "U1", "count": 3, "nested": {"a": "b"}, "none": None, "": "empty key ok"},
            "status_changes": [
                "joining_call",
                None,
                {"code": "joining_call"},  # no created_at
                {"code": "in_waiting_room", "created_at": "yesterday"},
                {"code": "in_waiting_room", "created_at": "0001-01-01T00:00:00+01:00"},  # no UTC form
                {"code": 7, "created_at": "2025-06-02T09:58:00Z"},
                {"code": "", "created_at": "2025-06-02T09:58:00Z"},
                {"code": "in_call_not_recording", "sub_code": 5, "message": ["x"], "created_at": "2025-06-02T10:00Z"},
            ],
            "recordings": [
                None,
                {"status": {"code": "done"}},  # no id
                {"id": 12},
                {"id": "rec-ok", "status": "done", "expires_at": "never", "media_shortcuts": None},
            ],
        }
    )
    assert bot.metadata == {"slack_user_id": "U1", "": "empty key ok"}
    (change,) = bot.status_changes
    assert (change.code, change.sub_code, change.message) == ("in_call_not_recording", None, None)
    (kept,) = bot.recordings
    assert (kept.id, kept.status_code, kept.expires_at) == ("rec-ok", None, None)


def test_unknown_status_codes_pass_through() -> None:
    bot = Bot.model_validate({"id": BOT_ID, "status_changes": [status_change("analysis_done", "2025-06-02T11:00Z")]})
    assert bot.last_status == "analysis_done"


def test_last_status_goes_by_time_then_list_order() -> None:
    bot = Bot.model_validate(
        {
            "id": BOT_ID,
            "status_changes": [
                status_change("done", "2025-06-02T10:31:00Z"),
                status_change("joining_call", "2025-06-02T09:58:00Z"),  # out of order
                status_change("call_ended", "2025-06-02T10:30:00Z"),
            ],
        }
    )
    assert bot.last_status == "done"
    tie = Bot.model_validate(
        {
            "id": BOT_ID,
            "status_changes": [
                status_change("call_ended", "2025-06-02T10:30:00Z"),
                status_change("done", "2025-06-02T10:30:00Z"),
            ],
        }
    )
    assert tie.last_status == "done"


def test_a_recording_alone() -> None:
    only = BotRecording.model_validate(recording(video=video_mixed(), text=None))
    assert (only.video_url, only.transcript_url) == (VIDEO_URL, None)
    assert only.created_at == datetime(2025, 6, 2, 10, 0, 3, tzinfo=UTC)
