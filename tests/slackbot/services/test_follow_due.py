"""`follow_due`: when the meetings bot webhooks changed are acted on (pure, table-tested)."""

from __future__ import annotations

import pytest

from slackbot.services.webhook_processor import FOLLOW_QUIET, FOLLOW_SETTLE, MAX_FOLLOW_WAIT, follow_due

QUIET = FOLLOW_QUIET.total_seconds()
SETTLE = FOLLOW_SETTLE.total_seconds()
LONGEST = MAX_FOLLOW_WAIT.total_seconds()
BUSY, CALM = True, False

# (name, now, first touched, last stored, drained, busy, seconds to wait)
TABLE = [
    ("one status, the intake quiet for a second: now", 101.0, 100.0, 100.0, True, CALM, 0.0),
    ("one status, stored just now: wait for the intake to be quiet", 100.2, 100.0, 100.2, True, CALM, QUIET),
    ("a burst still being handled: wait", 103.0, 100.0, 102.9, False, BUSY, LONGEST - 3.0),
    ("handled, a burst still arriving: wait for a quiet second", 103.0, 100.0, 102.5, True, BUSY, 0.5),
    (
        "a steady trickle (no burst) never pauses: its meetings go after settling",
        100.0 + SETTLE,
        100.0,
        100.0 + SETTLE,
        True,
        CALM,
        0.0,
    ),
    ("... and not before", 101.0, 100.0, 101.0, True, CALM, min(QUIET, SETTLE - 1.0)),
    ("a burst that never pauses: no longer than the cap", 100.0 + LONGEST, 100.0, 100.0 + LONGEST, True, BUSY, 0.0),
    ("... even with a backlog in hand", 100.0 + LONGEST + 1, 100.0, 100.0 + LONGEST, False, BUSY, 0.0),
    ("the cap comes before the quiet second", 100.0 + LONGEST - 0.25, 100.0, 100.0 + LONGEST - 0.5, True, BUSY, 0.25),
    ("no webhook stored by this process (a rescan found it): now", 100.0, 100.0, None, True, CALM, 0.0),
]


@pytest.mark.parametrize(
    ("name", "now", "first", "last", "drained", "busy", "wait"), TABLE, ids=[row[0] for row in TABLE]
)
def test_follow_due(
    name: str, now: float, first: float, last: float | None, drained: bool, busy: bool, wait: float
) -> None:
    due = follow_due(
        now=now,
        first_touched=first,
        last_stored=last,
        drained=drained,
        busy=busy,
        quiet=QUIET,
        settle=SETTLE,
        longest=LONGEST,
    )
    assert due == pytest.approx(wait)
