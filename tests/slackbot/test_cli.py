"""`recall-slackbot serve | worker | migrate | manifest`: exit codes, messages, and the console script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy
import yaml

from slackbot.cli import build_parser, main
from storage.migrate import head_revision
from tests.unit_fixtures import EXPECTED_TABLES, isolate_settings

MISSING_NAMES = [
    "SECRET_KEY",
    "SLACK_SIGNING_SECRET",
    "RECALL_API_KEY",
    "RECALL_WEBHOOK_SECRET",
    "SLACK_BOT_TOKEN or SLACK_CLIENT_ID + SLACK_CLIENT_SECRET",
]
BIN = Path(sys.executable).parent


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    isolate_settings(monkeypatch, tmp_path)
    assert not (tmp_path / ".env").exists()
    return tmp_path


def clean_subprocess_env() -> dict[str, str]:
    """The test process's environment (already stripped of settings by the fixture)."""
    env = dict(os.environ)
    env.pop("PYTHONSTARTUP", None)
    return env


# ---------------------------------------------------------------------------------------------------------------------
# manifest
# ---------------------------------------------------------------------------------------------------------------------


def test_manifest_prints_yaml_with_the_public_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["manifest", "--public-url", "https://x.example"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert "https://x.example" in out
    manifest = yaml.safe_load(out)
    assert isinstance(manifest, dict)
    assert manifest["settings"]["event_subscriptions"]["request_url"] == "https://x.example/slack/events"
    assert manifest["settings"]["interactivity"]["request_url"] == "https://x.example/slack/events"
    assert manifest["oauth_config"]["redirect_urls"] == ["https://x.example/slack/oauth_redirect"]
    assert [c["url"] for c in manifest["features"]["slash_commands"]] == ["https://x.example/slack/events"]


def test_manifest_needs_no_configuration(capsys: pytest.CaptureFixture[str], isolated: Path) -> None:
    (isolated / ".env").write_text("RECALL_REGION=mars\n")  # would be a ConfigError for any other command
    assert main(["manifest", "--public-url", "https://bot.example.com"]) == 0
    assert "https://bot.example.com/slack/events" in capsys.readouterr().out


def test_manifest_requires_public_url(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["manifest"])
    assert info.value.code == 2
    assert "--public-url" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [[], ["dance"]])
def test_unknown_or_no_command_is_a_usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "usage: recall-slackbot" in capsys.readouterr().err


def test_parser_knows_every_contract_command() -> None:
    parser = build_parser()
    for command in (["serve"], ["worker"], ["migrate"], ["manifest", "--public-url", "https://x"]):
        assert parser.parse_args(command).command == command[0]


# ---------------------------------------------------------------------------------------------------------------------
# serve / worker without configuration
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_missing_configuration_exits_2_naming_every_variable(
    command: str, capsys: pytest.CaptureFixture[str], isolated: Path
) -> None:
    assert main([command]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    for name in MISSING_NAMES:
        assert name in err, name
    assert err.count("\n  ") == len(MISSING_NAMES)  # one line per variable, in one message
    assert "Traceback" not in err
    assert list(isolated.iterdir()) == []  # nothing created (no SQLite file before the check)


def test_partial_configuration_names_only_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SECRET_KEY", "k")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    named = [line.strip().split(":")[0] for line in err.splitlines()[1:] if line.strip()]
    assert named == ["SLACK_SIGNING_SECRET", "RECALL_API_KEY", "RECALL_WEBHOOK_SECRET"]


@pytest.mark.parametrize("command", ["serve", "worker", "migrate"])
def test_invalid_value_exits_2(
    command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RECALL_REGION", "mars")
    assert main([command]) == 2
    err = capsys.readouterr().err
    assert "RECALL_REGION" in err
    assert "Traceback" not in err


# ---------------------------------------------------------------------------------------------------------------------
# migrate
# ---------------------------------------------------------------------------------------------------------------------


def _tables_and_revision(path: Path) -> tuple[set[str], str | None]:
    engine = sqlalchemy.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            tables = set(sqlalchemy.inspect(conn).get_table_names())
            revision = conn.execute(sqlalchemy.text("SELECT version_num FROM alembic_version")).scalar_one()
    finally:
        engine.dispose()
    return tables, revision


def test_migrate_creates_tables_and_is_idempotent(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = tmp_path / "x.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{db}")
    # migrate needs no secrets: an operator can prepare the database before configuring the app.
    assert main(["migrate"]) == 0
    assert "Database is up to date." in capsys.readouterr().out
    tables, revision = _tables_and_revision(db)
    assert tables >= EXPECTED_TABLES
    assert "alembic_version" in tables
    assert revision == head_revision()

    assert main(["migrate"]) == 0
    assert "Database is up to date." in capsys.readouterr().out
    assert _tables_and_revision(db) == (tables, revision)


def test_migrate_reads_database_url_from_dotenv(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (isolated / ".env").write_text("DATABASE_URL=sqlite:///./from-dotenv.db\n")
    assert main(["migrate"]) == 0
    tables, _ = _tables_and_revision(isolated / "from-dotenv.db")
    assert tables >= EXPECTED_TABLES


# ---------------------------------------------------------------------------------------------------------------------
# Entry points as an operator runs them
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [[sys.executable, "-m", "slackbot", "--help"], [str(BIN / "recall-slackbot"), "--help"]],
    ids=["python-m-slackbot", "console-script"],
)
def test_help_from_the_command_line(argv: list[str], isolated: Path) -> None:
    if not Path(argv[0]).exists():
        pytest.fail(f"{argv[0]} is missing: is the package installed (pip install -e .)?")
    result = subprocess.run(argv, cwd=isolated, env=clean_subprocess_env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: recall-slackbot")
    for command in ("serve", "worker", "migrate", "manifest"):
        assert command in result.stdout
    assert result.stderr == ""


def test_console_script_serve_without_configuration(isolated: Path) -> None:
    result = subprocess.run(
        [str(BIN / "recall-slackbot"), "serve"],
        cwd=isolated,
        env=clean_subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    for name in MISSING_NAMES:
        assert name in result.stderr
    assert "Traceback" not in result.stderr
