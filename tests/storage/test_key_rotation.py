"""`rotate_secrets` on both databases: every secret under the first key, and safe beside a running app."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select, update

from storage.crypto import TokenCipher
from storage.db import Database
from storage.key_rotation import rotate_secrets
from storage.models import CalendarConnection
from tests.storage.conftest import add_member

OLD, NEW = "old-secret-key-0001", "new-secret-key-0002"


async def stored(db: Database) -> list[str]:
    async with db.transaction() as session:
        return list(await session.scalars(select(CalendarConnection.refresh_token_encrypted)))


async def test_two_keys_every_secret_ends_under_the_first(db: Database) -> None:
    await add_member(db)
    await add_member(db, user_id="U2", calendar="cal-2")
    async with db.transaction() as session:
        await session.execute(
            update(CalendarConnection).values(refresh_token_encrypted=TokenCipher([OLD]).encrypt("t"))
        )
    async with db.transaction() as session:
        report = await rotate_secrets(session, TokenCipher([NEW, OLD]))
    assert report.refresh_tokens == 2
    assert [TokenCipher([NEW]).decrypt(value) for value in await stored(db)] == ["t", "t"]


async def test_a_secret_the_app_replaced_meanwhile_is_left_alone(db: Database) -> None:
    """The app (with the new key first) stores a reconnect's new token between the rotation's read and its write:
    the rotation's compare-and-set leaves the newer token as it is, instead of writing the old one back."""
    await add_member(db)
    async with db.transaction() as session:
        await session.execute(
            update(CalendarConnection).values(refresh_token_encrypted=TokenCipher([OLD]).encrypt("old-token"))
        )
    fresh = TokenCipher([NEW, OLD]).encrypt("new-token")
    async with db.transaction() as session:
        real_execute = session.execute
        raced: list[bool] = []

        async def execute(statement: Any, *args: Any, **kwargs: Any) -> Any:
            result = await real_execute(statement, *args, **kwargs)
            if isinstance(statement, Select) and not raced:
                raced.append(True)  # the app writes right after the rotation read the table
                await real_execute(update(CalendarConnection).values(refresh_token_encrypted=fresh))
            return result

        session.execute = execute  # type: ignore[method-assign]
        report = await rotate_secrets(session, TokenCipher([NEW, OLD]))
    assert raced
    assert report.refresh_tokens == 0  # nothing of the old key was left to rotate
    assert await stored(db) == [fresh]
    assert TokenCipher([NEW]).decrypt(fresh) == "new-token"
