"""Log lines an operator can use: events with their `extra` fields (ids only, never bodies), as text or JSON.

Third-party noise stays out of the default level, colour codes never reach a file, and a database that is down
gives one line a minute instead of a traceback per request.
"""

from __future__ import annotations

import json
import logging
import re
import time
from datetime import UTC, datetime
from typing import Any

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}
# Extras some libraries add that carry nothing an operator needs (uvicorn's copy of the message with ANSI colours).
_DROPPED = frozenset({"color_message"})
_ANSI = re.compile(r"\x1b\[[0-9;]*m")

# Loggers that are chatty at INFO about their own workings: shown from WARNING on, unless LOG_LEVEL=DEBUG.
QUIET_LOGGERS = ("alembic", "apscheduler", "slack_bolt", "slack_sdk", "httpx", "httpcore", "aiosqlite", "asyncio")
# Bolt warns that `token` is unused when the app gives it a client too, which it does on purpose.
_BOLT_TOKEN_UNUSED = "`token` will be unused"
# A repeated database failure is logged at most this often (with how many were held back).
REPEAT_SECONDS = 60.0


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and k not in _DROPPED and not k.startswith("_")}


class EventFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = _ANSI.sub("", super().format(record))
        extras = _extras(record)
        if extras:
            line += " " + " ".join(f"{key}={value}" for key, value in sorted(extras.items()))
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the extras, and the exception if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": _ANSI.sub("", record.getMessage()),
        }
        entry.update({key: value if _plain(value) else str(value) for key, value in _extras(record).items()})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


class DropBoltTokenUnused(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return _BOLT_TOKEN_UNUSED not in record.getMessage()


class CollapseDatabaseDown(logging.Filter):
    """The same database failure (same logger and message, an exception raised by the database driver or the
    network) at most once every ``every`` seconds; the line that goes out says how many were held back."""

    def __init__(self, every: float = REPEAT_SECONDS, clock: Any = time.monotonic) -> None:
        super().__init__()
        self._every = every
        self._clock = clock
        self._last: dict[tuple[str, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.exc_info or not _database_down(record.exc_info[1]):
            return True
        key = (record.name, record.msg if isinstance(record.msg, str) else str(record.msg))
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last[0] < self._every:
            self._last[key] = (last[0], last[1] + 1)
            return False
        held_back = last[1] if last is not None else 0
        self._last[key] = (now, 0)
        if held_back:
            record.repeated = held_back  # type: ignore[attr-defined]
        # One line, not a traceback: the exception's type says what happened.
        record.error = type(record.exc_info[1]).__name__  # type: ignore[attr-defined]
        record.exc_info = None
        record.exc_text = None
        return True


def _database_down(exc: BaseException | None) -> bool:
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    while exc is not None:
        if isinstance(exc, OperationalError | InterfaceError | ConnectionError | OSError | TimeoutError):
            return True
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def configure_logging(level: int | str = logging.INFO, *, fmt: str = "text") -> None:
    level = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(EventFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(DropBoltTokenUnused())
    handler.addFilter(CollapseDatabaseDown())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    quiet = logging.WARNING if level > logging.DEBUG else logging.DEBUG
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(quiet)
