"""`recall-slackbot serve | worker | migrate | manifest`: exit codes, messages, and the console script."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy
import yaml

from slackbot.cli import build_parser, main
from storage.crypto import TokenCipher
from storage.migrate import head_revision
from tests.unit_fixtures import COMPLETE_ENV, EXPECTED_TABLES, isolate_settings

MISSING_NAMES = [
    "SECRET_KEY",
    "SLACK_SIGNING_SECRET",
    "RECALL_API_KEY",
    "RECALL_WEBHOOK_SECRET",
    "SLACK_BOT_TOKEN or SLACK_CLIENT_ID + SLACK_CLIENT_SECRET",
]
BIN = Path(sys.executable).parent


@pytest.fixture(autouse=True)
def logging_restored() -> Iterator[None]:
    """`main()` configures logging for the process (levels of third-party loggers too): put it back after."""
    import logging

    from slackbot.log_format import QUIET_LOGGERS

    root = logging.getLogger()
    saved = (root.handlers[:], root.level, {name: logging.getLogger(name).level for name in QUIET_LOGGERS})
    yield
    root.handlers[:], root.level = saved[0], saved[1]
    for name, level in saved[2].items():
        logging.getLogger(name).setLevel(level)


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
    for command in (["serve"], ["worker"], ["migrate"], ["rotate-keys"], ["manifest", "--public-url", "https://x"]):
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
    monkeypatch.setenv("SECRET_KEY", "a-long-enough-secret-key")
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
# rotate-keys and --version
# ---------------------------------------------------------------------------------------------------------------------


def _seed_secrets(db: Path, cipher: TokenCipher) -> None:
    """One connection's refresh token, one pending sign-in's verifier, one Slack bot token, under ``cipher``."""
    engine = sqlalchemy.create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.execute(
            sqlalchemy.text(
                "INSERT INTO members (id, team_id, slack_user_id, rule_accepted_only, excluded_keywords, notify,"
                " remind, active, created_at) VALUES (1, 'T', 'U', false, '[]', 'each', true, true, '2026-01-01')"
            )
        )
        conn.execute(
            sqlalchemy.text(
                "INSERT INTO calendar_connections (id, member_id, provider, email, recall_calendar_id, status,"
                " refresh_token_encrypted, created_at, updated_at)"
                " VALUES (1, 1, 'google', 'a@b.c', 'cal', 'connected', :t, '2026-01-01', '2026-01-01')"
            ),
            {"t": cipher.encrypt("refresh-token")},
        )
        conn.execute(
            sqlalchemy.text(
                "INSERT INTO calendar_oauth_states (id, link_token_hash, team_id, slack_user_id, provider,"
                " code_verifier_encrypted, created_at, expires_at)"
                " VALUES (1, 'h', 'T', 'U', 'google', :v, '2026-01-01', '2099-01-01')"
            ),
            {"v": cipher.encrypt("verifier")},
        )
        conn.execute(
            sqlalchemy.text(
                "INSERT INTO slack_bots (id, client_id, app_id, team_id, bot_token, bot_id, bot_user_id,"
                " is_enterprise_install, installed_at) VALUES (1, 'c', 'A', 'T', :b, 'B', 'UB', 0, '2026-01-01')"
            ),
            {"b": cipher.encrypt("xoxb-secret")},
        )
    engine.dispose()


def _stored_secrets(db: Path) -> list[str]:
    engine = sqlalchemy.create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        values = [
            conn.execute(sqlalchemy.text("SELECT refresh_token_encrypted FROM calendar_connections")).scalar_one(),
            conn.execute(sqlalchemy.text("SELECT code_verifier_encrypted FROM calendar_oauth_states")).scalar_one(),
            conn.execute(sqlalchemy.text("SELECT bot_token FROM slack_bots")).scalar_one(),
        ]
    engine.dispose()
    return values


@pytest.fixture
def secrets_under_old_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A migrated SQLite database holding one secret of each kind, encrypted with the key `old-key`."""
    db = tmp_path / "keys.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{db}")
    assert main(["migrate"]) == 0
    _seed_secrets(db, TokenCipher(["old-key"]))
    return db


def test_rotate_keys_re_encrypts_every_secret_under_the_first_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], secrets_under_old_key: Path
) -> None:
    db = secrets_under_old_key
    monkeypatch.setenv("SECRET_KEY", "new-key,old-key")
    assert main(["rotate-keys"]) == 0
    out = capsys.readouterr().out
    assert "1 calendar refresh tokens, 1 pending sign-ins and 1 Slack tokens" in out
    new_only = TokenCipher(["new-key"])
    assert [new_only.decrypt(v) for v in _stored_secrets(db)] == ["refresh-token", "verifier", "xoxb-secret"]
    assert "refresh-token" not in out


def test_rotate_keys_without_the_old_key_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], secrets_under_old_key: Path
) -> None:
    db = secrets_under_old_key
    before = _stored_secrets(db)
    monkeypatch.setenv("SECRET_KEY", "new-key")
    assert main(["rotate-keys"]) == 2
    err = capsys.readouterr().err
    assert "keep the old key" in err and "Traceback" not in err
    assert _stored_secrets(db) == before
    monkeypatch.setenv("SECRET_KEY", " , ")
    assert main(["rotate-keys"]) == 2
    assert "SECRET_KEY is not set" in capsys.readouterr().err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == "recall-slackbot 0.1.0"


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
    for command in ("serve", "worker", "migrate", "rotate-keys", "manifest"):
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


# ---------------------------------------------------------------------------------------------------------------------
# every problem at once (issue 11)
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_missing_and_wrong_values_are_reported_together_in_one_message(
    command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], isolated: Path
) -> None:
    for name, value in {
        "PUBLIC_URL": "bot.example.com",
        "DATABASE_URL": f"sqlite:///{isolated}/no-such-folder/app.db",
        "SECRET_KEY": "short",
        "RECALL_WEBHOOK_SECRET": "not-a-svix-secret",
        "RECALL_REGION": "mars",
        "SLACK_BOT_TOKEN": "xoxb-1",
    }.items():
        monkeypatch.setenv(name, value)
    assert main([command]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "Traceback" not in err
    for expected in (
        "SLACK_SIGNING_SECRET",
        "RECALL_API_KEY",
        "RECALL_REGION: Input should be",
        "PUBLIC_URL: 'bot.example.com' is not an absolute URL",
        "no-such-folder for the SQLite file does not exist",
        "SECRET_KEY: the key is shorter than 16 characters; make one with `recall-slackbot secret-key`",
        "RECALL_WEBHOOK_SECRET: not a Svix signing secret",
    ):
        assert expected in err, expected
    assert list(isolated.iterdir()) == []  # nothing created


def test_the_placeholders_of_env_example_are_refused_on_a_public_url(
    isolated: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    example = Path(__file__).resolve().parents[2] / ".env.example"
    (isolated / ".env").write_text(example.read_text())
    monkeypatch.setenv("PUBLIC_URL", "https://bot.example.com")
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "still the placeholder from .env.example" in err
    for name in ("SECRET_KEY", "SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", "RECALL_API_KEY", "RECALL_WEBHOOK_SECRET"):
        assert name in err


def test_secret_key_prints_a_key_the_app_accepts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["secret-key"]) == 0
    key = capsys.readouterr().out.strip()
    assert len(key) == 44
    TokenCipher([key]).decrypt(TokenCipher([key]).encrypt("x"))


@pytest.mark.parametrize("url", ["notaurl", "ftp://bot.example.com", "https://bot.example.com/?q=1"])
def test_manifest_with_a_bad_url_is_one_line_and_no_file(
    url: str, isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = isolated / "manifest.yml"
    assert main(["manifest", "--public-url", url, "--output", str(target)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("recall-slackbot manifest: public URL must")
    assert not target.exists()


def test_manifest_output_writes_the_file(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = isolated / "manifest.yml"
    assert main(["manifest", "--public-url", "https://bot.example.com", "--output", str(target)]) == 0
    assert capsys.readouterr().out == ""
    assert yaml.safe_load(target.read_text())["settings"]["event_subscriptions"]["request_url"] == (
        "https://bot.example.com/slack/events"
    )


@pytest.mark.parametrize("command", ["migrate", "rotate-keys"])
def test_a_bad_database_url_is_one_clear_error_for_migrate_and_rotate_keys(
    command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:s3cret@db:notaport/app")
    monkeypatch.setenv("SECRET_KEY", "a-long-enough-secret-key")
    assert main([command]) == 2
    err = capsys.readouterr().err
    assert "DATABASE_URL:" in err
    assert "Traceback" not in err
    assert "s3cret" not in err


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_serve_brings_the_schema_up_to_date_before_it_starts_on_every_database(
    database: str, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    import uvicorn

    from storage.db import create_engine
    from storage.migrate import current_revision
    from tests.storage.test_migrations import _admin_execute, create_postgres_database

    if database == "sqlite":
        url, cleanup = f"sqlite:///{isolated}/app.db", None
    else:
        admin = os.environ.get("TEST_POSTGRES_URL")
        if not admin:
            pytest.skip("TEST_POSTGRES_URL is not set")
        name, url = create_postgres_database(admin)
        cleanup = (admin, name)
    started: list[str | None] = []

    async def revision() -> str | None:
        engine = create_engine(url)
        try:
            return await current_revision(engine)
        finally:
            await engine.dispose()

    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: started.append(asyncio.run(revision())))
    for name_, value in {**COMPLETE_ENV, "DATABASE_URL": url}.items():
        monkeypatch.setenv(name_, value)
    try:
        assert main(["serve"]) == 0
        assert started == [head_revision()]  # migrated before the server started
    finally:
        if cleanup is not None:
            asyncio.run(_admin_execute(cleanup[0], f'DROP DATABASE IF EXISTS "{cleanup[1]}" WITH (FORCE)'))


def test_serve_says_how_it_runs_in_one_line_without_a_secret(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json
    import logging

    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)
    for name, value in {**COMPLETE_ENV, "DATABASE_URL": f"sqlite:///{isolated}/app.db", "LOG_FORMAT": "JSON"}.items():
        monkeypatch.setenv(name, value)
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        assert main(["serve"]) == 0
    finally:
        root.handlers[:], root.level = saved
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    (starting,) = [line for line in lines if line["message"] == "app.starting"]
    assert starting["mode"] == "one workspace"
    assert starting["database"] == "sqlite"
    assert starting["jobs"] == "on"
    assert starting["calendar_providers"] == "none"
    assert starting["public_url"] == "http://localhost:3000"
    text = json.dumps(lines)
    for secret in COMPLETE_ENV.values():
        assert secret not in text
    assert "alembic" not in {line["logger"] for line in lines}  # its INFO lines are noise


@pytest.mark.parametrize("variable", ["LOG_LEVEL", "LOG_FORMAT"])
def test_a_bad_log_setting_is_a_clear_error(
    variable: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(variable, "loud")
    assert main(["migrate"]) == 2
    assert variable in capsys.readouterr().err
