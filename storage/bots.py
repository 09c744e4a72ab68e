"""Recall bots our members scheduled, and the meetings each one records (several members can share one bot)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Bot, CalendarConnection, Meeting, Member


async def get_bot(session: AsyncSession, bot_id: str, *, for_update: bool = False) -> Bot | None:
    """``for_update``: held until the transaction ends, so two processes never fold webhooks into it at once."""
    statement = select(Bot).where(Bot.bot_id == bot_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement)).first()


async def ensure_bot(
    session: AsyncSession, *, bot_id: str, team_id: str, scheduled_by: str | None, dedup_key: str | None
) -> Bot:
    """The bot's row, made if missing (INSERT ... ON CONFLICT DO NOTHING: two processes making it at once both get
    the one row), and held for update. The first member it was scheduled for stays the one who scheduled it."""
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    await session.execute(
        insert(Bot)
        .values(bot_id=bot_id, team_id=team_id, scheduled_by=scheduled_by, dedup_key=dedup_key)
        .on_conflict_do_nothing(index_elements=[Bot.bot_id])
    )
    bot = await get_bot(session, bot_id, for_update=True)
    assert bot is not None
    if bot.dedup_key is None and dedup_key is not None:
        bot.dedup_key = dedup_key
    return bot


async def bots_for(session: AsyncSession, meetings: Sequence[Meeting]) -> dict[str, Bot]:
    """Each meeting's bot: its own (the one scheduled for it), else a colleague's that records the same meeting
    (same workspace, same deduplication key). A meeting no longer on the member's calendar has none."""
    shown = [m for m in meetings if not m.is_deleted]
    own = {m.bot_id for m in shown if m.bot_id}
    keys = {m.current_key for m in shown if not m.bot_id and m.current_key}
    rows: list[Bot] = []
    if own:
        rows += list(await session.scalars(select(Bot).where(Bot.bot_id.in_(sorted(own)))))
    if keys:
        teams = sorted({m.team_id for m in shown})
        rows += list(
            await session.scalars(
                select(Bot)
                .where(Bot.dedup_key.in_(sorted(keys)), Bot.team_id.in_(teams))
                .order_by(Bot.created_at, Bot.bot_id)
            )
        )
    by_id = {bot.bot_id: bot for bot in rows}
    by_key = {(bot.team_id, bot.dedup_key): bot for bot in rows if bot.dedup_key}  # the newest wins
    found: dict[str, Bot] = {}
    for meeting in shown:
        bot = by_id.get(meeting.bot_id) if meeting.bot_id else by_key.get((meeting.team_id, meeting.current_key))
        if bot is not None:
            found[meeting.recall_event_id] = bot
    return found


async def event_ids_with_bot(session: AsyncSession, bot_id: str) -> list[str]:
    rows = await session.scalars(select(Meeting.recall_event_id).where(Meeting.bot_id == bot_id))
    return sorted(rows)


async def event_ids_showing(session: AsyncSession, bot: Bot) -> list[str]:
    """The meetings whose message shows the bot: its own, and colleagues' with its key and no bot of their own."""
    ids = set(await event_ids_with_bot(session, bot.bot_id))
    if bot.dedup_key:
        ids |= set(
            await session.scalars(
                select(Meeting.recall_event_id).where(
                    Meeting.team_id == bot.team_id,
                    Meeting.current_key == bot.dedup_key,
                    Meeting.bot_id.is_(None),
                    Meeting.is_deleted.is_(False),
                )
            )
        )
    return sorted(ids)


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


async def hand_over(session: AsyncSession, bot: Bot, *, leaving_event_id: str) -> None:
    """The member who scheduled the bot unscheduled it, and Recall keeps it for colleagues who share it: the one
    who may remove it becomes one of them (none left: nobody)."""
    successor = await session.scalar(
        select(Member.slack_user_id)
        .join(CalendarConnection, CalendarConnection.member_id == Member.id)
        .join(Meeting, Meeting.connection_id == CalendarConnection.id)
        .where(Meeting.bot_id == bot.bot_id, Meeting.recall_event_id != leaving_event_id)
        .order_by(Meeting.recall_event_id)
        .limit(1)
    )
    bot.scheduled_by = successor


async def delete_orphan_bots(session: AsyncSession) -> int:
    """Bots no meeting shows any more (their meetings were forgotten a month after they ended)."""
    result = await session.execute(
        delete(Bot).where(~Bot.bot_id.in_(select(Meeting.bot_id).where(Meeting.bot_id.is_not(None))))
    )
    return result.rowcount or 0
