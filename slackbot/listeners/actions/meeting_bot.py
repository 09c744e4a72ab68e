"""`schedule_bot`, `skip_bot` and Undo on the per-meeting message."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond

from slackbot.ids import ActionId
from slackbot.meetings.decision import Choice
from slackbot.meetings.service import NotYourMeeting
from slackbot.services.registry import Services
from slackbot.words import explain_recall_error, explain_refused_choice

logger = logging.getLogger(__name__)

CHOICES: dict[str, Choice | None] = {
    ActionId.SCHEDULE_BOT.value: Choice.SCHEDULE,
    ActionId.SKIP_BOT.value: Choice.SKIP,
    ActionId.UNDO_CHOICE.value: None,
}

NOT_YOURS = (
    ":no_entry: That button belongs to a meeting on someone else's calendar, or one I no longer know, "
    "so nothing was changed."
)


class MeetingButtons:
    def __init__(self, services: Services) -> None:
        self._services = services

    async def clicked(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
    ) -> None:
        await ack()
        action = (body.get("actions") or [{}])[0]
        action_id = action.get("action_id", "")
        event_id = action.get("value") or ""
        user = body.get("user") or {}
        team_id = context.team_id or user.get("team_id") or (body.get("team") or {}).get("id") or ""
        user_id = context.user_id or user.get("id") or ""
        if action_id not in CHOICES or not event_id or len(event_id) > 64:
            await _refuse(respond)
            return
        try:
            outcome = await self._services.meetings.choose(
                team_id=team_id, user_id=user_id, event_id=event_id, choice=CHOICES[action_id]
            )
        except NotYourMeeting:
            logger.warning("meetings.button_refused", extra={"team_id": team_id, "action": action_id})
            await _refuse(respond)
            return
        if outcome.refused:
            await respond(
                text=explain_refused_choice(outcome.decision.state.value),
                response_type="ephemeral",
                replace_original=False,
            )
        elif outcome.error is not None:
            await respond(text=explain_recall_error(outcome.error), response_type="ephemeral", replace_original=False)


async def _refuse(respond: AsyncRespond) -> None:
    await respond(text=NOT_YOURS, response_type="ephemeral", replace_original=False)
