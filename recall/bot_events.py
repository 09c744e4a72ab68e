"""Parse stored bot, recording and transcript webhooks into one small value.

https://docs.recall.ai/docs/bot-status-change-events, https://docs.recall.ai/docs/recording-webhooks.

Pure: no I/O, no logging. v1.11 workspaces send one ``bot.<code>`` event per status with
``data.bot.{id, metadata}`` and ``data.data.{code, sub_code, updated_at}``; grandfathered v1.10 ones send
``bot.status_change`` with ``data.bot_id`` and ``data.status.{code, sub_code, created_at}`` and no metadata.
Status codes are an open set (Recall adds them without notice), so unknown ones pass through.
Errors name the field that is wrong, never its value: payloads come from outside.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from recall.errors import WebhookPayloadError
from recall.models import parse_timestamp, string_metadata

__all__ = ["BOT_EVENT_TYPES", "BotEvent", "BotEventKind", "parse_bot_event"]

# Recall's ids are UUIDs; anything much longer is not an id and must not reach a path, a log line or a key.
MAX_BOT_ID_LENGTH = 64

LEGACY_STATUS_EVENT = "bot.status_change"
BOT_STATUS_EVENTS = frozenset(
    {
        "bot.joining_call",
        "bot.in_waiting_room",
        "bot.in_call_not_recording",
        "bot.recording_permission_allowed",
        "bot.recording_permission_denied",
        "bot.in_call_recording",
        "bot.call_ended",
        "bot.done",
        "bot.fatal",
    }
)


class BotEventKind(StrEnum):
    """What a parsed event says: a bot status, or a recording's / transcript's outcome."""

    STATUS = "status"
    RECORDING_DONE = "recording_done"
    RECORDING_FAILED = "recording_failed"
    TRANSCRIPT_DONE = "transcript_done"
    TRANSCRIPT_FAILED = "transcript_failed"


_MEDIA_EVENTS: Mapping[str, tuple[BotEventKind, str]] = MappingProxyType(
    {
        "recording.done": (BotEventKind.RECORDING_DONE, "done"),
        "recording.failed": (BotEventKind.RECORDING_FAILED, "failed"),
        "transcript.done": (BotEventKind.TRANSCRIPT_DONE, "done"),
        "transcript.failed": (BotEventKind.TRANSCRIPT_FAILED, "failed"),
    }
)

BOT_EVENT_TYPES: frozenset[str] = BOT_STATUS_EVENTS | {LEGACY_STATUS_EVENT} | frozenset(_MEDIA_EVENTS)


@dataclass(frozen=True)
class BotEvent:
    """One bot webhook, reduced to what the app acts on.

    ``code`` is the status code for ``STATUS`` (``in_waiting_room``, ``fatal``, or one Recall added later) and
    ``"done"`` / ``"failed"`` for media events. ``metadata`` is None when the payload carried none (the legacy
    shape always, a v1.11 one without ``data.bot.metadata``): fetch the bot to learn it.
    """

    kind: BotEventKind
    bot_id: str
    code: str
    sub_code: str | None
    at: datetime
    metadata: Mapping[str, str] | None
    recording_id: str | None = None


def parse_bot_event(event_type: str, data: Mapping[str, Any]) -> BotEvent | None:
    """Parse a webhook's ``data`` object; None for event types not in ``BOT_EVENT_TYPES`` and for recordings made
    without a bot (Desktop SDK: ``data.bot`` is null). Raises ``WebhookPayloadError`` for a handled type whose
    payload lacks a usable bot id or timestamp."""
    if event_type not in BOT_EVENT_TYPES:
        return None
    if not isinstance(data, Mapping):
        raise WebhookPayloadError(f"{event_type}: data is not an object")
    if event_type == LEGACY_STATUS_EVENT:
        return _legacy_status(event_type, data)
    if event_type in _MEDIA_EVENTS:
        return _media(event_type, data)
    return _status(event_type, data)


def _status(event_type: str, data: Mapping[str, Any]) -> BotEvent:
    bot = data.get("bot")
    if not isinstance(bot, Mapping):
        raise WebhookPayloadError(f"{event_type}: data.bot is not an object")
    status = _object(data.get("data"))
    code = status.get("code")
    return BotEvent(
        kind=BotEventKind.STATUS,
        bot_id=_bot_id(event_type, bot.get("id"), "data.bot.id"),
        # The event name carries the code too; data.data.code wins when present (they agree in every example).
        code=code if isinstance(code, str) and code else event_type.removeprefix("bot."),
        sub_code=_optional_str(status.get("sub_code")),
        at=_timestamp(event_type, status.get("updated_at"), "data.data.updated_at"),
        metadata=_metadata(bot),
    )


def _legacy_status(event_type: str, data: Mapping[str, Any]) -> BotEvent:
    status = data.get("status")
    if not isinstance(status, Mapping):
        raise WebhookPayloadError(f"{event_type}: data.status is not an object")
    code = status.get("code")
    if not isinstance(code, str) or not code:
        raise WebhookPayloadError(f"{event_type}: data.status.code is not a non-empty string")
    return BotEvent(
        kind=BotEventKind.STATUS,
        bot_id=_bot_id(event_type, data.get("bot_id"), "data.bot_id"),
        code=code,
        sub_code=_optional_str(status.get("sub_code")),
        at=_timestamp(event_type, status.get("created_at"), "data.status.created_at"),
        metadata=None,  # v1.10 payloads carry none
        recording_id=_optional_id(status.get("recording_id")),  # v1.10 docs: "string | absent"
    )


def _media(event_type: str, data: Mapping[str, Any]) -> BotEvent | None:
    bot = data.get("bot")
    if bot is None:
        # Desktop SDK recordings have no bot (docs show "bot": null; the schema leaves it out of required).
        return None
    if not isinstance(bot, Mapping):
        raise WebhookPayloadError(f"{event_type}: data.bot is not an object")
    kind, code = _MEDIA_EVENTS[event_type]
    status = _object(data.get("data"))
    return BotEvent(
        kind=kind,
        bot_id=_bot_id(event_type, bot.get("id"), "data.bot.id"),
        code=code,
        sub_code=_optional_str(status.get("sub_code")),
        at=_timestamp(event_type, status.get("updated_at"), "data.data.updated_at"),
        metadata=_metadata(bot),
        recording_id=_optional_id(_object(data.get("recording")).get("id")),
    )


def _object(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _bot_id(event_type: str, value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise WebhookPayloadError(f"{event_type}: {where} is not a non-empty string")
    if len(value) > MAX_BOT_ID_LENGTH or not value.isprintable():
        raise WebhookPayloadError(f"{event_type}: {where} is not a Recall id")
    return value


def _timestamp(event_type: str, value: Any, where: str) -> datetime:
    try:
        return parse_timestamp(value)
    except ValueError:
        raise WebhookPayloadError(f"{event_type}: {where} is not an ISO 8601 timestamp") from None


def _metadata(bot: Mapping[str, Any]) -> Mapping[str, str] | None:
    value = bot.get("metadata")
    # A plain dict, not a read-only proxy: dataclasses.asdict / copy.deepcopy cannot copy a mappingproxy.
    return string_metadata(value) if isinstance(value, Mapping) else None


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _optional_id(value: Any) -> str | None:
    if isinstance(value, str) and value and len(value) <= MAX_BOT_ID_LENGTH and value.isprintable():
        return value
    return None
