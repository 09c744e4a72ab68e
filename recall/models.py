"""Typed views of Recall Calendar V2 objects (https://docs.recall.ai/reference/calendar-v2) and bots
(https://docs.recall.ai/reference/bot_retrieve).

Recall echoes ``oauth_client_secret`` and ``oauth_refresh_token`` in every calendar response;
``Calendar`` drops them on input so they can never reach a repr, a log line or an error message.
A bot's media download URLs are pre-signed (anyone holding one can fetch the recording): they are
kept, because the app redirects to them, but left out of every repr.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

SECRET_CALENDAR_FIELDS = frozenset({"oauth_client_secret", "oauth_refresh_token"})

GOOGLE_CALENDAR = "google_calendar"
MICROSOFT_OUTLOOK = "microsoft_outlook"

ResponseStatus = Literal["accepted", "declined", "tentative", "needsAction"]

# Graph's attendee/response values -> Google's vocabulary (the one we expose).
_OUTLOOK_RESPONSES: dict[str, ResponseStatus] = {
    "accepted": "accepted",
    "declined": "declined",
    "tentativelyaccepted": "tentative",
    "notresponded": "needsAction",
    "none": "needsAction",
    "organizer": "accepted",
}
_GOOGLE_RESPONSES: dict[str, ResponseStatus] = {
    "accepted": "accepted",
    "declined": "declined",
    "tentative": "tentative",
    "needsaction": "needsAction",
}


def parse_timestamp(value: Any) -> datetime:
    """Parse Recall's ISO 8601 forms (``Z``, ``+00:00``, any fraction) into an aware UTC datetime."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError("not an ISO 8601 timestamp") from None
    else:
        raise ValueError("not an ISO 8601 timestamp")
    if parsed.tzinfo is None:
        # Recall always sends UTC; a bare timestamp is taken as UTC rather than local time.
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        # "0001-01-01T00:00:00+01:00" has no UTC form; a ValueError keeps it a validation error, not a crash.
        raise ValueError("not an ISO 8601 timestamp") from None


def format_timestamp(value: datetime) -> str:
    """Render an aware datetime as ISO 8601 UTC with ``Z`` (microseconds only when present)."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError("naive datetime: pass an aware datetime (e.g. datetime.now(UTC))")
    utc = value.astimezone(UTC)
    timespec = "microseconds" if utc.microsecond else "seconds"
    return utc.replace(tzinfo=None).isoformat(timespec=timespec) + "Z"


UtcDatetime = Annotated[datetime, BeforeValidator(parse_timestamp)]


def _optional_timestamp(value: Any) -> datetime | None:
    return None if value is None or value == "" else parse_timestamp(value)


OptionalUtcDatetime = Annotated[datetime | None, BeforeValidator(_optional_timestamp)]


class _RecallModel(BaseModel):
    # hide_input_in_errors: a ValidationError must never print a response body.
    model_config = ConfigDict(extra="ignore", frozen=True, hide_input_in_errors=True)


class CalendarStatusChange(_RecallModel):
    """One entry of ``Calendar.status_changes``; extra keys (e.g. provider error codes) are kept."""

    model_config = ConfigDict(extra="allow", frozen=True, hide_input_in_errors=True)

    status: str
    created_at: OptionalUtcDatetime = None


class Calendar(_RecallModel):
    """A Recall calendar (the primary calendar of one Google / Microsoft account)."""

    id: str
    platform: str
    oauth_email: str | None = None
    platform_email: str | None = None
    status: str
    status_changes: list[CalendarStatusChange] = Field(default_factory=list)
    created_at: UtcDatetime
    updated_at: UtcDatetime

    @model_validator(mode="before")
    @classmethod
    def _drop_secrets(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if k not in SECRET_CALENDAR_FIELDS}
        return data

    @field_validator("status_changes", mode="before")
    @classmethod
    def _status_changes_list(cls, value: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, list):
            return [item for item in value if isinstance(item, dict)]
        return []


class CalendarEventBot(_RecallModel):
    """A bot scheduled for a calendar event (``CalendarEvent.bots[]``)."""

    bot_id: str
    start_time: UtcDatetime
    deduplication_key: str
    meeting_url: str | None = None


def _meeting_url(value: Any) -> Any:
    # Docs warn the spec's meeting_url type is unreliable; an object form is not a usable link.
    return value if value is None or isinstance(value, str) else None


def _raw(value: Any) -> Any:
    # The reference types raw as "string" although every example is an object.
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


class CalendarEvent(_RecallModel):
    """A calendar event as Recall syncs it, with the provider's own event in ``raw``."""

    id: str
    calendar_id: str
    platform: str = ""
    start_time: UtcDatetime
    end_time: UtcDatetime
    meeting_url: Annotated[str | None, BeforeValidator(_meeting_url)] = None
    meeting_platform: str | None = None
    is_deleted: bool = False
    ical_uid: str | None = None
    platform_id: str | None = None
    created_at: OptionalUtcDatetime = None
    updated_at: UtcDatetime
    raw: Annotated[dict[str, Any], BeforeValidator(_raw)] = Field(default_factory=dict, repr=False)
    bots: list[CalendarEventBot] = Field(default_factory=list)

    @property
    def is_google(self) -> bool:
        return self.platform == GOOGLE_CALENDAR

    @property
    def is_outlook(self) -> bool:
        return self.platform == MICROSOFT_OUTLOOK

    @property
    def title(self) -> str:
        """``raw.summary`` (Google) or ``raw.subject`` (Outlook); "" when absent."""
        key = "summary" if self.is_google else "subject" if self.is_outlook else None
        value = self.raw.get(key) if key else None
        return value if isinstance(value, str) else ""

    @property
    def organizer_email(self) -> str | None:
        value = _dig(self.raw, "organizer", "email") if self.is_google else None
        if self.is_outlook:
            value = _dig(self.raw, "organizer", "emailAddress", "address")
        return value if isinstance(value, str) and value else None

    @property
    def organizer_name(self) -> str | None:
        value = _dig(self.raw, "organizer", "displayName") if self.is_google else None
        if self.is_outlook:
            value = _dig(self.raw, "organizer", "emailAddress", "name")
        return value if isinstance(value, str) and value else None

    @property
    def is_organizer(self) -> bool:
        """Google ``raw.organizer.self``; Outlook ``raw.isOrganizer``."""
        if self.is_google:
            return _dig(self.raw, "organizer", "self") is True
        if self.is_outlook:
            return self.raw.get("isOrganizer") is True
        return False

    @property
    def self_response_status(self) -> ResponseStatus | None:
        """The calendar owner's RSVP in Google's vocabulary, or None when unknown."""
        if self.is_google:
            attendees = self.raw.get("attendees")
            if isinstance(attendees, list):
                for attendee in attendees:
                    if isinstance(attendee, dict) and attendee.get("self") is True:
                        status = attendee.get("responseStatus")
                        return _GOOGLE_RESPONSES.get(status.lower()) if isinstance(status, str) else None
            # Google omits attendees on events with no guests; the organiser is then going.
            return "accepted" if self.is_organizer else None
        if self.is_outlook:
            response = _dig(self.raw, "responseStatus", "response")
            if isinstance(response, str):
                return _OUTLOOK_RESPONSES.get(response.lower())
        return None

    @property
    def provider_created_at(self) -> datetime | None:
        """When the meeting was created at the provider: Google ``raw.created``, Graph ``raw.createdDateTime``."""
        key = "created" if self.is_google else "createdDateTime" if self.is_outlook else None
        value = self.raw.get(key) if key else None
        try:
            return _optional_timestamp(value)
        except ValueError:
            return None

    def participants(self, *, owner_emails: frozenset[str] = frozenset()) -> list[Participant]:
        """Attendees and organiser from the provider's event (Google ``raw.attendees`` / ``raw.organizer``, Graph
        ``raw.attendees[].emailAddress`` / ``raw.organizer.emailAddress``). ``owner_emails`` (lower-case) mark the
        calendar owner where the provider does not (Graph never flags "self")."""
        if self.is_google:
            return _google_participants(self.raw)
        if self.is_outlook:
            return _outlook_participants(self.raw, owner_emails)
        return []

    @property
    def recurring_series_id(self) -> str | None:
        """Google ``raw.recurringEventId``; Outlook ``raw.seriesMasterId``."""
        key = "recurringEventId" if self.is_google else "seriesMasterId" if self.is_outlook else None
        value = self.raw.get(key) if key else None
        return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class Participant:
    """Somebody in a meeting, from the provider's own event: an attendee or the organiser."""

    email: str
    is_self: bool  # the calendar's owner (Google says so; for Outlook the caller names the owner's addresses)
    is_organizer: bool
    is_resource: bool  # a room or equipment, not a person
    response: ResponseStatus | None


def _google_participants(raw: dict[str, Any]) -> list[Participant]:
    found: list[Participant] = []
    attendees = raw.get("attendees")
    for attendee in attendees if isinstance(attendees, list) else []:
        email = attendee.get("email") if isinstance(attendee, dict) else None
        if not isinstance(email, str) or "@" not in email:
            continue
        status = attendee.get("responseStatus")
        found.append(
            Participant(
                email=email.strip(),
                is_self=attendee.get("self") is True,
                is_organizer=attendee.get("organizer") is True,
                is_resource=attendee.get("resource") is True,
                response=_GOOGLE_RESPONSES.get(status.lower()) if isinstance(status, str) else None,
            )
        )
    organizer = _dig(raw, "organizer", "email")
    if isinstance(organizer, str) and "@" in organizer and not any(p.is_organizer for p in found):
        found.append(
            Participant(
                email=organizer.strip(),
                is_self=_dig(raw, "organizer", "self") is True,
                is_organizer=True,
                is_resource=False,
                response="accepted",
            )
        )
    return found


def _outlook_participants(raw: dict[str, Any], owner: frozenset[str]) -> list[Participant]:
    found: list[Participant] = []
    attendees = raw.get("attendees")
    for attendee in attendees if isinstance(attendees, list) else []:
        email = _dig(attendee, "emailAddress", "address")
        if not isinstance(email, str) or "@" not in email:
            continue
        response = _dig(attendee, "status", "response")
        found.append(
            Participant(
                email=email.strip(),
                is_self=email.strip().lower() in owner,
                is_organizer=False,
                is_resource=attendee.get("type") == "resource",
                response=_OUTLOOK_RESPONSES.get(response.lower()) if isinstance(response, str) else None,
            )
        )
    organizer = _dig(raw, "organizer", "emailAddress", "address")
    if isinstance(organizer, str) and "@" in organizer:
        found.append(
            Participant(
                email=organizer.strip(),
                is_self=raw.get("isOrganizer") is True or organizer.strip().lower() in owner,
                is_organizer=True,
                is_resource=False,
                response="accepted",
            )
        )
    return found


def _dig(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


# ---- bots ----------------------------------------------------------------------------------------

IN_CALL_RECORDING = "in_call_recording"
_OLDEST = datetime.min.replace(tzinfo=UTC)
_Item = TypeVar("_Item", bound=BaseModel)


def string_metadata(value: Any) -> dict[str, str]:
    """Recall ``metadata`` with only string keys and values: the spec allows null values and older bots may carry
    anything, so a caller can trust ``metadata["slack_user_id"]`` to be a str when present."""
    if not isinstance(value, Mapping):
        return {}
    return {key: item for key, item in value.items() if isinstance(key, str) and isinstance(item, str)}


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _lenient_timestamp(value: Any) -> datetime | None:
    # An unreadable expiry or creation time must not cost us the recording (and its URL).
    try:
        return _optional_timestamp(value)
    except ValueError:
        return None


def _object_or_none(value: Any) -> Any:
    return value if isinstance(value, dict) else None


def _skip_invalid(model: type[_Item]) -> Callable[[Any], list[_Item]]:
    """Validate a list item by item: one malformed entry is skipped, not fatal to the whole bot."""

    def keep_valid(value: Any) -> list[_Item]:
        kept: list[_Item] = []
        for item in value if isinstance(value, list) else []:
            try:
                kept.append(model.model_validate(item))
            except ValidationError:
                continue
        return kept

    return keep_valid


OptionalStr = Annotated[str | None, BeforeValidator(_optional_str)]
LenientUtcDatetime = Annotated[datetime | None, BeforeValidator(_lenient_timestamp)]


class BotStatusChange(_RecallModel):
    """One entry of ``Bot.status_changes`` (``joining_call``, ``in_call_recording``, ``done``, ``fatal``, ...).

    ``code`` is an open set: Recall adds codes without notice. The spec types ``sub_code`` and ``message`` as
    strings but Recall sends null for most codes."""

    code: str = Field(min_length=1)
    sub_code: OptionalStr = None
    message: OptionalStr = None
    created_at: UtcDatetime


class MediaShortcut(_RecallModel):
    """``media_shortcuts.video_mixed`` or ``.transcript`` of a recording, flattened to what the app uses.

    ``download_url`` is pre-signed and short-lived (6 hours for video): fetch it fresh, never store or log it."""

    id: OptionalStr = None
    status_code: OptionalStr = None
    download_url: str | None = Field(default=None, repr=False)

    @model_validator(mode="before")
    @classmethod
    def _flatten(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        status = data.get("status")
        payload = data.get("data")
        url = payload.get("download_url") if isinstance(payload, dict) else None
        return {
            "id": data.get("id"),
            "status_code": status.get("code") if isinstance(status, dict) else None,
            # Null until the media is done; "" is no more usable than null.
            "download_url": url if isinstance(url, str) and url else None,
        }


class RecordingShortcuts(_RecallModel):
    """The media shortcuts the app reads; the others (audio_mixed, participant_events, ...) are ignored."""

    video_mixed: Annotated[MediaShortcut | None, BeforeValidator(_object_or_none)] = None
    transcript: Annotated[MediaShortcut | None, BeforeValidator(_object_or_none)] = None


class BotRecording(_RecallModel):
    """One recording of a bot (``Bot.recordings[]``, spec ``BotRecordingEmbed``); a stop/start makes another."""

    id: str = Field(min_length=1)
    status_code: OptionalStr = None  # processing, paused, done, failed, deleted
    created_at: LenientUtcDatetime = None
    expires_at: LenientUtcDatetime = None
    media_shortcuts: RecordingShortcuts = Field(default_factory=RecordingShortcuts)

    @model_validator(mode="before")
    @classmethod
    def _flatten(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        status = data.get("status")
        shortcuts = data.get("media_shortcuts")
        return {
            "id": data.get("id"),
            "status_code": status.get("code") if isinstance(status, dict) else None,
            "created_at": data.get("created_at"),
            "expires_at": data.get("expires_at"),
            "media_shortcuts": shortcuts if isinstance(shortcuts, dict) else {},
        }

    @property
    def video_url(self) -> str | None:
        """The mixed mp4's pre-signed URL, once the video is ready."""
        shortcut = self.media_shortcuts.video_mixed
        return shortcut.download_url if shortcut else None

    @property
    def transcript_url(self) -> str | None:
        """The transcript JSON's URL, once a transcript was made and is ready."""
        shortcut = self.media_shortcuts.transcript
        return shortcut.download_url if shortcut else None


class Bot(_RecallModel):
    """A Recall bot as ``GET /api/v1/bot/{id}/`` returns it: metadata, status history and recordings."""

    id: str = Field(min_length=1)
    metadata: Annotated[dict[str, str], BeforeValidator(string_metadata)] = Field(default_factory=dict)
    status_changes: Annotated[list[BotStatusChange], BeforeValidator(_skip_invalid(BotStatusChange))] = Field(
        default_factory=list
    )
    recordings: Annotated[list[BotRecording], BeforeValidator(_skip_invalid(BotRecording))] = Field(
        default_factory=list
    )

    def recordings_newest_first(self) -> list[BotRecording]:
        """Recordings by ``created_at``, newest first; those without one keep Recall's order, after the rest."""
        return sorted(self.recordings, key=lambda recording: recording.created_at or _OLDEST, reverse=True)

    @property
    def video_url(self) -> str | None:
        """The newest recording's mp4 URL that is ready (pre-signed, expires: redirect to it, never store it)."""
        return next((r.video_url for r in self.recordings_newest_first() if r.video_url), None)

    @property
    def transcript_url(self) -> str | None:
        """The newest recording's transcript URL that is ready (short-lived like ``video_url``)."""
        return next((r.transcript_url for r in self.recordings_newest_first() if r.transcript_url), None)

    @property
    def recorded(self) -> bool:
        """Whether the bot recorded anything: Recall's own test after ``bot.done`` (in_call_recording or a
        recording)."""
        return bool(self.recordings) or any(change.code == IN_CALL_RECORDING for change in self.status_changes)

    @property
    def last_status(self) -> str | None:
        """The code of the latest status change (by ``created_at``; on a tie, the later one in the list)."""
        if not self.status_changes:
            return None
        latest = max(reversed(self.status_changes), key=lambda change: change.created_at)
        return latest.code
