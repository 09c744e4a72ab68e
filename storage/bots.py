"""Recall bots our members scheduled, and the meetings each one records (several members can share one bot)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Bot, Meeting


async def get_bot(session: AsyncSession, bot_id: str, *, for_update: bool = False) -> Bot | None:
    """``for_update``: held until the transaction ends, so two processes never fold webhooks into it at once."""
    statement = select(Bot).where(Bot.bot_id == bot_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement)).first()


async def bots_by_ids(session: AsyncSession, bot_ids: Sequence[str]) -> dict[str, Bot]:
    if not bot_ids:
        return {}
    rows = await session.scalars(select(Bot).where(Bot.bot_id.in_(list(bot_ids))))
    return {bot.bot_id: bot for bot in rows}


async def remember_bot(session: AsyncSession, *, bot_id: str, team_id: str, scheduled_by: str | None) -> Bot:
    """The bot Recall gave a meeting; the first member it was scheduled for stays the one who scheduled it."""
    bot = await get_bot(session, bot_id)
    if bot is None:
        bot = Bot(bot_id=bot_id, team_id=team_id, scheduled_by=scheduled_by)
        session.add(bot)
        await session.flush()
    return bot


async def event_ids_with_bot(session: AsyncSession, bot_id: str) -> list[str]:
    rows = await session.scalars(select(Meeting.recall_event_id).where(Meeting.bot_id == bot_id))
    return sorted(rows)


async def adopt_bot(session: AsyncSession, bot_id: str, *, team_id: str, event_ids: Sequence[str]) -> list[str]:
    """Meetings named in the bot's metadata that do not know their bot yet (a webhook came before our schedule
    call's answer was recorded) take it; a meeting that has another bot keeps it."""
    if not event_ids:
        return []
    result = await session.execute(
        update(Meeting)
        .where(Meeting.recall_event_id.in_(list(event_ids)), Meeting.team_id == team_id, Meeting.bot_id.is_(None))
        .values(bot_id=bot_id)
        .returning(Meeting.recall_event_id)
        .execution_options(synchronize_session=False)
    )
    return sorted(row[0] for row in result)


async def delete_orphan_bots(session: AsyncSession) -> int:
    """Bots no meeting shows any more (their meetings were forgotten a month after they ended)."""
    result = await session.execute(
        delete(Bot).where(~Bot.bot_id.in_(select(Meeting.bot_id).where(Meeting.bot_id.is_not(None))))
    )
    return result.rowcount or 0
