"""Status, disconnect and workspace purge for calendar connections."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore

from recall.client import RecallClient
from recall.errors import RecallError
from storage import calendar_deletions, connections, members, policies, syncs
from storage.db import Database
from storage.models import CalendarConnection, utcnow

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConnectionInfo:
    provider: str
    email: str
    status: str
    recall_calendar_id: str


@dataclass(frozen=True)
class DisconnectResult:
    removed: list[ConnectionInfo]
    failed: list[ConnectionInfo]  # Recall could not delete these; they stay connected


def _info(connection: CalendarConnection) -> ConnectionInfo:
    return ConnectionInfo(
        provider=connection.provider,
        email=connection.email,
        status=connection.status,
        recall_calendar_id=connection.recall_calendar_id,
    )


class ConnectionService:
    def __init__(
        self,
        *,
        db: Database,
        recall: RecallClient,
        installation_store: AsyncInstallationStore | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._db = db
        self._recall = recall
        self._installation_store = installation_store
        self._clock = clock

    async def list(self, *, team_id: str, user_id: str, refresh: bool = True) -> list[ConnectionInfo]:
        """The member's connections; with ``refresh``, statuses are re-read from Recall (best effort)."""
        async with self._db.transaction() as session:
            member = await members.find_member(session, team_id=team_id, slack_user_id=user_id)
            found = sorted(member.connections, key=lambda c: c.provider) if member else []
            calendar_ids = [c.recall_calendar_id for c in found]
        if not refresh or not calendar_ids:
            return [_info(c) for c in found]
        fresh: dict[str, str] = {}
        for calendar_id in calendar_ids:
            try:
                fresh[calendar_id] = (await self._recall.retrieve_calendar(calendar_id)).status
            except RecallError as exc:
                logger.warning("connections.status_refresh_failed", extra={"error": type(exc).__name__})
        async with self._db.transaction() as session:
            result = []
            for calendar_id in calendar_ids:
                connection = await connections.find_connection_by_calendar(session, calendar_id)
                if connection is None:
                    continue
                if calendar_id in fresh:
                    await connections.set_status(session, connection, fresh[calendar_id], now=self._clock())
                result.append(_info(connection))
            return result

    async def disconnect(self, *, team_id: str, user_id: str, provider: str | None) -> DisconnectResult:
        """Delete the Recall calendar(s) and our rows, one calendar at a time: a calendar Recall could not
        delete is left exactly as it was and reported in ``failed``."""
        async with self._db.transaction() as session:
            member = await members.find_member(session, team_id=team_id, slack_user_id=user_id)
            targets = [
                _info(c) for c in (member.connections if member else []) if provider is None or c.provider == provider
            ]
        result = DisconnectResult(removed=[], failed=[])
        for target in targets:
            try:
                # Deleting the Recall calendar also unschedules its future bots (recall-calendar-v2.md §5).
                await self._recall.delete_calendar(target.recall_calendar_id)
            except RecallError as exc:
                logger.warning("connections.disconnect_failed", extra={"error": type(exc).__name__})
                result.failed.append(target)
                continue
            async with self._db.transaction() as session:
                connection = await connections.find_connection_by_calendar(session, target.recall_calendar_id)
                if connection is not None:
                    await session.delete(connection)
                await syncs.forget_syncs(session, [target.recall_calendar_id])
            result.removed.append(target)
            logger.info("connections.disconnected", extra={"team_id": team_id, "provider": target.provider})
        return result

    async def purge_workspace(self, *, team_id: str, enterprise_id: str | None) -> int:
        """Delete every row we hold for a workspace, its Slack installation included; its Recall calendars are
        deleted now or by the retry job."""
        async with self._db.transaction() as session:
            calendar_ids = await connections.workspace_calendar_ids(session, team_id=team_id)
            for calendar_id in calendar_ids:
                await calendar_deletions.schedule_calendar_deletion(session, calendar_id, now=self._clock())
            removed = await members.delete_workspace_members(session, team_id=team_id)
            await policies.delete_workspace_policy(session, team_id)
            await syncs.forget_syncs(session, calendar_ids)
        if self._installation_store is not None:
            # Slack's own store deletes its rows (bots and installations of the workspace).
            await self._installation_store.async_delete_all(enterprise_id=enterprise_id, team_id=team_id)
        logger.info("workspace.purged", extra={"team_id": team_id, "members": removed, "calendars": len(calendar_ids)})
        await self.retry_calendar_deletions(only=calendar_ids)
        return removed

    async def retry_calendar_deletions(self, *, only: list[str] | None = None) -> int:
        """Delete pending Recall calendars; failures back off and are retried by the background job."""
        async with self._db.transaction() as session:
            due = await calendar_deletions.due_calendar_deletions(session, now=self._clock())
        if only is not None:
            due = [d for d in due if d in only]
        done = 0
        for calendar_id in due:
            try:
                await self._recall.delete_calendar(calendar_id)
            except RecallError as exc:
                logger.warning("connections.calendar_delete_failed", extra={"error": type(exc).__name__})
                async with self._db.transaction() as session:
                    await calendar_deletions.calendar_deletion_failed(session, calendar_id, now=self._clock())
                continue
            async with self._db.transaction() as session:
                await calendar_deletions.calendar_deletion_done(session, calendar_id)
            done += 1
        return done
