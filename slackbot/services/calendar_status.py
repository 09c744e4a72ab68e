"""`calendar.update`: re-read the calendar's status; tell the member once when it disconnects or recovers."""

from __future__ import annotations

import logging

from recall.client import RecallClient
from recall.errors import RecallNotFound
from slackbot.blocks import connect as blocks
from slackbot.calendar_oauth.flow import ConnectFlow, Requester
from slackbot.services.connect_links import send_connect_links
from slackbot.slack_gateway import SLACK_FAILURES, SlackGateway, slack_error_name
from slackbot.words import provider_label
from storage import meetings as meetings_repo
from storage import repositories as repo
from storage.db import Database
from storage.models import utcnow

logger = logging.getLogger(__name__)


class CalendarStatusNotDelivered(Exception):
    """The member could not be told (Slack refused); the webhook delivery is retried."""


class CalendarStatusService:
    def __init__(self, *, db: Database, recall: RecallClient, gateway: SlackGateway, flow: ConnectFlow) -> None:
        self._db = db
        self._recall = recall
        self._gateway = gateway
        self._flow = flow

    async def calendar_updated(self, recall_calendar_id: str) -> None:
        async with self._db.transaction() as session:
            connection = await repo.find_connection_by_calendar(session, recall_calendar_id)
            if connection is None:
                return  # not ours (or already disconnected)
        try:
            calendar = await self._recall.retrieve_calendar(recall_calendar_id)
        except RecallNotFound:
            return
        async with self._db.transaction() as session:
            connection = await repo.find_connection_by_calendar(session, recall_calendar_id)
            if connection is None:
                return
            connection.status = calendar.status
            if calendar.status == "disconnected":
                await meetings_repo.forget_bots(session, connection_id=connection.id, now=utcnow())
            member = connection.member
            requester = Requester(
                team_id=member.team_id, user_id=member.slack_user_id, enterprise_id=member.enterprise_id
            )
            provider, email, notified = connection.provider, connection.email, connection.status_notified
        logger.info("calendar.status", extra={"recall_calendar_id": recall_calendar_id, "status": calendar.status})
        if calendar.status == "disconnected" and notified != "disconnected":
            if provider not in self._flow.providers:
                return
            try:
                await send_connect_links(
                    flow=self._flow, gateway=self._gateway, requester=requester, providers=[provider], reconnect=True
                )
            except SLACK_FAILURES as exc:
                # Not marked as told: the delivery is retried with back-off.
                raise CalendarStatusNotDelivered(slack_error_name(exc)) from None
            await self._mark_notified(recall_calendar_id, "disconnected")
        elif calendar.status == "connected" and notified == "disconnected":
            label = provider_label(provider)
            sent = await self._gateway.try_send_dm(
                team_id=requester.team_id,
                user_id=requester.user_id,
                enterprise_id=requester.enterprise_id,
                message=blocks.connected(provider_label=label, email=email, reconnected=True, replaced_email=None),
            )
            if sent is not None:
                await self._mark_notified(recall_calendar_id, None)

    async def _mark_notified(self, recall_calendar_id: str, value: str | None) -> None:
        async with self._db.transaction() as session:
            connection = await repo.find_connection_by_calendar(session, recall_calendar_id)
            if connection is not None:
                connection.status_notified = value
