from __future__ import annotations

import logging

from slackbot.log_format import EventFormatter


def test_extra_fields_are_appended_sorted() -> None:
    record = logging.LogRecord("slackbot", logging.INFO, __file__, 1, "recall.webhook.accepted", None, None)
    record.event = "calendar.update"
    record.attempt = 2
    line = EventFormatter("%(levelname)s %(message)s").format(record)
    assert line == "INFO recall.webhook.accepted attempt=2 event=calendar.update"


def test_plain_records_stay_plain() -> None:
    record = logging.LogRecord("slackbot", logging.WARNING, __file__, 1, "hello %s", ("world",), None)
    assert EventFormatter("%(message)s").format(record) == "hello world"
