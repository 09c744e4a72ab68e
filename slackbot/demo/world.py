"""The demo's world as plain data: one workspace, its members, and the meetings a newly connected calendar holds.

Pure: ``sample_meetings`` is a function of the member, the workspace and the time, so the demo always shows
the same kind of week, and colleagues' calendars share the meetings they both attend (same link and start:
Recall's deduplication key, so they share one bot).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

TEAM_ID = "T0ACMEDEMO"
TEAM_NAME = "Acme (demo)"
APP_NAME = "Recall for Slack"


@dataclass(frozen=True)
class Member:
    user_id: str
    name: str  # Slack handle
    real_name: str
    email: str
    tz: str
    is_admin: bool = False

    @property
    def first_name(self) -> str:
        return self.real_name.split()[0]


MEMBERS: tuple[Member, ...] = (
    Member("U0ADALOVE", "ada", "Ada Lovelace", "ada@acme.test", "Europe/London", is_admin=True),
    Member("U0GRACEHO", "grace", "Grace Hopper", "grace@acme.test", "America/New_York"),
    Member("U0ALANTUR", "alan", "Alan Turing", "alan@acme.test", "Europe/Berlin"),
)


def member_by_id(user_id: str) -> Member | None:
    return next((m for m in MEMBERS if m.user_id == user_id), None)


def member_by_email(email: str | None) -> Member | None:
    wanted = (email or "").lower()
    return next((m for m in MEMBERS if m.email == wanted), None)


@dataclass(frozen=True)
class SampleMeeting:
    """What ``FakeRecall.add_event`` is given for one meeting."""

    title: str
    start_time: datetime
    minutes: int
    meeting_url: str | None
    organizer_email: str
    attendees: tuple[str, ...] = field(default=())

    @property
    def end_time(self) -> datetime:
        return self.start_time + timedelta(minutes=self.minutes)


def next_half_hour(now: datetime) -> datetime:
    base = now.replace(second=0, microsecond=0)
    return base + timedelta(minutes=30 - base.minute % 30)


def sample_meetings(member: Member, now: datetime) -> list[SampleMeeting]:
    """The week a calendar holds when it connects: a team meeting everyone shares (one bot for all), one the
    member organises, one with a customer, and one without a video link (the app leaves those alone)."""
    start = next_half_hour(now)
    team = tuple(m.email for m in MEMBERS)
    others = [m for m in MEMBERS if m != member]
    colleague = others[0]
    return [
        SampleMeeting(
            "Weekly product sync",
            start + timedelta(hours=1),
            45,
            "https://meet.google.com/acm-ewek-lys",
            MEMBERS[0].email,
            team,
        ),
        SampleMeeting(
            f"1:1 {member.first_name} / {colleague.first_name}",
            start + timedelta(hours=3),
            30,
            f"https://meet.google.com/one-{member.name[:3]}-{colleague.name[:3]}",
            member.email,
            (member.email, colleague.email),
        ),
        SampleMeeting(
            "Customer call: Globex onboarding",
            start + timedelta(days=1, hours=2),
            60,
            "https://us02web.zoom.us/j/81234567890",
            "sam@globex.example",
            (member.email, "sam@globex.example"),
        ),
        SampleMeeting("Lunch", start + timedelta(hours=5), 60, None, member.email, (member.email,)),
    ]
