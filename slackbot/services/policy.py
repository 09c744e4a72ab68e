"""Members' rules and keywords, series choices and the workspace's policy: read, change, and act on what a
change touches (every affected upcoming meeting is decided again; messages are updated in place)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from slackbot.meetings.decision import Choice, decide
from slackbot.meetings.rules import MAX_DOMAINS, MAX_KEYWORDS, Policy, Rule
from slackbot.requester import Requester
from slackbot.services.from_rows import facts_of, policy_for
from slackbot.services.meetings import MeetingService
from storage import members, policies
from storage.db import Database
from storage.models import Member, WorkspacePolicy, utcnow

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Change:
    """What a change does to upcoming meetings: how many will now be recorded, and how many no longer; and the
    meetings marked to be decided again (`PolicyService.act_on` carries that out)."""

    now_recorded: int
    no_longer: int
    upcoming: int
    pending: tuple[str, ...] = ()


@dataclass(frozen=True)
class MemberSettings:
    rule: Rule | None  # None: the workspace's default (or ask) applies
    workspace_rule: Rule | None
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class WorkspaceSettings:
    rule: Rule | None
    keywords: tuple[str, ...]
    domains: tuple[str, ...]
    enforce_external: bool
    bot_name: str | None
    consent_enabled: bool = True
    consent_text: str | None = None  # None: the default notice


class TooMany(Exception):
    """A list (keywords, domains) is full."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


class PolicyService:
    def __init__(self, *, db: Database, meetings: MeetingService, clock: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self._meetings = meetings
        self._clock = clock
        self._known_app_ids: set[str] = set()

    async def act_on(self, change: Change) -> int:
        """Decide again every meeting a change marked: bots scheduled or removed, messages updated in place."""
        return await self._meetings.reconcile(change.pending)

    # ---- a member's own settings ------------------------------------------------------------------------------

    async def member_settings(self, requester: Requester) -> MemberSettings:
        async with self._db.transaction() as session:
            member = await members.find_member(session, team_id=requester.team_id, slack_user_id=requester.user_id)
            workspace = await policies.workspace_policy(session, requester.team_id)
        workspace_rule = Rule.stored(workspace.default_rule, workspace.default_accepted_only) if workspace else None
        if member is None:
            return MemberSettings(None, workspace_rule, ())
        return MemberSettings(
            Rule.stored(member.rule, member.rule_accepted_only), workspace_rule, tuple(member.excluded_keywords or ())
        )

    async def set_rule(self, requester: Requester, rule: Rule | None) -> Change:
        """The member's own rule; None follows the workspace's default again."""

        def apply(member: Member) -> None:
            member.rule = rule.kind.value if rule else None
            member.rule_accepted_only = bool(rule and rule.accepted_only)

        return await self._change_member(requester, apply)

    async def add_keywords(self, requester: Requester, keywords: list[str]) -> tuple[list[str], Change]:
        """Returns the keywords that were new (the others were there already)."""
        added: list[str] = []

        def apply(member: Member) -> None:
            current = list(member.excluded_keywords or [])
            known = {k.lower() for k in current}
            for keyword in keywords:
                if keyword.lower() not in known:
                    if len(current) >= MAX_KEYWORDS:
                        raise TooMany(MAX_KEYWORDS)
                    current.append(keyword)
                    known.add(keyword.lower())
                    added.append(keyword)
            member.excluded_keywords = current

        change = await self._change_member(requester, apply)
        return added, change

    async def remove_keywords(self, requester: Requester, keywords: list[str]) -> tuple[list[str], Change]:
        """Returns the keywords that were removed (the others were not there)."""
        removed: list[str] = []

        def apply(member: Member) -> None:
            wanted = {k.lower() for k in keywords}
            kept = []
            for keyword in member.excluded_keywords or []:
                (removed if keyword.lower() in wanted else kept).append(keyword)
            member.excluded_keywords = kept

        change = await self._change_member(requester, apply)
        return removed, change

    async def choose_series(self, requester: Requester, *, event_id: str, choice: Choice | None) -> list[str]:
        """Keep the member's choice for every occurrence of the series ``event_id`` belongs to; returns the event ids
        of the occurrences marked to be decided again. Raises LookupError when the meeting is not the member's
        or not part of a series."""
        from storage import meetings as meetings_repo

        now = self._clock()
        async with self._db.transaction() as session:
            meeting = await meetings_repo.get_meeting(session, event_id)
            owner = await meetings_repo.owner_of(session, meeting) if meeting else None
            if meeting is None or owner is None or meeting.series_id is None:
                raise LookupError(event_id)
            _, member = owner
            if (member.team_id, member.slack_user_id) != (requester.team_id, requester.user_id):
                raise LookupError(event_id)
            await policies.set_series_choice(
                session, member_id=member.id, series_id=meeting.series_id, choice=choice.value if choice else None
            )
            return await policies.mark_series_pending(
                session, member_id=member.id, series_id=meeting.series_id, now=now
            )

    async def _change_member(self, requester: Requester, apply: Callable[[Member], None]) -> Change:
        """Apply ``apply`` to the member's settings, count what it changes, mark their upcoming meetings to be
        decided again, then act on them (bots scheduled or removed, messages updated in place)."""
        now = self._clock()
        async with self._db.transaction() as session:
            member = await members.get_or_create_member(
                session,
                team_id=requester.team_id,
                slack_user_id=requester.user_id,
                enterprise_id=requester.enterprise_id,
            )
            workspace = await policies.workspace_policy(session, requester.team_id)
            emails = [c.email for c in member.connections]
            upcoming = await policies.upcoming_meetings(session, member_id=member.id, now=now)
            series = {m.series_id: await self._series(session, member.id, m.series_id) for m in upcoming if m.series_id}
            before = policy_for(member=member, emails=emails, workspace=workspace)
            apply(member)
            member.home_due_at = member.home_due_at or now  # an open Home shows the new settings
            after = policy_for(member=member, emails=emails, workspace=workspace)
            change = _count(upcoming, series, before, after, now)
            marked = await policies.mark_member_upcoming_pending(session, member_id=member.id, now=now)
        logger.info("policy.member_changed", extra={"team_id": requester.team_id, "meetings": len(marked)})
        return Change(change.now_recorded, change.no_longer, change.upcoming, tuple(marked))

    @staticmethod
    async def _series(session: object, member_id: int, series_id: str) -> Choice | None:
        stored = await policies.series_choice(session, member_id=member_id, series_id=series_id)  # type: ignore[arg-type]
        return Choice(stored) if stored else None

    # ---- the workspace's policy (admins only: the caller checks) -----------------------------------------------

    async def workspace_settings(self, team_id: str) -> WorkspaceSettings:
        async with self._db.transaction() as session:
            workspace = await policies.workspace_policy(session, team_id)
        if workspace is None:
            return WorkspaceSettings(None, (), (), False, None)
        return WorkspaceSettings(
            Rule.stored(workspace.default_rule, workspace.default_accepted_only),
            tuple(workspace.excluded_keywords or ()),
            tuple(workspace.domains or ()),
            workspace.enforce_external,
            workspace.bot_name,
            workspace.consent_enabled,
            workspace.consent_text,
        )

    async def set_workspace_rule(self, team_id: str, rule: Rule) -> Change:
        def apply(workspace: WorkspacePolicy) -> None:
            workspace.default_rule, workspace.default_accepted_only = rule.kind.value, rule.accepted_only

        return await self._change_workspace(team_id, apply)

    async def set_enforcement(self, team_id: str, *, external: bool) -> Change:
        def apply(workspace: WorkspacePolicy) -> None:
            workspace.enforce_external = external

        return await self._change_workspace(team_id, apply)

    async def change_workspace_list(
        self, team_id: str, *, field: str, add: list[str] | None = None, remove: list[str] | None = None
    ) -> tuple[list[str], Change]:
        """Add to or remove from ``excluded_keywords`` or ``domains``; returns what actually changed."""
        limit = MAX_KEYWORDS if field == "excluded_keywords" else MAX_DOMAINS
        changed: list[str] = []

        def apply(workspace: WorkspacePolicy) -> None:
            current = list(getattr(workspace, field) or [])
            known = {v.lower() for v in current}
            for value in add or []:
                if value.lower() not in known:
                    if len(current) >= limit:
                        raise TooMany(limit)
                    current.append(value)
                    known.add(value.lower())
                    changed.append(value)
            gone = {v.lower() for v in remove or []}
            if gone:
                changed.extend(v for v in current if v.lower() in gone)
                current = [v for v in current if v.lower() not in gone]
            setattr(workspace, field, current)

        change = await self._change_workspace(team_id, apply)
        return changed, change

    async def remember_app_id(self, team_id: str, app_id: object) -> None:
        """The app's id (from a request Slack sent), for links to its Home tab; written once per workspace."""
        if not isinstance(app_id, str) or not app_id or len(app_id) > 32 or app_id in self._known_app_ids:
            return
        async with self._db.transaction() as session:
            workspace = await policies.workspace_policy_for_update(session, team_id)
            workspace.app_id = app_id
        self._known_app_ids.add(app_id)

    async def set_bot_name(self, team_id: str, name: str | None) -> None:
        """The name the bot joins with from now on (bots already scheduled keep theirs)."""
        async with self._db.transaction() as session:
            workspace = await policies.workspace_policy_for_update(session, team_id)
            workspace.bot_name = name

    async def set_consent(
        self, team_id: str, *, enabled: bool, text: str | None = None, keep_text: bool = True
    ) -> None:
        """The notice bots post in the meeting's chat when they join: on or off, and its text (None: the default;
        ``keep_text``: leave the text as it is). Bots already scheduled keep the notice they were given."""
        async with self._db.transaction() as session:
            workspace = await policies.workspace_policy_for_update(session, team_id)
            workspace.consent_enabled = enabled
            if not keep_text:
                workspace.consent_text = text

    async def _change_workspace(self, team_id: str, apply: Callable[[WorkspacePolicy], None]) -> Change:
        now = self._clock()
        async with self._db.transaction() as session:
            workspace = await policies.workspace_policy_for_update(session, team_id)
            now_recorded = no_longer = upcoming_total = 0
            snapshot = _Frozen.of(workspace)
            apply(workspace)
            for member in await policies.members_of(session, team_id):
                await session.refresh(member, ["connections"])
                emails = [c.email for c in member.connections]
                upcoming = await policies.upcoming_meetings(session, member_id=member.id, now=now)
                series = {
                    m.series_id: await self._series(session, member.id, m.series_id) for m in upcoming if m.series_id
                }
                before = policy_for(member=member, emails=emails, workspace=snapshot)
                after = policy_for(member=member, emails=emails, workspace=workspace)
                counted = _count(upcoming, series, before, after, now)
                now_recorded += counted.now_recorded
                no_longer += counted.no_longer
                upcoming_total += counted.upcoming
            marked = await policies.mark_workspace_upcoming_pending(session, team_id=team_id, now=now)
        logger.info("policy.workspace_changed", extra={"team_id": team_id, "meetings": len(marked)})
        return Change(now_recorded, no_longer, upcoming_total, tuple(marked))


@dataclass(frozen=True)
class _Frozen:
    """The workspace policy as it was before a change (the row itself is changed in place)."""

    default_rule: str | None
    default_accepted_only: bool
    excluded_keywords: list[str]
    domains: list[str]
    enforce_external: bool

    @classmethod
    def of(cls, workspace: WorkspacePolicy) -> _Frozen:
        return cls(
            workspace.default_rule,
            workspace.default_accepted_only,
            list(workspace.excluded_keywords or []),
            list(workspace.domains or []),
            workspace.enforce_external,
        )


def _count(upcoming: list, series: dict, before: Policy, after: Policy, now: datetime) -> Change:  # type: ignore[type-arg]
    """How many upcoming meetings a change starts or stops recording (the member's clicks still win)."""
    now_recorded = no_longer = 0
    for meeting in upcoming:
        facts = facts_of(meeting)
        choice = Choice(meeting.choice) if meeting.choice else None
        series_choice = series.get(meeting.series_id) if meeting.series_id else None
        was = decide(facts, choice=choice, covered_by=(), now=now, series_choice=series_choice, policy=before)
        will = decide(facts, choice=choice, covered_by=(), now=now, series_choice=series_choice, policy=after)
        if will.wants_bot and not was.wants_bot:
            now_recorded += 1
        elif was.wants_bot and not will.wants_bot:
            no_longer += 1
    return Change(now_recorded, no_longer, len(upcoming))
