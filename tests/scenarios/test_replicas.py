"""Two replicas as two OS processes on one PostgreSQL database: a click on one racing a sync or a click on the
other never leaves a stale bot or a stale ``scheduled_key`` behind (a lease per meeting, and a version that
tells a run the meeting changed while it acted)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from storage.lifecycle import ReconcileStatus
from storage.models import Meeting
from tests.conftest import TEAM_ID
from tests.scenarios.harness import Harness
from tests.scenarios.test_meetings import ADA, connect, message_for, soon

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)

ROOT = Path(__file__).resolve().parents[2]


def other_replica(h: Harness, **job: Any) -> dict[str, Any]:
    """Run one job in a second process (see tests/scenarios/replica.py) and return what it printed."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.scenarios.replica"],
        input=json.dumps({"settings": h.settings.model_dump(mode="json"), **job}),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def meeting_row(h: Harness, event_id: str) -> Meeting:
    (row,) = h.rows(Meeting, Meeting.recall_event_id == event_id)
    return row


def clicking(h: Harness, action_id: str, event_id: str) -> threading.Thread:
    thread = threading.Thread(target=h.click, kwargs={"action_id": action_id, "value": event_id, "user_id": ADA})
    thread.start()
    return thread


def test_a_sync_in_another_process_during_a_click_moves_the_bot_with_the_meeting(h: Harness) -> None:
    cal = connect(h, ADA, "ada@acme.test")
    event = h.recall.add_event(cal, start_time=soon(30), title="Moving target")
    h.sync(cal)
    hold = h.recall.hold("POST", f"/api/v2/calendar-events/{event['id']}/bot/")
    click = clicking(h, "schedule_bot", event["id"])
    try:
        assert hold.entered.wait(10), "the click never reached Recall"
        moved = soon(54)
        h.recall.update_event(event["id"], start_time=moved, end_time=moved + timedelta(minutes=30))
        # The other process stores the new time but leaves the meeting to the process acting on it.
        assert other_replica(h, action="sync", calendar_id=cal) == {"acted_on": 0}
        row = meeting_row(h, event["id"])
        assert row.claimed_by is not None and row.status is ReconcileStatus.PENDING
    finally:
        h.recall.release_holds()
        click.join(30)
    assert not click.is_alive()

    row = meeting_row(h, event["id"])
    bot = h.recall.bot_for_event(event["id"])
    assert bot is not None and bot["deduplication_key"] == row.current_key == row.scheduled_key
    assert moved.strftime("%Y-%m-%dT%H:%M:%SZ") in row.scheduled_key
    assert (row.status, row.claimed_by, row.choice) == (ReconcileStatus.SETTLED, None, "schedule")
    assert str(int(moved.timestamp())) in str(message_for(h, ADA, event["id"]).blocks)


def test_a_skip_clicked_in_another_process_while_this_one_schedules_wins(h: Harness) -> None:
    """Without compare-and-set the scheduling run would write back its ``scheduled_key`` (and its choice) over
    the member's later skip, and the bot would join a meeting the member skipped."""
    cal = connect(h, ADA, "ada@acme.test")
    event = h.recall.add_event(cal, start_time=soon(30), title="Changed my mind")
    h.sync(cal)
    hold = h.recall.hold("POST", f"/api/v2/calendar-events/{event['id']}/bot/")
    click = clicking(h, "schedule_bot", event["id"])
    try:
        assert hold.entered.wait(10), "the click never reached Recall"
        skipped = other_replica(h, action="choose", team_id=TEAM_ID, user_id=ADA, event_id=event["id"], choice="skip")
        assert skipped == {"deferred": True, "error": None}  # stored for the run in progress
        assert meeting_row(h, event["id"]).choice == "skip"
    finally:
        h.recall.release_holds()
        click.join(30)
    assert not click.is_alive()

    row = meeting_row(h, event["id"])
    assert h.recall.bot_for_event(event["id"]) is None
    assert (row.choice, row.scheduled_key, row.status, row.claimed_by) == ("skip", None, ReconcileStatus.SETTLED, None)
    assert "skip" in json.dumps(message_for(h, ADA, event["id"]).blocks).lower()
