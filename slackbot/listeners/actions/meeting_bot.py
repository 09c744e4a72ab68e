"""`schedule_bot`, `skip_bot` and Undo on the per-meeting message."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from slackbot.blocks.meeting import media_answer
from slackbot.ids import ActionId
from slackbot.meetings.bot_life import MediaKind
from slackbot.meetings.decision import Choice
from slackbot.registry import Services
from slackbot.requester import Requester
from slackbot.services.reconciler import NotYourMeeting
from slackbot.slack.gateway import SLACK_FAILURES, slack_error_name
from slackbot.slack.pacing import Lane
from slackbot.words import bot_status as bot_words
from slackbot.words import explain_recall_error, explain_refused_choice
from slackbot.words import meetings as words

logger = logging.getLogger(__name__)

SERIES_CHOICES: dict[str, Choice | None] = {
    ActionId.RECORD_SERIES.value: Choice.SCHEDULE,
    ActionId.SKIP_SERIES.value: Choice.SKIP,
    ActionId.UNDO_SERIES.value: None,
}

MEDIA: dict[str, MediaKind] = {
    ActionId.GET_RECORDING.value: MediaKind.RECORDING,
    ActionId.GET_TRANSCRIPT.value: MediaKind.TRANSCRIPT,
}
REMOVE: dict[str, None] = {ActionId.REMOVE_BOT.value: None}

CHOICES: dict[str, Choice | None] = {
    ActionId.SCHEDULE_BOT.value: Choice.SCHEDULE,
    ActionId.SKIP_BOT.value: Choice.SKIP,
    ActionId.UNDO_CHOICE.value: None,
}

# Recall's event ids are UUIDs; anything longer is not one of ours.
MAX_EVENT_ID = 64


def from_home(body: dict[str, Any]) -> bool:
    """Slack sends the view (and no response_url) for a click on the App Home tab."""
    return (body.get("container") or {}).get("type") == "view" or body.get("view") is not None


def _clicked(body: dict[str, Any], known: Mapping[str, object]) -> tuple[str, str]:
    """The clicked button's action id and meeting (event id); a button we do not know, or a value that cannot be a
    meeting of ours, is answered like a meeting that is not the member's."""
    action = (body.get("actions") or [{}])[0]
    action_id = action.get("action_id", "")
    event_id = action.get("value") or ""
    if action_id not in known or not event_id or len(event_id) > MAX_EVENT_ID:
        raise NotYourMeeting(event_id[:MAX_EVENT_ID])
    return action_id, event_id


class MeetingButtons:
    def __init__(self, services: Services) -> None:
        self._services = services

    async def clicked(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond | None, requester: Requester
    ) -> None:
        await ack()
        action_id, event_id = _clicked(body, CHOICES)
        outcome = await self._services.meetings.choose(
            requester=requester, event_id=event_id, choice=CHOICES[action_id]
        )
        text = None
        if outcome.bot_active:
            text = bot_words.CHOICE_CLOSED
        elif outcome.refused:
            locked = outcome.decision.locked
            text = words.ENFORCED_REFUSAL if locked else explain_refused_choice(outcome.decision.state)
        elif outcome.error is not None:
            text = explain_recall_error(outcome.error)
        await self._answer(body, respond, requester, text)

    async def _answer(
        self, body: dict[str, Any], respond: AsyncRespond | None, requester: Requester, text: str | None
    ) -> None:
        """A click in a message answers there (only when there is something to say); a click on the Home tab
        republishes the Home, with the answer on top."""
        if from_home(body):
            await self._services.home.publish(requester, notice=text)
        elif text is not None and respond is not None:
            await respond(text=text, response_type="ephemeral", replace_original=False)

    async def series_clicked(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond | None, requester: Requester
    ) -> None:
        """Record every occurrence / never record this series / forget that choice."""
        await ack()
        action_id, event_id = _clicked(body, SERIES_CHOICES)
        choice = SERIES_CHOICES[action_id]
        try:
            marked = await self._services.policy.choose_series(requester, event_id=event_id, choice=choice)
        except LookupError:
            raise NotYourMeeting(event_id) from None
        await self._answer(
            body, respond, requester, words.series_saved(None if choice is None else choice is Choice.SCHEDULE)
        )
        # The clicked occurrence first (its message changes under the member's eyes), then the others.
        await self._services.meetings.reconcile([event_id, *[m for m in marked if m != event_id]])

    async def media_clicked(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond | None, requester: Requester
    ) -> None:
        """Get recording / Get transcript: a fresh download link for the clicking member only (ephemeral)."""
        await ack()
        try:
            action_id, event_id = _clicked(body, MEDIA)
        except NotYourMeeting:
            text = bot_words.NOT_YOUR_RECORDING
        else:
            text = await self._services.bots.media_link(requester, event_id, MEDIA[action_id])
        if from_home(body):
            # A Home view is kept by Slack until the next publish: the link goes to the member's DM instead.
            try:
                await self._services.gateway.post_dm(requester, media_answer(text), lane=Lane.MEMBER)
            except SLACK_FAILURES as exc:
                logger.warning("bots.media_dm_failed", extra={"error": slack_error_name(exc)})
                await self._services.home.publish(requester, notice=bot_words.MEDIA_DM_FAILED)
            return
        await self._answer(body, respond, requester, text)

    async def remove_clicked(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond | None, requester: Requester
    ) -> None:
        """Remove bot: only the member who scheduled it makes it leave the call."""
        await ack()
        try:
            _, event_id = _clicked(body, REMOVE)
        except NotYourMeeting:
            text = bot_words.REMOVE_NOT_YOURS
        else:
            text = await self._services.bots.remove(requester, event_id)
        await self._answer(body, respond, requester, text)
