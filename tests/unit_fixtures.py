"""Helpers shared by the unit tests (imported explicitly; tests/conftest.py belongs to the scenario suite)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from slackbot.settings import Settings

# A complete configuration, as an operator would put it in the environment.
COMPLETE_ENV = {
    "SECRET_KEY": "unit-test-secret-key",
    "SLACK_SIGNING_SECRET": "unit-test-signing-secret",
    "SLACK_BOT_TOKEN": "xoxb-unit-test",
    "RECALL_API_KEY": "unit-test-recall-key",
    "RECALL_WEBHOOK_SECRET": "whsec_dW5pdC10ZXN0",
}


def isolate_settings(monkeypatch: pytest.MonkeyPatch, workdir: Path) -> None:
    """Run in ``workdir`` (so no stray `.env` is read) with every Settings variable removed from the environment.

    pydantic-settings matches names case-insensitively here, so lower-case spellings are removed too.
    """
    monkeypatch.chdir(workdir)
    names = set(Settings.model_fields)
    for key in list(os.environ):
        if key.lower() in names:
            monkeypatch.delenv(key, raising=False)


# Every table the migrations create.
EXPECTED_TABLES = {
    "members",
    "calendar_connections",
    "calendar_oauth_states",
    "pending_calendar_deletions",
    "webhook_deliveries",
    "calendar_syncs",
    "meetings",
    "series_choices",
    "workspace_policies",
    "digests",
    "bots",
    "slack_installations",
    "slack_bots",
    "slack_oauth_states",
}
