"""Recall's bot, recording and transcript webhooks, folded into each bot's life; the meetings it records follow.

Each webhook is applied in one transaction holding the bot's row (`bot_life.apply_*` never moves it backwards,
and a redelivery changes nothing). A change marks the bot's meetings PENDING, so the reconciler updates their
messages, once for a batch of webhooks, however many of them arrived (and the repair job does if we crash first).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from recall.bot_events import BotEvent, BotEventKind
from recall.client import RecallClient
from recall.errors import RecallAPIError
from slackbot.meetings.bot_life import BotLife, MediaEvent, MediaKind, StatusEvent, apply_media, apply_status
from slackbot.services.bot_config import METADATA_SOURCE
from slackbot.services.from_rows import life_of, store_life
from storage import bots
from storage import meetings as meetings_repo
from storage.db import Database
from storage.models import Meeting, utcnow

logger = logging.getLogger(__name__)

MAX_SUB_CODE = 128  # the column's length; only known (short) status codes are ever kept


def fold(life: BotLife, event: BotEvent) -> BotLife:
    """Pure: the bot's life after one webhook."""
    sub_code = event.sub_code[:MAX_SUB_CODE] if event.sub_code else None
    match event.kind:
        case BotEventKind.STATUS:
            return apply_status(life, StatusEvent(event.code, sub_code, event.at))
        case BotEventKind.RECORDING_DONE:
            return apply_media(life, MediaEvent(MediaKind.RECORDING, done=True))
        case BotEventKind.RECORDING_FAILED:
            return apply_media(life, MediaEvent(MediaKind.RECORDING, done=False, sub_code=sub_code))
        case BotEventKind.TRANSCRIPT_DONE:
            return apply_media(life, MediaEvent(MediaKind.TRANSCRIPT, done=True))
        case BotEventKind.TRANSCRIPT_FAILED:
            return apply_media(life, MediaEvent(MediaKind.TRANSCRIPT, done=False))
    return life  # pragma: no cover - every kind is matched above


def event_ids_in(metadata: Mapping[str, str]) -> list[str]:
    """The meetings our metadata names (see `bot_config`); none for a bot another app scheduled."""
    if metadata.get("source") != METADATA_SOURCE:
        return []
    return [part for part in metadata.get("recall_event_ids", "").split(",") if part]


class BotWebhooks:
    def __init__(self, *, db: Database, recall: RecallClient, clock: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self._recall = recall
        self._clock = clock

    async def apply(self, event: BotEvent) -> list[str]:
        """Fold one webhook into its bot; returns the meetings whose message must follow (marked PENDING)."""
        event_ids = await self._meetings_of(event)
        if not event_ids:
            logger.debug("bots.not_ours", extra={"event": event.kind.value})
            return []
        async with self._db.transaction() as session:
            row = await bots.get_bot(session, event.bot_id, for_update=True)
            if row is None:
                meeting = await meetings_repo.get_meeting(session, event_ids[0])
                if meeting is None:
                    return []
                row = await bots.ensure_bot(
                    session,
                    bot_id=event.bot_id,
                    team_id=meeting.team_id,
                    scheduled_by=(event.metadata or {}).get("slack_user_id"),
                    dedup_key=meeting.scheduled_key,
                )
            life = life_of(row)
            after = fold(life, event)
            if after == life:
                return []  # a redelivery, or news older than what we know
            store_life(row, after)
            logger.info(
                "bots.changed",
                extra={"bot_id": event.bot_id, "phase": after.phase.value if after.phase else None},
            )
            showing = await bots.event_ids_showing(session, row)
            return await meetings_repo.mark_pending_where(
                session, Meeting.recall_event_id.in_(showing), now=self._clock()
            )

    async def _meetings_of(self, event: BotEvent) -> list[str]:
        """Our meetings the bot records: those that know its id, else those its metadata names (a webhook that
        beat our own record of the schedule call), else, for the legacy shape without metadata, Recall's."""
        async with self._db.transaction() as session:
            known = await bots.event_ids_with_bot(session, event.bot_id)
        if known:
            return known
        metadata = event.metadata
        if metadata is None:
            try:
                metadata = (await self._recall.retrieve_bot(event.bot_id)).metadata
            except RecallAPIError as exc:
                if exc.status == 404:
                    return []  # not a bot of this Recall account any more
                raise
        event_ids = event_ids_in(metadata)
        team_id = metadata.get("slack_team_id")
        if not event_ids or not team_id:
            return []
        async with self._db.transaction() as session:
            await bots.adopt_bot(session, event.bot_id, team_id=team_id, event_ids=event_ids)
            return await bots.event_ids_with_bot(session, event.bot_id)
