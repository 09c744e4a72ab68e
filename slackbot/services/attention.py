"""What a member hears: a DM per new meeting (each / undecided / off), the daily agenda's time, reminders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from slackbot.meetings.attention import DEFAULT_AGENDA_MINUTE, Notify
from slackbot.requester import Requester
from storage import members
from storage.db import Database
from storage.models import Member, utcnow


@dataclass(frozen=True)
class AttentionSettings:
    notify: Notify
    agenda_minute: int | None
    remind: bool


def _of(member: Member | None) -> AttentionSettings:
    if member is None:
        return AttentionSettings(Notify.EACH, DEFAULT_AGENDA_MINUTE, True)
    notify = Notify(member.notify) if member.notify in Notify._value2member_map_ else Notify.EACH
    return AttentionSettings(notify, member.agenda_minute, member.remind)


class AttentionService:
    def __init__(self, *, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self._clock = clock

    async def settings(self, requester: Requester) -> AttentionSettings:
        async with self._db.transaction() as session:
            return _of(await members.find_member(session, team_id=requester.team_id, slack_user_id=requester.user_id))

    async def change(
        self,
        requester: Requester,
        *,
        notify: Notify | None = None,
        agenda_minute: int | type[...] | None = ...,
        remind: bool | None = None,
    ) -> AttentionSettings:
        """Change what is given (``agenda_minute=None`` turns the agenda off); returns the settings now."""
        async with self._db.transaction() as session:
            member = await members.get_or_create_member(
                session,
                team_id=requester.team_id,
                slack_user_id=requester.user_id,
                enterprise_id=requester.enterprise_id,
            )
            if notify is not None:
                member.notify = notify.value
            if agenda_minute is not ...:
                member.agenda_minute = agenda_minute  # type: ignore[assignment]
            if remind is not None:
                member.remind = remind
            member.home_due_at = member.home_due_at or self._clock()  # an open Home shows the new settings
            return _of(member)
