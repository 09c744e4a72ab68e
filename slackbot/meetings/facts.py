"""A Recall calendar event as the plain facts the decision needs (both providers' `raw` shapes, via recall.models)."""

from __future__ import annotations

from recall.models import CalendarEvent
from slackbot.meetings.decision import MeetingFacts, dedup_key
from slackbot.meetings.rules import domain_of, is_calendar_address


def facts_from_event(event: CalendarEvent, *, owner_emails: frozenset[str] = frozenset()) -> MeetingFacts:
    """``owner_emails`` (lower-case): the member's addresses on this calendar, so they count as themselves."""
    people = event.participants(owner_emails=owner_emails)
    others = sorted(
        {
            domain
            for person in people
            if not person.is_self and not person.is_resource and person.email.lower() not in owner_emails
            for domain in [domain_of(person.email)]
            if domain and not is_calendar_address(domain)
        }
    )
    return MeetingFacts(
        title=event.title or "",
        start_time=event.start_time,
        end_time=event.end_time,
        meeting_url=event.meeting_url or None,
        meeting_platform=event.meeting_platform,
        organizer=event.organizer_name or event.organizer_email,
        is_deleted=event.is_deleted,
        self_response=event.self_response_status,
        series_id=event.recurring_series_id,
        organizer_is_self=event.is_organizer,
        attendee_domains=tuple(others),
    )


def key_of(facts: MeetingFacts) -> str | None:
    """The meeting's deduplication key as it is now (None: no link, so no bot can join)."""
    return dedup_key(facts.start_time, facts.meeting_url) if facts.meeting_url else None


def bot_still_scheduled(event: CalendarEvent, key: str | None) -> bool:
    """Recall lists the event's bots: is ours (scheduled under ``key``) still one of them?"""
    return key is not None and any(bot.deduplication_key == key for bot in event.bots)
