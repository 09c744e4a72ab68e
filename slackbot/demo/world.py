"""The demo's world as plain data: one workspace, its members, and the meetings a newly connected calendar holds.

Pure: ``sample_meetings`` is a function of the member, the workspace and the time, so the demo always shows
the same kind of week, and colleagues' calendars share the meetings they both attend (same link and start:
Recall's deduplication key, so they share one bot). The week was planned before the member connected, as a real
calendar's is: the app lists it in the one message it sends on connecting; meetings added later in the calendar
panel are new and get a DM of their own.
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

    @property
    def made_at(self) -> datetime:
        """When it was put in the calendar: the week before, long before the member connected."""
        return self.start_time - PLANNED_AHEAD


PLANNED_AHEAD = timedelta(days=7)


def next_half_hour(now: datetime) -> datetime:
    base = now.replace(second=0, microsecond=0)
    return base + timedelta(minutes=30 - base.minute % 30)


def sample_meetings(member: Member, start: datetime) -> list[SampleMeeting]:
    """The week a calendar holds when it connects, from ``start`` (the demo's anchor, on a half hour): a team
    meeting everyone shares (one bot for all), a 1:1 both sides share, one with a customer, and one without a video
    link (the app leaves those alone). Colleagues connecting with the same ``start`` share the same meetings."""
    team = tuple(m.email for m in MEMBERS)
    colleague = MEMBERS[1] if member == MEMBERS[0] else MEMBERS[0]
    pair = sorted((member, colleague), key=MEMBERS.index)
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
            f"1:1 {pair[0].first_name} / {pair[1].first_name}",
            start + timedelta(hours=3),
            30,
            f"https://meet.google.com/one-{pair[0].name[:3]}-{pair[1].name[:3]}",
            pair[0].email,
            (pair[0].email, pair[1].email),
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
