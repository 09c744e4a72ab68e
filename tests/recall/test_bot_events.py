"""parse_bot_event over every handled type, from the examples in Recall's own webhook catalogue, plus the shapes
the catalogue does not show: legacy v1.10 payloads, missing metadata, null sub_codes and malformed bodies."""

from __future__ import annotations

import copy
import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from recall.bot_events import BOT_EVENT_TYPES, BotEvent, BotEventKind, parse_bot_event
from recall.errors import WebhookPayloadError
from tests.twins.contracts import recall_webhook_schemas

STATUS_BOT = "a31e78b3-b67e-4dcf-af63-631e7548c40f"
MEDIA_BOT = "e4b22b2d-d490-4874-a086-322922f07950"
RECORDING = "4cff97e4-f0c7-4915-b5a0-983238758f28"
STATUS_AT = datetime(2025, 1, 29, 23, 49, 58, 570998, tzinfo=UTC)
MEDIA_AT = datetime(2025, 4, 27, 1, 36, 37, 56337, tzinfo=UTC)
# A value that must never be echoed in an error message.
LEAK = "LEAKED-3f9a"

# What each catalogue example must parse to: (kind, bot id, code, sub_code, at, metadata, recording id).
EXPECTED: dict[str, BotEvent] = {
    "bot.joining_call": BotEvent(BotEventKind.STATUS, STATUS_BOT, "joining_call", None, STATUS_AT, {}),
    "bot.in_waiting_room": BotEvent(BotEventKind.STATUS, STATUS_BOT, "in_waiting_room", None, STATUS_AT, {}),
    "bot.in_call_not_recording": BotEvent(
        BotEventKind.STATUS, STATUS_BOT, "in_call_not_recording", None, STATUS_AT, {}
    ),
    "bot.recording_permission_allowed": BotEvent(
        BotEventKind.STATUS, STATUS_BOT, "recording_permission_allowed", None, STATUS_AT, {}
    ),
    "bot.recording_permission_denied": BotEvent(
        BotEventKind.STATUS, STATUS_BOT, "recording_permission_denied", "permission_denied_by_host", STATUS_AT, {}
    ),
    "bot.in_call_recording": BotEvent(BotEventKind.STATUS, STATUS_BOT, "in_call_recording", None, STATUS_AT, {}),
    "bot.call_ended": BotEvent(BotEventKind.STATUS, STATUS_BOT, "call_ended", "meeting_ended_by_host", STATUS_AT, {}),
    "bot.done": BotEvent(BotEventKind.STATUS, STATUS_BOT, "done", None, STATUS_AT, {}),
    "bot.fatal": BotEvent(BotEventKind.STATUS, STATUS_BOT, "fatal", "invalid_meeting_url", STATUS_AT, {}),
    # Legacy v1.10: no metadata at all, hence None rather than {}.
    "bot.status_change": BotEvent(BotEventKind.STATUS, STATUS_BOT, "done", None, STATUS_AT, None),
    "recording.done": BotEvent(BotEventKind.RECORDING_DONE, MEDIA_BOT, "done", None, MEDIA_AT, {}, RECORDING),
    "recording.failed": BotEvent(
        BotEventKind.RECORDING_FAILED, MEDIA_BOT, "failed", "internal_error", MEDIA_AT, {}, RECORDING
    ),
    "transcript.done": BotEvent(BotEventKind.TRANSCRIPT_DONE, MEDIA_BOT, "done", None, MEDIA_AT, {}, RECORDING),
    "transcript.failed": BotEvent(BotEventKind.TRANSCRIPT_FAILED, MEDIA_BOT, "failed", None, MEDIA_AT, {}, RECORDING),
}


def example(event_type: str) -> dict[str, Any]:
    """The catalogue's first example for ``event_type`` (a fresh copy: tests change it)."""
    examples = recall_webhook_schemas()[event_type].examples
    assert examples, f"webhooks.json has no example for {event_type}"
    return copy.deepcopy(examples[0])


def test_the_handled_types_are_the_documented_ones() -> None:
    assert set(EXPECTED) == BOT_EVENT_TYPES
    assert BOT_EVENT_TYPES.issubset(recall_webhook_schemas())  # every one is a real Recall event type


@pytest.mark.parametrize("event_type", sorted(BOT_EVENT_TYPES))
def test_catalogue_examples(event_type: str) -> None:
    payload = example(event_type)
    recall_webhook_schemas()[event_type].validate(payload)  # the example is a valid payload of its own type
    assert payload["event"] == event_type
    event = parse_bot_event(event_type, payload["data"])
    assert event == EXPECTED[event_type]
    assert event is not None and event.at.tzinfo is UTC


@pytest.mark.parametrize("event_type", sorted(BOT_EVENT_TYPES - {"bot.status_change"}))
def test_metadata_keeps_strings_only(event_type: str) -> None:
    data = example(event_type)["data"]
    data["bot"]["metadata"] = {
        "slack_team_id": "T0123",
        "slack_user_id": "U0456",
        "unset": None,
        "count": 3,
        "nested": {"a": "b"},
    }
    event = parse_bot_event(event_type, data)
    assert event is not None
    assert event.metadata == {"slack_team_id": "T0123", "slack_user_id": "U0456"}


@pytest.mark.parametrize("metadata", ["absent", None, "a string", ["x"]])
def test_missing_metadata_is_none(metadata: Any) -> None:
    data = example("bot.in_waiting_room")["data"]
    if metadata == "absent":
        del data["bot"]["metadata"]
    else:
        data["bot"]["metadata"] = metadata
    event = parse_bot_event("bot.in_waiting_room", data)
    assert event is not None and event.metadata is None  # unknown, unlike {} (known to be empty)


@pytest.mark.parametrize("sub_code", ["absent", None, "", 42])
def test_missing_sub_code_is_none(sub_code: Any) -> None:
    data = example("bot.call_ended")["data"]
    if sub_code == "absent":
        del data["data"]["sub_code"]
    else:
        data["data"]["sub_code"] = sub_code
    event = parse_bot_event("bot.call_ended", data)
    assert event is not None and event.sub_code is None and event.code == "call_ended"


def test_the_code_falls_back_to_the_event_name() -> None:
    data = example("bot.in_waiting_room")["data"]
    del data["data"]["code"]
    event = parse_bot_event("bot.in_waiting_room", data)
    assert event is not None and event.code == "in_waiting_room"


def test_the_payload_code_wins_and_unknown_codes_pass_through() -> None:
    data = example("bot.call_ended")["data"]
    data["data"]["code"] = "call_ended_v2"
    event = parse_bot_event("bot.call_ended", data)
    assert event is not None and event.code == "call_ended_v2"


@pytest.mark.parametrize("code", ["participant_in_waiting_room", "media_expired", "analysis_done", "recording_done"])
def test_legacy_codes_pass_through(code: str) -> None:
    data = example("bot.status_change")["data"]
    data["status"]["code"] = code
    event = parse_bot_event("bot.status_change", data)
    assert event is not None and event.code == code and event.kind is BotEventKind.STATUS


def test_legacy_shape_in_full() -> None:
    data = {
        "bot_id": STATUS_BOT,
        "status": {
            "code": "call_ended",
            "sub_code": "bot_kicked_from_call",
            "message": "Bot was removed by the host.",
            "created_at": "2025-01-30T00:49:58+01:00",
            "recording_id": RECORDING,
        },
    }
    event = parse_bot_event("bot.status_change", data)
    assert event == BotEvent(
        kind=BotEventKind.STATUS,
        bot_id=STATUS_BOT,
        code="call_ended",
        sub_code="bot_kicked_from_call",
        at=datetime(2025, 1, 29, 23, 49, 58, tzinfo=UTC),
        metadata=None,
        recording_id=RECORDING,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-01-29T23:49:58Z", datetime(2025, 1, 29, 23, 49, 58, tzinfo=UTC)),
        ("2025-01-30T01:49:58.5+02:00", datetime(2025, 1, 29, 23, 49, 58, 500000, tzinfo=UTC)),
        ("2025-01-29T23:49:58", datetime(2025, 1, 29, 23, 49, 58, tzinfo=UTC)),  # naive: Recall means UTC
    ],
)
def test_timestamps_become_aware_utc(text: str, expected: datetime) -> None:
    data = example("bot.done")["data"]
    data["data"]["updated_at"] = text
    event = parse_bot_event("bot.done", data)
    assert event is not None and event.at == expected and event.at.tzinfo is UTC


@pytest.mark.parametrize("event_type", ["recording.done", "recording.failed", "transcript.done", "transcript.failed"])
@pytest.mark.parametrize("absent", [True, False])
def test_recordings_without_a_bot_are_not_bot_events(event_type: str, absent: bool) -> None:
    """Desktop SDK recordings: docs show ``"bot": null``; the recording.done schema does not require it."""
    data = example(event_type)["data"]
    if absent:
        del data["bot"]
    else:
        data["bot"] = None
    assert parse_bot_event(event_type, data) is None


def test_a_media_event_without_a_recording_id_still_parses() -> None:
    data = example("transcript.done")["data"]
    data["recording"] = None
    event = parse_bot_event("transcript.done", data)
    assert event is not None and event.recording_id is None and event.bot_id == MEDIA_BOT


def test_media_events_say_done_or_failed_whatever_the_payload_code() -> None:
    data = example("recording.failed")["data"]
    data["data"]["code"] = "something_else"
    event = parse_bot_event("recording.failed", data)
    assert event is not None and (event.kind, event.code) == (BotEventKind.RECORDING_FAILED, "failed")


def test_a_bot_id_of_64_characters_is_accepted() -> None:
    data = example("bot.done")["data"]
    data["bot"]["id"] = "b" * 64
    event = parse_bot_event("bot.done", data)
    assert event is not None and event.bot_id == "b" * 64


def _without(path: tuple[str, ...]) -> Any:
    def change(data: dict[str, Any]) -> None:
        node = data
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return change


def _setting(path: tuple[str, ...], value: Any) -> Any:
    def change(data: dict[str, Any]) -> None:
        node = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return change


MALFORMED = [
    ("bot.done", _without(("bot",)), "data.bot"),
    ("bot.done", _setting(("bot",), None), "data.bot"),
    ("bot.done", _setting(("bot",), LEAK), "data.bot"),
    ("bot.done", _without(("bot", "id")), "data.bot.id"),
    ("bot.done", _setting(("bot", "id"), ""), "data.bot.id"),
    ("bot.done", _setting(("bot", "id"), 12345), "data.bot.id"),
    ("bot.done", _setting(("bot", "id"), LEAK + "x" * 64), "data.bot.id"),
    ("bot.done", _setting(("bot", "id"), LEAK + "\nINFO forged log line"), "data.bot.id"),
    ("bot.fatal", _without(("data",)), "data.data.updated_at"),
    ("bot.fatal", _without(("data", "updated_at")), "data.data.updated_at"),
    ("bot.fatal", _setting(("data", "updated_at"), LEAK), "data.data.updated_at"),
    ("bot.fatal", _setting(("data", "updated_at"), 1738194598), "data.data.updated_at"),
    ("bot.fatal", _setting(("data", "updated_at"), "0001-01-01T00:00:00+01:00"), "data.data.updated_at"),
    ("bot.status_change", _without(("bot_id",)), "data.bot_id"),
    ("bot.status_change", _setting(("bot_id",), ""), "data.bot_id"),
    ("bot.status_change", _setting(("bot_id",), "b" * 65), "data.bot_id"),
    ("bot.status_change", _without(("status",)), "data.status"),
    ("bot.status_change", _setting(("status", "code"), None), "data.status.code"),
    ("bot.status_change", _setting(("status", "code"), ""), "data.status.code"),
    ("bot.status_change", _setting(("status", "code"), 7), "data.status.code"),
    ("bot.status_change", _setting(("status", "created_at"), LEAK), "data.status.created_at"),
    ("recording.done", _setting(("bot",), [LEAK]), "data.bot"),
    ("recording.done", _without(("bot", "id")), "data.bot.id"),
    ("recording.done", _setting(("data", "updated_at"), LEAK), "data.data.updated_at"),
    ("transcript.failed", _without(("data",)), "data.data.updated_at"),
]


@pytest.mark.parametrize(("event_type", "change", "field"), MALFORMED)
def test_malformed_payloads(event_type: str, change: Any, field: str) -> None:
    data = example(event_type)["data"]
    change(data)
    with pytest.raises(WebhookPayloadError) as caught:
        parse_bot_event(event_type, data)
    message = str(caught.value)
    assert message.startswith(f"{event_type}: {field} is not ")  # names the field exactly
    assert LEAK not in message  # the body is never echoed


@pytest.mark.parametrize("event_type", sorted(BOT_EVENT_TYPES))
@pytest.mark.parametrize("data", [None, [], LEAK])
def test_data_that_is_not_an_object(event_type: str, data: Any) -> None:
    with pytest.raises(WebhookPayloadError, match="not an object") as caught:
        parse_bot_event(event_type, data)
    assert LEAK not in str(caught.value)


@pytest.mark.parametrize(
    "event_type",
    [
        "bot.log",
        "bot.output_log",
        "bot.some_future_status",  # a new event type is not ours until someone decides what it means
        "recording.processing",
        "recording.deleted",
        "transcript.processing",
        "video_mixed.done",
        "calendar.update",
        "calendar.sync_events",
        "BOT.DONE",
        "bot.done ",
        "",
    ],
)
def test_other_types_are_not_bot_events(event_type: str) -> None:
    assert parse_bot_event(event_type, example("bot.done")["data"]) is None
    # The data is not even looked at.
    assert parse_bot_event(event_type, None) is None  # type: ignore[arg-type]


def test_an_event_is_a_plain_frozen_value() -> None:
    data = example("recording.done")["data"]
    data["bot"]["metadata"] = {"slack_user_id": "U0456"}
    event = parse_bot_event("recording.done", data)
    assert event is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.code = "failed"  # type: ignore[misc]
    assert dataclasses.asdict(event)["metadata"] == {"slack_user_id": "U0456"}
    assert event.kind == "recording_done"  # a StrEnum: stores and logs as its value
    data["bot"]["metadata"]["slack_user_id"] = "changed later"
    assert event.metadata == {"slack_user_id": "U0456"}  # a copy, not a view of the payload


@pytest.mark.parametrize("code", [7, True, ["joining_call"], ""])
def test_a_v111_code_that_is_not_a_string_falls_back_to_the_event_name(code: Any) -> None:
    data = example("bot.joining_call")["data"]
    data["data"]["code"] = code
    event = parse_bot_event("bot.joining_call", data)
    assert event is not None and event.code == "joining_call"


@pytest.mark.parametrize(
    ("recording_id", "expected"),
    [("r" * 64, "r" * 64), ("r" * 65, None), (12345, None), ("", None), ("bad\nid", None)],
)
def test_a_recording_id_is_kept_only_when_it_can_be_one(recording_id: Any, expected: str | None) -> None:
    data = example("recording.done")["data"]
    data["recording"]["id"] = recording_id
    event = parse_bot_event("recording.done", data)
    assert event is not None and event.recording_id == expected
