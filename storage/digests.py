"""Digests: messages showing several of a member's meetings (the daily agenda, the connect summary)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage import leases
from storage.lifecycle import DigestKind, ReconcileStatus
from storage.models import Digest


def agenda_key(day: date) -> str:
    return day.isoformat()


def summary_key(connection_id: int) -> str:
    return f"connection:{connection_id}"


async def create_digest(
    session: AsyncSession,
    *,
    member_id: int,
    kind: DigestKind,
    key: str,
    now: datetime,
    live_until: datetime,
    day: date | None = None,
    connection_id: int | None = None,
    replaced_email: str | None = None,
) -> Digest | None:
    """A new digest, due now; None if the member already has this one (another process made it: one agenda a
    day, exactly)."""
    digest = Digest(
        member_id=member_id,
        kind=kind,
        key=key,
        day=day,
        connection_id=connection_id,
        replaced_email=replaced_email,
        may_post=True,
        status=ReconcileStatus.PENDING,
        due_at=now,
        attempts=0,
        version=1,
        live_until=live_until,
        created_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(digest)
            await session.flush()
    except IntegrityError:
        return None
    return digest


async def note_post_sent(session: AsyncSession, digest_id: int, *, at: datetime) -> None:
    """The digest's first post is leaving now (found again by this time if its answer is never recorded)."""
    await session.execute(
        update(Digest)
        .where(Digest.id == digest_id, Digest.message_ts.is_(None))
        .values(post_sent_at=at)
        .execution_options(synchronize_session=False)
    )


async def forget_digest(session: AsyncSession, *, member_id: int, kind: DigestKind, key: str) -> None:
    """The member's digest of that kind and key is no longer kept in line (a new one takes its place)."""
    await session.execute(delete(Digest).where(Digest.member_id == member_id, Digest.kind == kind, Digest.key == key))


async def has_digest(session: AsyncSession, *, member_id: int, kind: DigestKind, key: str) -> bool:
    found = await session.scalar(
        select(Digest.id).where(Digest.member_id == member_id, Digest.kind == kind, Digest.key == key)
    )
    return found is not None


async def mark_member_digests_pending(session: AsyncSession, *, member_id: int, now: datetime) -> int:
    """A meeting of the member changed what it shows: their live digests are rendered again (and updated in place
    only where that changed)."""
    result = await session.execute(
        update(Digest)
        .where(Digest.member_id == member_id, Digest.live_until > now)
        .values(status=ReconcileStatus.PENDING, due_at=now, attempts=0, version=Digest.version + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


async def due_digests(session: AsyncSession, *, now: datetime, limit: int = 200) -> list[int]:
    rows = await session.scalars(
        select(Digest.id)
        .where(
            Digest.status.in_([ReconcileStatus.PENDING, ReconcileStatus.RETRYING]),
            Digest.due_at <= now,
            leases.claimable(Digest, now),
        )
        .order_by(Digest.due_at)
        .limit(limit)
    )
    return list(rows)


async def claim_digest(session: AsyncSession, digest_id: int, *, owner: str, lease: timedelta, now: datetime) -> bool:
    return bool(await leases.claim(session, Digest, [digest_id], owner=owner, lease=lease, now=now))


async def delete_old_digests(session: AsyncSession, *, before: datetime) -> int:
    result = await session.execute(delete(Digest).where(Digest.live_until < before))
    return result.rowcount or 0
