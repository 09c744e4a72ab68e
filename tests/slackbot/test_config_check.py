"""`config_check.check`: every wrong or risky value found before start-up (pure, table-tested)."""

from __future__ import annotations

from pathlib import Path

import pytest

from slackbot.config_check import PLACEHOLDER_WEBHOOK_SECRET, Values, check, is_local

GOOD = Values(
    public_url="https://bot.example.com",
    database_url="postgresql://app:pw@db.internal/app",
    secret_keys=("a-long-enough-secret-key",),
    recall_webhook_secret="whsec_dGVzdC13ZWJob29rLXNlY3JldC0xMjM0NTY3OA==",
)


def values(**changes: object) -> Values:
    return Values(**{**GOOD.__dict__, **changes})  # type: ignore[arg-type]


def test_a_good_configuration_has_nothing_to_say() -> None:
    assert check(GOOD).errors == ()
    assert check(GOOD).warnings == ()


# (name, values, the start of the one error expected)
ERRORS = [
    ("no scheme", values(public_url="bot.example.com"), "PUBLIC_URL: 'bot.example.com' is not an absolute URL"),
    ("no host", values(public_url="https://"), "PUBLIC_URL: 'https://' is not an absolute URL"),
    ("not a URL at all", values(database_url="not a url"), "DATABASE_URL: 'not a url' is not a database URL"),
    ("a database we do not run on", values(database_url="mysql://x/y"), "DATABASE_URL: mysql is not supported"),
    (
        "a driver we do not run on",
        values(database_url="postgresql+psycopg2://x/y"),
        "DATABASE_URL: the driver postgresql+psycopg2 is not one the app runs on",
    ),
    (
        "a SQLite folder that does not exist",
        values(database_url="sqlite:////no/such/folder/app.db"),
        "DATABASE_URL: the folder /no/such/folder for the SQLite file does not exist",
    ),
    ("a short key", values(secret_keys=("short",)), "SECRET_KEY: the key is shorter than 16 characters"),
    (
        "a short old key",
        values(secret_keys=("a-long-enough-secret-key", "old")),
        "SECRET_KEY: key 2 of 2 is shorter than 16 characters",
    ),
    ("no whsec_ prefix", values(recall_webhook_secret="dGVzdA=="), "RECALL_WEBHOOK_SECRET: not a Svix signing secret"),
    ("whsec_ but not base64", values(recall_webhook_secret="whsec_%%%"), "RECALL_WEBHOOK_SECRET: not a Svix"),
    (
        "the example's placeholders on a public URL",
        values(secret_keys=("dev-only-change-me",), secrets={"RECALL_API_KEY": "dev-only-change-me"}),
        "RECALL_API_KEY, SECRET_KEY: still the placeholder from .env.example",
    ),
    (
        "the example's webhook secret on a public URL",
        values(recall_webhook_secret=PLACEHOLDER_WEBHOOK_SECRET),
        "RECALL_WEBHOOK_SECRET: still the placeholder",
    ),
]


@pytest.mark.parametrize(("name", "given", "error"), ERRORS, ids=[row[0] for row in ERRORS])
def test_each_wrong_value_is_one_line_naming_its_variable(name: str, given: Values, error: str) -> None:
    (found,) = check(given).errors
    assert found.startswith(error)


def test_every_problem_is_reported_at_once() -> None:
    found = check(values(public_url="x", secret_keys=("short",), recall_webhook_secret="nope")).errors
    assert [line.split(":")[0] for line in found] == ["PUBLIC_URL", "SECRET_KEY", "RECALL_WEBHOOK_SECRET"]


def test_a_password_never_appears_in_a_message() -> None:
    (found,) = check(values(database_url="postgresql://app:s3cret@db:notaport/app")).errors
    assert found.startswith("DATABASE_URL: 'postgresql://app:***@db:notaport/app' is not a database URL")
    assert "s3cret" not in found


def test_placeholders_are_fine_on_a_laptop() -> None:
    local = values(
        public_url="http://localhost:3000",
        secret_keys=("dev-only-change-me",),
        recall_webhook_secret=PLACEHOLDER_WEBHOOK_SECRET,
        database_url="sqlite:///./recall-slackbot.db",
    )
    assert check(local).errors == ()
    assert check(local).warnings == ()


def test_plain_http_on_a_public_host_is_a_warning() -> None:
    findings = check(values(public_url="http://bot.example.com"))
    assert findings.errors == ()
    (warning,) = findings.warnings
    assert warning.startswith("PUBLIC_URL: http://bot.example.com is plain http on a public host")


def test_an_existing_sqlite_folder_is_fine(tmp_path: Path) -> None:
    assert check(values(database_url=f"sqlite:///{tmp_path}/app.db")).errors == ()
    assert check(values(database_url="sqlite:///:memory:")).errors == ()


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("::1", True),
        ("app.localhost", True),
        ("127.0.0.2", True),
        ("bot.example.com", False),
        ("10.0.0.1", False),
        (None, False),
        ("", False),
    ],
)
def test_which_hosts_are_local(host: str | None, local: bool) -> None:
    assert is_local(host) is local
