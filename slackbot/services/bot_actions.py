"""A member's buttons once the bot has joined: Get recording, Get transcript, Remove bot.

Recall's download URLs are pre-signed and expire within hours, so none is ever stored or posted in a shared
message: each click asks Recall for a fresh one and answers only the clicking member. Only the member whose
calendar has the meeting (the button's event id is theirs) gets it; only the member who scheduled the bot can make
it leave.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from recall.client import RecallClient
from recall.errors import RecallAPIError, RecallError
from recall.models import Bot as RecallBot
from slackbot.meetings.bot_life import MediaKind, expired
from slackbot.requester import Requester
from slackbot.services.from_rows import life_of, store_life
from slackbot.words import bot_status as words
from storage import bots, policies
from storage import meetings as repo
from storage.db import Database
from storage.lifecycle import MediaState
from storage.models import Bot, Meeting, utcnow

logger = logging.getLogger(__name__)

COMPLETED = "cannot_command_completed_bot"
UNSTARTED = "cannot_command_unstarted_bot"


@dataclass(frozen=True)
class _Mine:
    meeting: Meeting
    bot: Bot | None
    bot_name: str


class BotActions:
    def __init__(
        self,
        *,
        db: Database,
        recall: RecallClient,
        bot_name: str,
        follow: Callable[[list[str]], Awaitable[object]] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._db = db
        self._recall = recall
        self._bot_name = bot_name
        self._follow = follow  # acts on meetings whose message changed (the recording expired)
        self._clock = clock

    async def _mine(self, requester: Requester, event_id: str) -> _Mine | None:
        """The meeting if it is on the requester's own calendar (its owner is them), with its bot."""
        async with self._db.transaction() as session:
            meeting = await repo.get_meeting(session, event_id)
            owner = await repo.owner_of(session, meeting) if meeting else None
            if meeting is None or owner is None:
                return None
            member = owner[1]
            if (member.team_id, member.slack_user_id) != (requester.team_id, requester.user_id):
                return None
            if meeting.is_deleted:
                return None  # no longer on the member's calendar
            bot = (await bots.bots_for(session, [meeting])).get(event_id)
            workspace = await policies.workspace_policy(session, member.team_id)
            name = workspace.bot_name if workspace and workspace.bot_name else self._bot_name
            return _Mine(meeting, bot, name)

    async def media_link(self, requester: Requester, event_id: str, kind: MediaKind) -> str:
        """The answer to Get recording / Get transcript: a fresh link, or why there is none."""
        mine = await self._mine(requester, event_id)
        if mine is None:
            return words.NOT_YOUR_RECORDING
        if mine.bot is None:
            return words.MEDIA_NOT_READY if mine.meeting.bot_id else words.NO_RECORDING
        try:
            found = await self._recall.retrieve_bot(mine.bot.bot_id)
        except RecallAPIError as exc:
            if exc.status == 404:
                await self._expired(mine.bot.bot_id)
                return words.MEDIA_EXPIRED
            logger.warning("bots.media_lookup_failed", extra={"status": exc.status})
            return words.RECALL_UNAVAILABLE_FOR_MEDIA
        except RecallError:
            return words.RECALL_UNAVAILABLE_FOR_MEDIA
        url = found.video_url if kind is MediaKind.RECORDING else found.transcript_url
        title = mine.meeting.title
        if url is not None:
            logger.info("bots.media_link", extra={"kind": kind.value})  # never the URL: it opens the recording
            if kind is MediaKind.RECORDING:
                return words.recording_link(url, title=title, expires_minutes=None)
            return words.transcript_link(url, title=title, expires_minutes=None)
        if _deleted(found):
            await self._expired(mine.bot.bot_id)
            return words.MEDIA_EXPIRED
        if kind is MediaKind.TRANSCRIPT and life_of(mine.bot).transcript is not MediaState.READY:
            return words.NO_TRANSCRIPT
        return words.MEDIA_NOT_READY

    async def _expired(self, bot_id: str) -> None:
        """Recall no longer has the media: every message showing it says so (and loses its buttons)."""
        async with self._db.transaction() as session:
            row = await bots.get_bot(session, bot_id, for_update=True)
            if row is None:
                return
            life = life_of(row)
            after = expired(life)
            if after == life:
                return
            store_life(row, after)
            showing = await bots.event_ids_showing(session, row)
            changed = await repo.mark_pending_where(session, Meeting.recall_event_id.in_(showing), now=self._clock())
        if changed and self._follow is not None:
            await self._follow(changed)

    async def remove(self, requester: Requester, event_id: str) -> str:
        """Remove bot: the member who scheduled it makes it leave the call (`leave_call`)."""
        mine = await self._mine(requester, event_id)
        if mine is None or mine.bot is None:
            return words.REMOVE_NOT_YOURS if mine is None else words.BOT_NOT_STARTED
        if (mine.bot.team_id, mine.bot.scheduled_by) != (requester.team_id, requester.user_id):
            return words.REMOVE_NOT_YOURS
        life = life_of(mine.bot)
        if life.finished:
            return words.BOT_ALREADY_GONE
        if not life.started:
            return words.BOT_NOT_STARTED
        try:
            await self._recall.leave_call(mine.bot.bot_id)
        except RecallAPIError as exc:
            if exc.code == COMPLETED or exc.status == 404:
                return words.BOT_ALREADY_GONE
            if exc.code == UNSTARTED:
                return words.BOT_NOT_STARTED
            logger.warning("bots.leave_call_failed", extra={"status": exc.status, "code": exc.code})
            return words.RECALL_UNAVAILABLE_FOR_REMOVE
        except RecallError:
            return words.RECALL_UNAVAILABLE_FOR_REMOVE
        logger.info("bots.removed", extra={"bot_id": mine.bot.bot_id})
        return words.bot_removed(mine.bot_name)


def _deleted(bot: RecallBot) -> bool:
    """Recall deleted the recordings' media (retention) or has none left."""
    return bool(bot.recordings) and all(r.status_code == "deleted" for r in bot.recordings)
