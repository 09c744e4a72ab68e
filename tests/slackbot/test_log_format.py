from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy.exc import OperationalError

from slackbot.log_format import (
    QUIET_LOGGERS,
    CollapseDatabaseDown,
    DropBoltTokenUnused,
    EventFormatter,
    JsonFormatter,
    configure_logging,
)


def test_extra_fields_are_appended_sorted() -> None:
    record = logging.LogRecord("slackbot", logging.INFO, __file__, 1, "recall.webhook.accepted", None, None)
    record.event = "calendar.update"
    record.attempt = 2
    line = EventFormatter("%(levelname)s %(message)s").format(record)
    assert line == "INFO recall.webhook.accepted attempt=2 event=calendar.update"


def test_plain_records_stay_plain() -> None:
    record = logging.LogRecord("slackbot", logging.WARNING, __file__, 1, "hello %s", ("world",), None)
    assert EventFormatter("%(message)s").format(record) == "hello world"


def record(
    message: str = "meetings.reconcile_failed", *, exc: BaseException | None = None, **extra: object
) -> logging.LogRecord:
    exc_info = (type(exc), exc, None) if exc is not None else None
    made = logging.LogRecord("slackbot.services", logging.ERROR, __file__, 1, message, None, exc_info)
    for key, value in extra.items():
        setattr(made, key, value)
    return made


def test_json_lines_carry_the_event_and_its_extras() -> None:
    line = JsonFormatter().format(record("webhooks.delivery_failed", delivery_id=7, error="ValueError"))
    entry = json.loads(line)
    assert entry["level"] == "ERROR"
    assert entry["logger"] == "slackbot.services"
    assert entry["message"] == "webhooks.delivery_failed"
    assert (entry["delivery_id"], entry["error"]) == (7, "ValueError")
    assert entry["time"].endswith("+00:00")


def test_colour_never_reaches_a_log_line() -> None:
    coloured = record("\x1b[32mINFO\x1b[0m started", color_message="\x1b[32mstarted\x1b[0m")
    assert EventFormatter("%(message)s").format(coloured) == "INFO started"
    assert "color_message" not in json.loads(JsonFormatter().format(coloured))
    assert "\x1b" not in JsonFormatter().format(coloured)


def test_bolts_token_unused_warning_is_dropped() -> None:
    assert not DropBoltTokenUnused().filter(record("As you gave `client` as well, `token` will be unused."))
    assert DropBoltTokenUnused().filter(record("anything else"))


def test_a_database_that_is_down_gives_one_line_a_minute_not_a_traceback_each_time() -> None:
    now = [1000.0]
    collapse = CollapseDatabaseDown(every=60, clock=lambda: now[0])
    down = OperationalError("SELECT 1", {}, ConnectionRefusedError("refused"))
    first = record(exc=down)
    assert collapse.filter(first)
    assert first.exc_info is None and first.error == "OperationalError"  # one line
    for _ in range(5):
        now[0] += 10
        assert not collapse.filter(record(exc=down))
    now[0] += 11
    later = record(exc=down)
    assert collapse.filter(later)
    assert later.repeated == 5
    other = record(exc=ValueError("a bug"))
    assert collapse.filter(other) and other.exc_info is not None  # other errors keep their traceback


@pytest.mark.parametrize(("level", "quiet"), [("INFO", logging.WARNING), ("DEBUG", logging.DEBUG)])
def test_third_party_noise_stays_out_of_the_default_level(level: str, quiet: int) -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, {n: logging.getLogger(n).level for n in QUIET_LOGGERS})
    try:
        configure_logging(level, fmt="json")
        assert isinstance(root.handlers[0].formatter, JsonFormatter)
        assert root.level == logging.getLevelName(level)
        for name in ("alembic", "apscheduler", "slack_bolt"):
            assert logging.getLogger(name).level == quiet
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
        for name, value in saved[2].items():
            logging.getLogger(name).setLevel(value)
