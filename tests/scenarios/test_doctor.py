"""`recall-slackbot doctor` against the twins: every check passes on a good setup, and each broken piece is one
failing line that says what to fix (issue 11)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from slackbot.doctor import Status, diagnose, passed, render
from slackbot.settings import Settings
from tests.conftest import BOT_TOKEN
from tests.scenarios.harness import SIGNING_SECRET, WEBHOOK_SECRET, LiveServer
from tests.twins.fake_slack import FakeSlack
from tests.unit_fixtures import isolate_settings


def run(settings: Settings, **changes: Any) -> list[Any]:
    return asyncio.run(diagnose(settings.model_copy(update=changes)))


def by_name(checks: list[Any], name: str) -> Any:
    (check,) = [c for c in checks if c.name == name]
    return check


def test_a_good_setup_passes_every_check(live: LiveServer) -> None:
    checks = run(live.settings)
    assert passed(checks), render(checks)
    assert {c.name for c in checks} >= {"configuration", "slack", "slack scopes", "recall", "google", "database"}
    assert (
        "the redirect URI to register is " + live.url + "/calendar/oauth/google/callback"
        in by_name(checks, "google").detail
    )
    assert by_name(checks, "public url").status is Status.OK
    text = render(checks)
    for secret in (BOT_TOKEN, live.settings.recall_api_key, SIGNING_SECRET, WEBHOOK_SECRET, live.settings.secret_key):
        assert secret not in text


@pytest.mark.parametrize(
    ("changes", "name", "words"),
    [
        ({"slack_bot_token": "xoxb-not-a-token"}, "slack", "auth.test refused the token (invalid_auth)"),
        ({"recall_api_key": "wrong-key"}, "recall", "refused the API key (401)"),
        ({"google_oauth_metadata_url": "http://127.0.0.1:9/nothing"}, "google", "did not load"),
        ({"public_url": "http://127.0.0.1:9"}, "public url", "is not reachable from this machine"),
        ({"recall_webhook_secret": "not-a-secret"}, "configuration", "RECALL_WEBHOOK_SECRET: not a Svix"),
        ({"google_client_id": "", "microsoft_client_id": ""}, "calendar providers", "none configured"),
    ],
)
def test_each_broken_piece_is_one_failing_line_saying_what_to_fix(
    live: LiveServer, changes: dict[str, Any], name: str, words: str
) -> None:
    checks = run(live.settings, **changes)
    assert not passed(checks)
    failing = [c for c in checks if c.status is Status.FAIL]
    assert [c.name for c in failing] == [name]
    assert words in failing[0].detail


def test_missing_scopes_are_named(live: LiveServer, fake_slack: FakeSlack) -> None:
    fake_slack.add_workspace("T0OTHER001", "Other", bot_token="xoxb-narrow", scopes=["commands", "chat:write"])
    check = by_name(run(live.settings, slack_bot_token="xoxb-narrow"), "slack scopes")
    assert check.status is Status.FAIL
    assert "im:history" in check.detail and "reinstall" in check.detail


def test_the_cli_exits_1_when_a_check_fails(
    live: LiveServer, monkeypatch: pytest.MonkeyPatch, capsys: Any, tmp_path: Path
) -> None:
    from slackbot.cli import main

    isolate_settings(monkeypatch, tmp_path)  # no stray .env, no settings from the environment
    import logging

    from slackbot.log_format import QUIET_LOGGERS

    for name in (*QUIET_LOGGERS, ""):  # main() configures logging for the process: put it back after
        monkeypatch.setattr(logging.getLogger(name), "level", logging.getLogger(name).level)
    monkeypatch.setattr(logging.getLogger(), "handlers", logging.getLogger().handlers[:])

    values = {
        "DATABASE_URL": live.settings.database_url,
        "PUBLIC_URL": live.url,
        "SECRET_KEY": "doctor-test-secret-key",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": live.settings.slack_api_url,
        "RECALL_API_KEY": live.settings.recall_api_key,
        "RECALL_API_URL": live.settings.recall_api_url,
        "RECALL_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "GOOGLE_CLIENT_ID": live.settings.google_client_id,
        "GOOGLE_CLIENT_SECRET": live.settings.google_client_secret,
        "GOOGLE_OAUTH_METADATA_URL": live.settings.google_oauth_metadata_url,
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    assert main(["doctor"]) == 0, capsys.readouterr()
    assert capsys.readouterr().out.count("\n") >= 6
    monkeypatch.setenv("RECALL_API_KEY", "wrong-key")
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "[FAIL] recall:" in out and "wrong-key" not in out
