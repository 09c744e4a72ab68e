"""`calendar.update`: re-read the calendar's status; tell the member once when it disconnects or recovers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from recall.client import RecallClient
from recall.errors import RecallNotFound
from slackbot.blocks import connect as blocks
from slackbot.requester import Requester
from slackbot.services.connect import ConnectService
from slackbot.slack.gateway import SLACK_FAILURES, SlackGateway, slack_error_name
from slackbot.words import provider_label
from storage import connections
from storage.connections import DISCONNECTED
from storage.db import Database
from storage.models import utcnow

logger = logging.getLogger(__name__)

CONNECTED = "connected"


class CalendarStatusNotDelivered(Exception):
    """The member could not be told (Slack refused); the webhook delivery is retried."""


class CalendarStatusService:
    def __init__(
        self,
        *,
        db: Database,
        recall: RecallClient,
        gateway: SlackGateway,
        connect: ConnectService,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._db = db
        self._recall = recall
        self._gateway = gateway
        self._connect = connect
        self._clock = clock

    async def calendar_updated(self, recall_calendar_id: str) -> None:
        async with self._db.transaction() as session:
            if await connections.find_connection_by_calendar(session, recall_calendar_id) is None:
                return  # not ours (or already disconnected)
        try:
            calendar = await self._recall.retrieve_calendar(recall_calendar_id)
        except RecallNotFound:
            return
        async with self._db.transaction() as session:
            connection = await connections.find_connection_by_calendar(session, recall_calendar_id)
            if connection is None:
                return
            await connections.set_status(session, connection, calendar.status, now=self._clock())
            member = connection.member
            requester = Requester(member.team_id, member.slack_user_id, member.enterprise_id)
            provider, email, notified = connection.provider, connection.email, connection.status_notified
        logger.info("calendar.status", extra={"recall_calendar_id": recall_calendar_id, "status": calendar.status})
        if calendar.status == DISCONNECTED and notified != DISCONNECTED:
            if provider not in self._connect.providers:
                return
            try:
                await self._connect.send_links(requester=requester, providers=[provider], reconnect=True)
            except SLACK_FAILURES as exc:
                # Not marked as told: the delivery is retried with back-off.
                raise CalendarStatusNotDelivered(slack_error_name(exc)) from None
            await self._mark_notified(recall_calendar_id, DISCONNECTED)
        elif calendar.status == CONNECTED and notified == DISCONNECTED:
            message = blocks.connected(
                provider_label=provider_label(provider), email=email, reconnected=True, replaced_email=None
            )
            if await self._gateway.try_post_dm(requester, message) is not None:
                await self._mark_notified(recall_calendar_id, None)

    async def _mark_notified(self, recall_calendar_id: str, value: str | None) -> None:
        async with self._db.transaction() as session:
            connection = await connections.find_connection_by_calendar(session, recall_calendar_id)
            if connection is not None:
                connection.status_notified = value
