"""Typed models: timestamp parsing, provider-specific properties, secrets dropped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from recall.models import Calendar, CalendarEvent, format_timestamp, parse_timestamp

EXPECTED = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T10:00:00Z", EXPECTED),
        ("2024-05-01T10:00:00+00:00", EXPECTED),
        ("2024-05-01T12:00:00+02:00", EXPECTED),
        ("2024-05-01T10:00:00", EXPECTED),  # naive: Recall means UTC
        ("2024-05-01T10:00:00.723Z", EXPECTED.replace(microsecond=723000)),
        ("2024-05-01T10:00:00.570998+00:00", EXPECTED.replace(microsecond=570998)),
        ("2024-05-01T10:00:00.1234567Z", EXPECTED.replace(microsecond=123456)),  # Graph's 7 digits
    ],
)
def test_parse_timestamp_forms(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize("bad", ["", "yesterday", "2024-13-01T00:00:00Z", 1714557600, None])
def test_parse_timestamp_rejects(bad: Any) -> None:
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_timestamp(bad)


def test_format_timestamp() -> None:
    assert format_timestamp(EXPECTED) == "2024-05-01T10:00:00Z"
    assert format_timestamp(EXPECTED.replace(microsecond=570998)) == "2024-05-01T10:00:00.570998Z"
    assert format_timestamp(datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))) == "2024-05-01T10:00:00Z"
    with pytest.raises(ValueError, match="naive"):
        format_timestamp(datetime(2024, 5, 1, 10, 0))


CALENDAR = {
    "id": "c0ffee00-0000-4000-8000-000000000001",
    "oauth_client_id": "client.apps.googleusercontent.com",
    "oauth_client_secret": "GOCSPX-very-secret",
    "oauth_refresh_token": "1//0g-refresh-token",
    "platform": "google_calendar",
    "webhook_url": "https://example.com/hook",
    "oauth_email": "ada@example.com",
    "platform_email": None,
    "status": "disconnected",
    "status_changes": [
        {"status": "connecting", "created_at": "2024-05-01T10:00:00.000001Z"},
        {"status": "connected", "created_at": "2024-05-01T10:00:05Z"},
        {"status": "disconnected", "created_at": "2024-05-02T10:00:00+00:00", "sub_code": "invalid_grant"},
    ],
    "created_at": "2024-05-01T10:00:00.000001Z",
    "updated_at": "2024-05-02T10:00:00+00:00",
}


def test_calendar_drops_secrets() -> None:
    calendar = Calendar.model_validate(CALENDAR)
    assert calendar.status == "disconnected"
    assert calendar.status_changes[-1].status == "disconnected"
    assert calendar.status_changes[-1].model_extra == {"sub_code": "invalid_grant"}
    assert calendar.updated_at == datetime(2024, 5, 2, 10, 0, tzinfo=UTC)
    dumped = calendar.model_dump()
    assert "oauth_client_secret" not in dumped and "oauth_refresh_token" not in dumped
    for text in (repr(calendar), str(calendar), calendar.model_dump_json()):
        assert "GOCSPX" not in text and "1//0g" not in text
    assert not hasattr(calendar, "oauth_refresh_token")


def test_calendar_validation_errors_hide_inputs() -> None:
    broken = {**CALENDAR, "created_at": "GOCSPX-in-a-date-field"}
    del broken["status"]
    with pytest.raises(ValidationError) as caught:
        Calendar.model_validate(broken)
    assert "GOCSPX" not in str(caught.value) and "1//0g" not in str(caught.value)


def test_calendar_tolerates_missing_optionals_and_odd_status_changes() -> None:
    minimal = {k: v for k, v in CALENDAR.items() if k not in ("oauth_email", "platform_email", "webhook_url")}
    calendar = Calendar.model_validate({**minimal, "status_changes": None, "status": "connecting"})
    assert calendar.oauth_email is None and calendar.status_changes == []


def google_event(raw: dict[str, Any], **overrides: Any) -> CalendarEvent:
    data = {
        "id": "e0000000-0000-4000-8000-000000000001",
        "calendar_id": CALENDAR["id"],
        "platform": "google_calendar",
        "platform_id": "abc123",
        "ical_uid": "abc123@google.com",
        "start_time": "2024-05-01T10:00:00Z",
        "end_time": "2024-05-01T10:30:00.000+00:00",
        "meeting_url": "https://meet.google.com/abc-defg-hij",
        "meeting_platform": "google_meet",
        "is_deleted": False,
        "created_at": "2024-04-01T09:00:00.123456Z",
        "updated_at": "2024-04-02T09:00:00Z",
        "raw": raw,
        "bots": [
            {
                "bot_id": "b0000000-0000-4000-8000-000000000001",
                "start_time": "2024-05-01T09:58:00Z",
                "deduplication_key": "2024-05-01T10:00:00Z-https://meet.google.com/abc-defg-hij",
                "meeting_url": "https://meet.google.com/abc-defg-hij",
            }
        ],
    }
    data.update(overrides)
    return CalendarEvent.model_validate(data)


def test_google_event_properties() -> None:
    event = google_event(
        {
            "summary": "Planning",
            "organizer": {"email": "grace@example.com", "displayName": "Grace"},
            "attendees": [
                {"email": "grace@example.com", "organizer": True, "responseStatus": "accepted"},
                {"email": "ada@example.com", "self": True, "responseStatus": "declined"},
            ],
            "recurringEventId": "series1",
        }
    )
    assert event.title == "Planning"
    assert (event.organizer_email, event.organizer_name) == ("grace@example.com", "Grace")
    assert event.self_response_status == "declined"
    assert event.recurring_series_id == "series1"
    assert event.is_organizer is False
    assert event.start_time == EXPECTED and event.end_time == EXPECTED + timedelta(minutes=30)
    assert event.bots[0].start_time == EXPECTED - timedelta(minutes=2)
    assert "raw" not in repr(event)  # provider bodies stay out of reprs


@pytest.mark.parametrize("status", ["accepted", "declined", "tentative", "needsAction"])
def test_google_self_response(status: str) -> None:
    event = google_event({"attendees": [{"email": "a@example.com", "self": True, "responseStatus": status}]})
    assert event.self_response_status == status


def test_google_organiser_without_attendees_is_going() -> None:
    event = google_event({"summary": "Focus", "organizer": {"email": "ada@example.com", "self": True}})
    assert event.is_organizer is True
    assert event.self_response_status == "accepted"
    assert google_event({"summary": "x"}).self_response_status is None


def outlook_event(raw: dict[str, Any]) -> CalendarEvent:
    return google_event(raw, platform="microsoft_outlook", meeting_url=None, meeting_platform=None, bots=[])


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ("accepted", "accepted"),
        ("declined", "declined"),
        ("tentativelyAccepted", "tentative"),
        ("notResponded", "needsAction"),
        ("none", "needsAction"),
        ("organizer", "accepted"),
        ("somethingNew", None),
    ],
)
def test_outlook_self_response(graph: str, expected: str | None) -> None:
    event = outlook_event({"responseStatus": {"response": graph, "time": "0001-01-01T00:00:00Z"}})
    assert event.self_response_status == expected


def test_outlook_event_properties() -> None:
    event = outlook_event(
        {
            "subject": "Quarterly review",
            "organizer": {"emailAddress": {"name": "Bob", "address": "bob@contoso.example"}},
            "isOrganizer": True,
            "seriesMasterId": "AAMkSeries=",
            "summary": "not the title on Outlook",
        }
    )
    assert event.title == "Quarterly review"
    assert (event.organizer_email, event.organizer_name) == ("bob@contoso.example", "Bob")
    assert event.is_organizer is True
    assert event.recurring_series_id == "AAMkSeries="
    assert event.meeting_url is None and event.bots == []


def test_unknown_platform_and_odd_shapes() -> None:
    event = google_event(
        '{"summary": "raw sent as a JSON string"}',
        platform="zoom_calendar",
        meeting_url={"meeting_id": "123", "platform": "zoom"},
    )
    assert event.raw == {"summary": "raw sent as a JSON string"}
    assert event.title == "" and event.organizer_email is None and event.recurring_series_id is None
    assert event.self_response_status is None and event.is_organizer is False
    assert event.meeting_url is None  # an object-shaped meeting_url is not a usable link
    assert google_event(None).raw == {}
    assert google_event({"summary": 5, "organizer": "nobody"}).title == ""
