"""Engine and session factory; the caller owns every transaction.

SQLite allows one writer at a time. Left to itself it makes concurrent transactions that read and then write
fail at once with "database is locked" (the busy timeout cannot help a reader that wants to become a writer while
another writer waits for it), and under a burst the pool runs dry behind them. So on SQLite: the journal is
WAL (readers never wait for the writer), every transaction takes the write lock when it begins (`BEGIN
IMMEDIATE`: it waits for the busy timeout instead of dead-locking, also against other processes), and within a
process transactions queue for one lock in the order they arrive instead of polling the database file.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from weakref import WeakKeyDictionary

import aiosqlite
from sqlalchemy import event
from sqlalchemy import exc as exc_module
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def async_database_url(url: str) -> str:
    """Map a plain SQLAlchemy URL to its async driver (aiosqlite, asyncpg)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite" and parsed.drivername != "sqlite+aiosqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif backend in ("postgresql", "postgres") and parsed.drivername != "postgresql+asyncpg":
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


class _SQLiteConnection(aiosqlite.Connection):
    """aiosqlite's connection, safe to close after it was stopped.

    When a task is cancelled in the middle of a query, SQLAlchemy terminates the connection: it starts a
    graceful ``close()`` in a shielded task and, being cancelled itself, also force-stops the worker thread.
    ``close()`` ends by asking that thread to stop once more and waits for its answer; the thread has already
    left, so the wait never ends and the event loop cannot shut down (seen with SQLAlchemy 2.1 and aiosqlite
    0.22.1: a test session and a stopping server both hung). A second stop here answers at once instead.
    """

    _stop_requested = False

    def stop(self) -> asyncio.Future[Any] | None:
        if self._stop_requested:
            return None
        self._stop_requested = True
        return super().stop()


def _sqlite_creator(engine_url: str, connect_args: dict[str, Any]) -> Any:
    """An ``async_creator`` opening :class:`_SQLiteConnection`s with the arguments the URL asks for."""
    from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite

    args, options = SQLiteDialect_aiosqlite().create_connect_args(make_url(engine_url))
    options = {**options, **connect_args}

    async def connect() -> aiosqlite.Connection:
        connection = _SQLiteConnection(lambda: sqlite3.connect(*args, **options), iter_chunk_size=64)
        # As SQLAlchemy does for the connections it opens itself: a connection nobody closed must not keep
        # the interpreter from exiting.
        connection._thread.daemon = True
        return await connection

    return connect


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    async_url = async_database_url(url)
    if is_sqlite(url):
        connect_args = {"timeout": 30} | kwargs.pop("connect_args", {})
        kwargs.setdefault("async_creator", _sqlite_creator(async_url, connect_args))
    engine = create_async_engine(async_url, **kwargs)
    if not is_sqlite(url):
        _ping_when_idle(engine)
    if is_sqlite(url):

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # The driver's own implicit BEGIN is switched off: `_begin_immediate` starts every transaction.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            if make_url(url).database not in (None, "", ":memory:"):
                _use_wal(cursor)
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(connection: Any) -> None:
            # `Database.transaction()` takes the write lock up front; other reads (migrations, health) need not.
            immediate = connection.get_execution_options().get(SQLITE_IMMEDIATE, False)
            connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


# A pooled server connection unused for longer than this is pinged before it is handed out (a restarted server or
# an idle-timeout on the way drops such connections); one used more recently is handed out as it is.
PING_AFTER_IDLE_SECONDS = 5.0


def _ping_when_idle(engine: AsyncEngine) -> None:
    """SQLAlchemy's `pool_pre_ping`, but only for connections that sat idle: under load every transaction would
    otherwise pay one more round trip (the pessimistic-disconnect recipe of SQLAlchemy's pooling docs: a checkout
    listener that raises `DisconnectionError` makes the pool replace the connection and try again)."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _note_idle(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise exc_module.DisconnectionError() from exc
        if not alive:
            raise exc_module.DisconnectionError()


SQLITE_BUSY_TIMEOUT_MS = 30000
SQLITE_IMMEDIATE = "sqlite_begin_immediate"
# Switching a new file to WAL needs it to itself for a moment, and SQLite answers "locked" at once, without waiting
# out the busy timeout, to a process that asks while another holds it (replicas starting together on a new file).
WAL_ATTEMPTS = 20
WAL_RETRY_SECONDS = 0.05


def _use_wal(cursor: Any) -> None:
    """Readers beside the writer: WAL is a property of the file, so it is set once and found set afterwards."""
    for attempt in range(1, WAL_ATTEMPTS + 1):
        try:
            cursor.execute("PRAGMA journal_mode")
            if str(cursor.fetchone()[0]).lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == WAL_ATTEMPTS:
                raise
            time.sleep(WAL_RETRY_SECONDS)


class Database:
    """Holds the engine and hands out sessions; ``transaction()`` commits on success."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._one_writer = engine.dialect.name == "sqlite"
        bind = engine.execution_options(**{SQLITE_IMMEDIATE: True}) if self._one_writer else engine
        self.sessions = async_sessionmaker(bind, expire_on_commit=False)
        # One queue per event loop (tests drive one Database from several loops; each lock belongs to one).
        self._queues: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = WeakKeyDictionary()
        self._holders: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task[Any]] = WeakKeyDictionary()

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls(create_engine(url))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        if not self._one_writer:
            async with self.sessions() as session, session.begin():
                yield session
            return
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        if task is not None and self._holders.get(loop) is task:
            raise RuntimeError("a transaction opened inside another one would wait for itself on SQLite")
        queue = self._queues.setdefault(loop, asyncio.Lock())
        async with queue:
            if task is not None:
                self._holders[loop] = task
            try:
                async with self.sessions() as session, session.begin():
                    yield session
            finally:
                self._holders.pop(loop, None)

    async def ping(self) -> None:
        from sqlalchemy import text

        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
