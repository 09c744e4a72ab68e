"""Who is in a meeting, read from the provider's own event that Recall passes through in `raw`: Google Calendar v3
`Event` resources and Microsoft Graph `event` resources, shaped as the providers document them."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from recall.models import CalendarEvent, Participant
from slackbot.meetings.facts import bot_still_scheduled, facts_from_event

START = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
CALENDAR_ID = "c0ffee00-0000-4000-8000-000000000001"
MEMBER = "ada@acme.com"


def recall_event(raw: Any, *, platform: str, **overrides: Any) -> CalendarEvent:
    """A Recall Calendar V2 calendar-event object around the provider's event."""
    data: dict[str, Any] = {
        "id": "e0000000-0000-4000-8000-000000000001",
        "calendar_id": CALENDAR_ID,
        "platform": platform,
        "platform_id": "7cbh8rpc10lrc0ckih9tafss99_20240501T100000Z",
        "ical_uid": "7cbh8rpc10lrc0ckih9tafss99@google.com",
        "start_time": "2024-05-01T10:00:00Z",
        "end_time": "2024-05-01T10:30:00.000+00:00",
        "meeting_url": "https://meet.google.com/abc-defg-hij",
        "meeting_platform": "google_meet",
        "is_deleted": False,
        "created_at": "2024-04-01T09:00:00.123456Z",
        "updated_at": "2024-04-02T09:00:00Z",
        "raw": raw,
        "bots": [],
    }
    if raw is None:
        del data["raw"]
    data.update(overrides)
    return CalendarEvent.model_validate(data)


def google(raw: Any, **overrides: Any) -> CalendarEvent:
    return recall_event(raw, platform="google_calendar", **overrides)


def outlook(raw: Any, **overrides: Any) -> CalendarEvent:
    overrides.setdefault("meeting_url", "https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0")
    overrides.setdefault("meeting_platform", "microsoft_teams")
    overrides.setdefault("platform_id", "AAMkAGI2TG93AAA=")
    overrides.setdefault("ical_uid", "040000008200E00074C5B7101A82E008000000006A4C1B1D")
    return recall_event(raw, platform="microsoft_outlook", **overrides)


def by_email(people: list[Participant]) -> dict[str, Participant]:
    return {person.email: person for person in people}


# ---------------------------------------------------------------------------------------------------------------------
# Google Calendar API v3: Event resource (https://developers.google.com/calendar/api/v3/reference/events)
# ---------------------------------------------------------------------------------------------------------------------

# One occurrence of a weekly series on Ada's primary calendar, organised by someone at a partner company, with a
# meeting room booked and a Google Meet link.
GOOGLE_GUEST_EVENT: dict[str, Any] = {
    "kind": "calendar#event",
    "etag": '"3426851234567000"',
    "id": "7cbh8rpc10lrc0ckih9tafss99_20240501T100000Z",
    "status": "confirmed",
    "htmlLink": "https://www.google.com/calendar/event?eid=N2NiaDhycGMxMGxyYzBja2loOXRhZnNzOTk",
    "created": "2024-03-28T14:02:11.000Z",
    "updated": "2024-04-02T09:00:00.123Z",
    "summary": "Partner sync",
    "description": "Agenda: integration timeline",
    "location": "Berlin-4-Room (8)",
    "creator": {"email": "grace@partner.io", "displayName": "Grace Hopper"},
    "organizer": {"email": "grace@partner.io", "displayName": "Grace Hopper"},
    "start": {"dateTime": "2024-05-01T12:00:00+02:00", "timeZone": "Europe/Berlin"},
    "end": {"dateTime": "2024-05-01T12:30:00+02:00", "timeZone": "Europe/Berlin"},
    "recurringEventId": "7cbh8rpc10lrc0ckih9tafss99",
    "originalStartTime": {"dateTime": "2024-05-01T12:00:00+02:00", "timeZone": "Europe/Berlin"},
    "transparency": "opaque",
    "visibility": "default",
    "iCalUID": "7cbh8rpc10lrc0ckih9tafss99@google.com",
    "sequence": 2,
    "attendees": [
        {
            "email": "grace@partner.io",
            "displayName": "Grace Hopper",
            "organizer": True,
            "responseStatus": "accepted",
        },
        {"email": "ada@acme.com", "displayName": "Ada Lovelace", "self": True, "responseStatus": "tentative"},
        {"email": "Bob@Partner.IO", "displayName": "Bob", "responseStatus": "needsAction"},
        {"email": "dan@gmail.com", "optional": True, "responseStatus": "declined", "comment": "On leave"},
        {
            "email": "c_1888abcdef0123456789@resource.calendar.google.com",
            "displayName": "Berlin-4-Room (8)",
            "resource": True,
            "responseStatus": "accepted",
        },
    ],
    "hangoutLink": "https://meet.google.com/abc-defg-hij",
    "conferenceData": {
        "entryPoints": [
            {
                "entryPointType": "video",
                "uri": "https://meet.google.com/abc-defg-hij",
                "label": "meet.google.com/abc-defg-hij",
            },
            {
                "entryPointType": "more",
                "uri": "https://tel.meet/abc-defg-hij?pin=1234567890123",
                "pin": "1234567890123",
            },
            {
                "entryPointType": "phone",
                "uri": "tel:+49-30-1234-5678",
                "label": "+49 30 12345678",
                "pin": "123456789",
                "regionCode": "DE",
            },
        ],
        "conferenceSolution": {
            "key": {"type": "hangoutsMeet"},
            "name": "Google Meet",
            "iconUri": "https://fonts.gstatic.com/s/i/productlogos/meet_2020q4/v6/web-512dp/logo_meet_2020q4_color_2x_web_512dp.png",
        },
        "conferenceId": "abc-defg-hij",
    },
    "guestsCanModify": False,
    "reminders": {"useDefault": True},
    "eventType": "default",
}

# Ada organises: Google lists her as an attendee with organizer and self set, and says self on the organizer too.
GOOGLE_ORGANISER_EVENT: dict[str, Any] = {
    **GOOGLE_GUEST_EVENT,
    "id": "4fs2qkqq1ndm3b0qdk4d7hfkl0",
    "summary": "Quarterly planning",
    "creator": {"email": "ada@acme.com", "displayName": "Ada Lovelace", "self": True},
    "organizer": {"email": "ada@acme.com", "displayName": "Ada Lovelace", "self": True},
    "attendees": [
        {
            "email": "ada@acme.com",
            "displayName": "Ada Lovelace",
            "organizer": True,
            "self": True,
            "responseStatus": "accepted",
        },
        {"email": "grace@acme.com", "displayName": "Grace Hopper", "responseStatus": "accepted"},
        {"email": "bob@partner.io", "displayName": "Bob", "responseStatus": "tentative", "optional": True},
        {
            "email": "c_1888abcdef0123456789@resource.calendar.google.com",
            "displayName": "Berlin-4-Room (8)",
            "resource": True,
            "responseStatus": "accepted",
        },
    ],
}
del GOOGLE_ORGANISER_EVENT["recurringEventId"]
del GOOGLE_ORGANISER_EVENT["originalStartTime"]


def test_google_participants_of_a_guest() -> None:
    people = google(GOOGLE_GUEST_EVENT).participants()
    assert [p.email for p in people] == [
        "grace@partner.io",
        "ada@acme.com",
        "Bob@Partner.IO",
        "dan@gmail.com",
        "c_1888abcdef0123456789@resource.calendar.google.com",
    ]  # the organiser is an attendee already, so not added twice
    found = by_email(people)
    assert [p.email for p in people if p.is_self] == ["ada@acme.com"]
    assert [p.email for p in people if p.is_organizer] == ["grace@partner.io"]
    assert [p.email for p in people if p.is_resource] == ["c_1888abcdef0123456789@resource.calendar.google.com"]
    assert found["ada@acme.com"].response == "tentative"
    assert found["Bob@Partner.IO"].response == "needsAction"
    assert found["dan@gmail.com"].response == "declined"
    assert found["grace@partner.io"].response == "accepted"


def test_google_facts_of_a_guest() -> None:
    facts = facts_from_event(google(GOOGLE_GUEST_EVENT), owner_emails=frozenset({MEMBER}))
    # The member and the room are left out; Bob and Grace share one lower-cased domain.
    assert facts.attendee_domains == ("gmail.com", "partner.io")
    assert facts.organizer_is_self is False
    assert facts.self_response == "tentative"
    assert facts.series_id == "7cbh8rpc10lrc0ckih9tafss99"
    assert facts.title == "Partner sync"
    assert facts.organizer == "Grace Hopper"
    assert facts.meeting_url == "https://meet.google.com/abc-defg-hij"
    assert facts.start_time == START and facts.end_time == START + timedelta(minutes=30)
    assert facts.attendance.attendee_domains == facts.attendee_domains


def test_google_self_needs_no_owner_emails() -> None:
    """Google marks the calendar owner with `self: true`; the member is left out without being named."""
    facts = facts_from_event(google(GOOGLE_GUEST_EVENT))
    assert "acme.com" not in facts.attendee_domains
    assert facts.attendee_domains == ("gmail.com", "partner.io")


def test_google_participants_of_the_organiser() -> None:
    people = google(GOOGLE_ORGANISER_EVENT).participants()
    organisers = [p for p in people if p.is_organizer]
    assert len(organisers) == 1
    assert organisers[0].email == "ada@acme.com" and organisers[0].is_self is True
    facts = facts_from_event(google(GOOGLE_ORGANISER_EVENT), owner_emails=frozenset({MEMBER}))
    assert facts.organizer_is_self is True
    assert facts.self_response == "accepted"
    assert facts.attendee_domains == ("acme.com", "partner.io")  # Grace is a colleague; she still counts
    assert facts.series_id is None


def test_google_organiser_without_guests() -> None:
    """Google leaves `attendees` out of an event with no guests: the organiser is then the only participant."""
    raw = {key: value for key, value in GOOGLE_ORGANISER_EVENT.items() if key != "attendees"}
    people = google(raw).participants()
    assert people == [
        Participant("ada@acme.com", is_self=True, is_organizer=True, is_resource=False, response="accepted")
    ]
    facts = facts_from_event(google(raw))
    assert facts.attendee_domains == ()
    assert facts.organizer_is_self is True
    assert facts.self_response == "accepted"


def test_google_organiser_not_among_attendees_is_added() -> None:
    raw = copy.deepcopy(GOOGLE_GUEST_EVENT)
    raw["attendees"] = [a for a in raw["attendees"] if not a.get("organizer")]
    raw["organizer"] = {"email": "Grace@Partner.IO ", "displayName": "Grace Hopper"}
    people = google(raw).participants()
    organisers = [p for p in people if p.is_organizer]
    assert [(p.email, p.is_self, p.is_resource) for p in organisers] == [("Grace@Partner.IO", False, False)]
    assert "partner.io" in facts_from_event(google(raw)).attendee_domains


def test_google_member_alias_is_left_out_by_owner_emails() -> None:
    raw = copy.deepcopy(GOOGLE_GUEST_EVENT)
    raw["attendees"].append({"email": "Ada.Lovelace@Acme-Labs.io", "responseStatus": "accepted"})
    assert "acme-labs.io" in facts_from_event(google(raw), owner_emails=frozenset({MEMBER})).attendee_domains
    owners = frozenset({MEMBER, "ada.lovelace@acme-labs.io"})
    assert facts_from_event(google(raw), owner_emails=owners).attendee_domains == ("gmail.com", "partner.io")


def test_google_team_calendar_organiser_is_not_an_outside_attendee() -> None:
    """An event created on a shared team calendar has that calendar as its organizer (its id, at
    group.calendar.google.com), as Google's Calendar concepts guide describes. A calendar is not a person from
    outside the company: a meeting between colleagues must not read as external."""
    raw = copy.deepcopy(GOOGLE_ORGANISER_EVENT)
    raw["creator"] = {"email": "grace@acme.com", "displayName": "Grace Hopper"}
    raw["organizer"] = {"email": "c_0123456789abcdef@group.calendar.google.com", "displayName": "Platform team"}
    raw["attendees"] = [
        {"email": "ada@acme.com", "self": True, "responseStatus": "accepted"},
        {"email": "grace@acme.com", "responseStatus": "accepted"},
    ]
    facts = facts_from_event(google(raw), owner_emails=frozenset({MEMBER}))
    assert facts.attendee_domains == ("acme.com",)


# ---------------------------------------------------------------------------------------------------------------------
# Microsoft Graph v1.0: event resource (https://learn.microsoft.com/graph/api/resources/event)
# ---------------------------------------------------------------------------------------------------------------------

# One occurrence of a series on Ada's calendar, organised by a partner, with a room and a Teams meeting. Graph's copy
# for an attendee lists her among the attendees (status as the organiser last saw it) and gives her own answer in
# `responseStatus`; nothing in it says "self".
GRAPH_GUEST_EVENT: dict[str, Any] = {
    "@odata.etag": 'W/"ZlnW4RIAV06KYYwlrfNZvQAAKGWwbw=="',
    "id": "AAMkAGI2TG93AAA=",
    "createdDateTime": "2024-03-28T14:02:11.1234567Z",
    "lastModifiedDateTime": "2024-04-02T09:00:00.7654321Z",
    "changeKey": "ZlnW4RIAV06KYYwlrfNZvQAAKGW0bw==",
    "categories": [],
    "transactionId": None,
    "originalStartTimeZone": "W. Europe Standard Time",
    "originalEndTimeZone": "W. Europe Standard Time",
    "iCalUId": "040000008200E00074C5B7101A82E008000000006A4C1B1D",
    "reminderMinutesBeforeStart": 15,
    "isReminderOn": True,
    "hasAttachments": False,
    "subject": "Contract review",
    "bodyPreview": "Agenda: the renewal terms",
    "importance": "normal",
    "sensitivity": "normal",
    "isAllDay": False,
    "isCancelled": False,
    "isOrganizer": False,
    "responseRequested": True,
    "seriesMasterId": "AAMkAGI2TG93SERIES=",
    "showAs": "tentative",
    "type": "occurrence",
    "webLink": "https://outlook.office365.com/owa/?itemid=AAMkAGI2TG93AAA%3D&exvsurl=1&path=/calendar/item",
    "onlineMeetingUrl": None,
    "isOnlineMeeting": True,
    "onlineMeetingProvider": "teamsForBusiness",
    "allowNewTimeProposals": True,
    "isDraft": False,
    "hideAttendees": False,
    "responseStatus": {"response": "tentativelyAccepted", "time": "2024-04-02T09:00:00Z"},
    "body": {"contentType": "html", "content": "<html><body>Agenda: the renewal terms</body></html>"},
    "start": {"dateTime": "2024-05-01T10:00:00.0000000", "timeZone": "UTC"},
    "end": {"dateTime": "2024-05-01T10:30:00.0000000", "timeZone": "UTC"},
    "location": {
        "displayName": "Conf Room 4",
        "locationType": "conferenceRoom",
        "uniqueId": "conf4@contoso.com",
        "uniqueIdType": "directory",
    },
    "locations": [
        {
            "displayName": "Conf Room 4",
            "locationType": "conferenceRoom",
            "uniqueId": "conf4@contoso.com",
            "uniqueIdType": "directory",
        }
    ],
    "recurrence": None,
    "attendees": [
        {
            "type": "required",
            "status": {"response": "none", "time": "0001-01-01T00:00:00Z"},
            "emailAddress": {"name": "Ada Lovelace", "address": "Ada@Contoso.com"},
        },
        {
            "type": "required",
            "status": {"response": "accepted", "time": "2024-03-29T08:00:00Z"},
            "emailAddress": {"name": "Bob Smith", "address": "bob@fabrikam.com"},
        },
        {
            "type": "optional",
            "status": {"response": "tentativelyAccepted", "time": "2024-03-29T08:30:00Z"},
            "emailAddress": {"name": "Carol Jones", "address": "CAROL@FABRIKAM.COM"},
        },
        {
            "type": "resource",
            "status": {"response": "accepted", "time": "2024-03-28T14:02:12Z"},
            "emailAddress": {"name": "Conf Room 4", "address": "conf4@contoso.com"},
        },
    ],
    "organizer": {"emailAddress": {"name": "Grace Hopper", "address": "grace@fabrikam.com"}},
    "onlineMeeting": {
        "joinUrl": "https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0?context=%7b%7d"
    },
}
GRAPH_MEMBER = "ada@contoso.com"

# Ada organises: `isOrganizer` is true, her answer is "organizer", and Graph lists only the invitees as attendees.
GRAPH_ORGANISER_EVENT: dict[str, Any] = {
    **GRAPH_GUEST_EVENT,
    "id": "AAMkAGI2TG94AAA=",
    "subject": "Quarterly planning",
    "isOrganizer": True,
    "seriesMasterId": None,
    "type": "singleInstance",
    "showAs": "busy",
    "responseStatus": {"response": "organizer", "time": "0001-01-01T00:00:00Z"},
    "attendees": [
        {
            "type": "required",
            "status": {"response": "accepted", "time": "2024-03-29T08:00:00Z"},
            "emailAddress": {"name": "Bob Smith", "address": "bob@fabrikam.com"},
        },
        {
            "type": "optional",
            "status": {"response": "notResponded", "time": "0001-01-01T00:00:00Z"},
            "emailAddress": {"name": "Carol Jones", "address": "carol@contoso.com"},
        },
    ],
    "organizer": {"emailAddress": {"name": "Ada Lovelace", "address": "ada@contoso.com"}},
}


def test_graph_participants_of_a_guest() -> None:
    people = outlook(GRAPH_GUEST_EVENT).participants(owner_emails=frozenset({GRAPH_MEMBER}))
    found = by_email(people)
    assert set(found) == {
        "Ada@Contoso.com",
        "bob@fabrikam.com",
        "CAROL@FABRIKAM.COM",
        "conf4@contoso.com",
        "grace@fabrikam.com",
    }
    assert [p.email for p in people if p.is_self] == ["Ada@Contoso.com"]  # by owner_emails, whatever the case
    assert [p.email for p in people if p.is_organizer] == ["grace@fabrikam.com"]
    assert [p.email for p in people if p.is_resource] == ["conf4@contoso.com"]
    assert found["Ada@Contoso.com"].response == "needsAction"
    assert found["bob@fabrikam.com"].response == "accepted"
    assert found["CAROL@FABRIKAM.COM"].response == "tentative"


def test_graph_facts_of_a_guest() -> None:
    facts = facts_from_event(outlook(GRAPH_GUEST_EVENT), owner_emails=frozenset({GRAPH_MEMBER}))
    # The member and the room (both at contoso.com) are left out; the rest share one lower-cased domain.
    assert facts.attendee_domains == ("fabrikam.com",)
    assert facts.organizer_is_self is False
    assert facts.self_response == "tentative"  # Graph's tentativelyAccepted
    assert facts.series_id == "AAMkAGI2TG93SERIES="
    assert facts.title == "Contract review"
    assert facts.organizer == "Grace Hopper"
    assert facts.meeting_platform == "microsoft_teams"


def test_graph_self_needs_owner_emails() -> None:
    """Graph never says which attendee is the calendar owner: without owner_emails the member is just a person."""
    people = outlook(GRAPH_GUEST_EVENT).participants()
    assert not any(p.is_self for p in people)
    assert facts_from_event(outlook(GRAPH_GUEST_EVENT)).attendee_domains == ("contoso.com", "fabrikam.com")


def test_graph_participants_of_the_organiser() -> None:
    event = outlook(GRAPH_ORGANISER_EVENT)
    organisers = [p for p in event.participants() if p.is_organizer]
    # isOrganizer marks the organiser as the member even without owner_emails.
    assert [(p.email, p.is_self, p.response) for p in organisers] == [("ada@contoso.com", True, "accepted")]
    facts = facts_from_event(event, owner_emails=frozenset({GRAPH_MEMBER}))
    assert facts.organizer_is_self is True
    assert facts.self_response == "accepted"  # Graph's "organizer"
    assert facts.attendee_domains == ("contoso.com", "fabrikam.com")  # Carol is a colleague; she still counts
    assert facts.series_id is None
    assert by_email(event.participants())["carol@contoso.com"].response == "needsAction"


@pytest.mark.parametrize(
    ("graph", "ours"),
    [
        ("accepted", "accepted"),
        ("tentativelyAccepted", "tentative"),
        ("declined", "declined"),
        ("notResponded", "needsAction"),
        ("none", "needsAction"),
        ("organizer", "accepted"),
    ],
)
def test_graph_answers_in_googles_words(graph: str, ours: str) -> None:
    raw = copy.deepcopy(GRAPH_GUEST_EVENT)
    raw["responseStatus"]["response"] = graph
    raw["attendees"][1]["status"]["response"] = graph
    event = outlook(raw)
    assert facts_from_event(event, owner_emails=frozenset({GRAPH_MEMBER})).self_response == ours
    assert by_email(event.participants())["bob@fabrikam.com"].response == ours


def test_graph_organiser_named_by_owner_emails_without_is_organizer() -> None:
    raw = {key: value for key, value in GRAPH_ORGANISER_EVENT.items() if key != "isOrganizer"}
    organisers = [p for p in outlook(raw).participants(owner_emails=frozenset({GRAPH_MEMBER})) if p.is_organizer]
    assert [p.is_self for p in organisers] == [True]
    assert facts_from_event(outlook(raw)).organizer_is_self is False  # only isOrganizer says "you organise"


# ---------------------------------------------------------------------------------------------------------------------
# Malformed documents: odd entries are ignored, never an error
# ---------------------------------------------------------------------------------------------------------------------


def test_google_malformed_entries_are_ignored() -> None:
    raw = copy.deepcopy(GOOGLE_GUEST_EVENT)
    raw["attendees"] = [
        {"displayName": "No email at all", "responseStatus": "accepted"},
        {"email": None},
        {"email": 42},
        {"email": "not-an-address"},
        {"email": ""},
        "eve@evil.example",
        None,
        7,
        ["mallory@evil.example"],
        {"email": " Bob@Partner.IO ", "responseStatus": 5, "self": "true", "resource": "yes"},
        {"email": "ada@acme.com", "self": True, "responseStatus": "somethingNew"},
    ]
    raw["organizer"] = "grace@partner.io"
    event = google(raw)
    people = event.participants()
    assert people == [
        Participant("Bob@Partner.IO", is_self=False, is_organizer=False, is_resource=False, response=None),
        Participant("ada@acme.com", is_self=True, is_organizer=False, is_resource=False, response=None),
    ]
    facts = facts_from_event(event)
    assert facts.attendee_domains == ("partner.io",)
    assert facts.self_response is None
    assert facts.organizer_is_self is False and facts.organizer is None


def test_graph_malformed_entries_are_ignored() -> None:
    raw = copy.deepcopy(GRAPH_GUEST_EVENT)
    raw["attendees"] = [
        {"type": "required"},
        {"type": "required", "emailAddress": None},
        {"type": "required", "emailAddress": {"name": "Only a name"}},
        {"type": "required", "emailAddress": {"address": 42}},
        {"type": "required", "emailAddress": "bob@fabrikam.com"},
        "eve@evil.example",
        None,
        {"type": "optional", "status": None, "emailAddress": {"address": "carol@fabrikam.com"}},
        {"status": {"response": 7}, "emailAddress": {"address": "dave@northwind.example"}},
    ]
    # Graph gives an Exchange legacy DN instead of an SMTP address for some organisers.
    raw["organizer"] = {
        "emailAddress": {"name": "Grace Hopper", "address": "/O=EXCHANGELABS/OU=EXCHANGE ADMINISTRATIVE GROUP/CN=GRACE"}
    }
    event = outlook(raw)
    people = event.participants(owner_emails=frozenset({GRAPH_MEMBER}))
    assert [(p.email, p.response, p.is_organizer) for p in people] == [
        ("carol@fabrikam.com", None, False),
        ("dave@northwind.example", None, False),
    ]
    assert facts_from_event(event).attendee_domains == ("fabrikam.com", "northwind.example")


@pytest.mark.parametrize(
    "raw",
    [
        {"attendees": {"email": "bob@partner.io"}, "organizer": ["grace@partner.io"]},
        {"attendees": "bob@partner.io", "organizer": None},
        {"attendees": None, "organizer": {"emailAddress": None, "email": None}},
        {},
    ],
    ids=["attendees-object", "attendees-string", "nulls", "empty"],
)
@pytest.mark.parametrize("platform", ["google_calendar", "microsoft_outlook"])
def test_odd_shapes_give_nobody(raw: dict[str, Any], platform: str) -> None:
    event = recall_event(raw, platform=platform)
    assert event.participants(owner_emails=frozenset({MEMBER})) == []
    facts = facts_from_event(event, owner_emails=frozenset({MEMBER}))
    assert facts.attendee_domains == ()
    assert facts.organizer_is_self is False


@pytest.mark.parametrize(
    "raw",
    [None, "null", "not json", "[1, 2]", [], 42],
    ids=["missing", "json-null", "not-json", "json-list", "list", "number"],
)
@pytest.mark.parametrize("platform", ["google_calendar", "microsoft_outlook"])
def test_missing_or_unusable_raw_gives_nobody(raw: Any, platform: str) -> None:
    event = recall_event(raw, platform=platform)
    assert event.raw == {}
    assert event.participants(owner_emails=frozenset({MEMBER})) == []
    facts = facts_from_event(event, owner_emails=frozenset({MEMBER}))
    assert facts.attendee_domains == ()
    assert facts.title == "" and facts.self_response is None and facts.series_id is None
    assert facts.organizer_is_self is False


def test_raw_as_a_json_string_is_read() -> None:
    """The reference types `raw` as a string; a JSON-encoded provider event is read like the object."""
    as_text = facts_from_event(google(json.dumps(GOOGLE_GUEST_EVENT)), owner_emails=frozenset({MEMBER}))
    as_object = facts_from_event(google(GOOGLE_GUEST_EVENT), owner_emails=frozenset({MEMBER}))
    assert as_text == as_object


def test_unknown_platform_has_no_participants() -> None:
    event = recall_event(GOOGLE_GUEST_EVENT, platform="zoom_calendar")
    assert event.participants(owner_emails=frozenset({MEMBER})) == []
    assert facts_from_event(event).attendee_domains == ()


def test_participants_do_not_change_the_event() -> None:
    raw = copy.deepcopy(GRAPH_GUEST_EVENT)
    event = outlook(raw)
    facts_from_event(event, owner_emails=frozenset({GRAPH_MEMBER}))
    assert event.raw == GRAPH_GUEST_EVENT


@pytest.mark.parametrize(
    ("bots", "key", "still"),
    [
        ([], "key-1", False),  # Recall lists no bot: ours is gone
        ([{"bot_id": "b1", "start_time": "2024-05-01T10:00:00Z", "deduplication_key": "key-1"}], "key-1", True),
        ([{"bot_id": "b1", "start_time": "2024-05-01T10:00:00Z", "deduplication_key": "key-2"}], "key-1", False),
        ([{"bot_id": "b1", "start_time": "2024-05-01T10:00:00Z", "deduplication_key": "key-1"}], None, False),
    ],
)
def test_bot_still_scheduled_only_under_our_key(bots: list[dict[str, Any]], key: str | None, still: bool) -> None:
    assert bot_still_scheduled(google(None, bots=bots), key) is still
