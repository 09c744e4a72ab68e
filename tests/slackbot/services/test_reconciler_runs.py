"""`Reconciler.run`: a meeting that changed while it was acted on is acted on again, and the outcomes merge."""

from __future__ import annotations

from typing import Any

import pytest

from slackbot.meetings.decision import BotState, Decision
from slackbot.services.reconciler import MAX_RUNS, Outcome, Reconciler

ASK = Decision(BotState.ASK, False)
SCHEDULED = Decision(BotState.SCHEDULED, True)


class Scripted(Reconciler):
    def __init__(self, outcomes: list[Outcome]) -> None:  # no database, Recall or Slack: `_once` is scripted
        self._outcomes = outcomes
        self.runs = 0

    async def _once(self, event_id: str, **kwargs: Any) -> Outcome:
        self.runs += 1
        return self._outcomes.pop(0)


async def test_a_second_run_keeps_the_first_runs_refusal_and_merges_the_colleagues() -> None:
    reconciler = Scripted(
        [
            Outcome(ASK, refused=True, bot_active=True, colleagues=("c1",), changed_meanwhile=True),
            Outcome(SCHEDULED, colleagues=("c2", "c1"), changed_meanwhile=False),
        ]
    )
    outcome = await reconciler.run("e1", now=None)  # type: ignore[arg-type]
    assert reconciler.runs == 2
    assert outcome == Outcome(SCHEDULED, refused=True, bot_active=True, colleagues=("c1", "c2"))


@pytest.mark.parametrize("deferred", [True, False])
async def test_runs_stop_after_max_runs_and_say_whether_the_last_was_deferred(deferred: bool) -> None:
    changing = [Outcome(ASK, changed_meanwhile=True) for _ in range(MAX_RUNS - 1)]
    reconciler = Scripted([*changing, Outcome(ASK, deferred=deferred, changed_meanwhile=True)])
    outcome = await reconciler.run("e1", now=None)  # type: ignore[arg-type]
    assert reconciler.runs == MAX_RUNS
    assert outcome.deferred is deferred
    assert outcome.changed_meanwhile is True
    assert outcome.colleagues == ()
