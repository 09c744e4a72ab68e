"""Settings: the environment and `.env` contract, one message naming every missing variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from slackbot.calendar_oauth.providers import configured_providers
from slackbot.settings import WHERE_TO_GET, ConfigError, MissingSettingsError, Settings, load_settings
from tests.unit_fixtures import COMPLETE_ENV, isolate_settings

SLACK_AUTH_LINE = "SLACK_BOT_TOKEN or SLACK_CLIENT_ID + SLACK_CLIENT_SECRET"
ALL_REQUIRED = ["SECRET_KEY", "SLACK_SIGNING_SECRET", "RECALL_API_KEY", "RECALL_WEBHOOK_SECRET", SLACK_AUTH_LINE]


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    isolate_settings(monkeypatch, tmp_path)
    return tmp_path


def set_env(monkeypatch: pytest.MonkeyPatch, values: dict[str, str]) -> None:
    for key, value in values.items():
        monkeypatch.setenv(key, value)


# ---------------------------------------------------------------------------------------------------------------------
# Defaults (DESIGN.md contract)
# ---------------------------------------------------------------------------------------------------------------------


def test_defaults() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite:///./recall-slackbot.db"
    assert settings.public_url == "http://localhost:3000"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.recall_region == "us-east-1"
    assert settings.recall_base_url == "https://us-east-1.recall.ai"
    assert settings.google_oauth_metadata_url == "https://accounts.google.com/.well-known/openid-configuration"
    assert settings.microsoft_oauth_metadata_url == (
        "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration"
    )
    assert settings.bot_name == "Recall Notetaker"
    assert settings.port == 3000
    assert settings.host == "0.0.0.0"
    assert list(configured_providers(settings)) == []
    assert settings.multi_workspace is False


# ---------------------------------------------------------------------------------------------------------------------
# Missing variables: all named at once
# ---------------------------------------------------------------------------------------------------------------------


def test_everything_missing_is_listed_in_one_message() -> None:
    settings = load_settings()
    assert settings.missing() == ALL_REQUIRED
    with pytest.raises(MissingSettingsError) as info:
        settings.require_complete()
    error = info.value
    assert isinstance(error, ConfigError)
    assert error.missing == ALL_REQUIRED
    message = str(error)
    assert message.startswith("Missing required configuration")
    assert ".env" in message
    lines = message.splitlines()
    assert len(lines) == 1 + len(ALL_REQUIRED)  # one headline, one line per variable
    for name, line in zip(ALL_REQUIRED, lines[1:], strict=True):
        assert line.strip().startswith(name + ":")
        assert WHERE_TO_GET[name] in line  # and where to get it


@pytest.mark.parametrize("absent", ["SECRET_KEY", "SLACK_SIGNING_SECRET", "RECALL_API_KEY", "RECALL_WEBHOOK_SECRET"])
def test_each_required_variable_is_reported_alone(monkeypatch: pytest.MonkeyPatch, absent: str) -> None:
    set_env(monkeypatch, {k: v for k, v in COMPLETE_ENV.items() if k != absent})
    settings = load_settings()
    assert settings.missing() == [absent]
    with pytest.raises(MissingSettingsError, match=absent):
        settings.require_complete()


@pytest.mark.parametrize("blank", ["", "   ", "\t"])
def test_blank_values_count_as_missing(monkeypatch: pytest.MonkeyPatch, blank: str) -> None:
    set_env(monkeypatch, {**COMPLETE_ENV, "SECRET_KEY": blank, "RECALL_API_KEY": blank})
    assert load_settings().missing() == ["SECRET_KEY", "RECALL_API_KEY"]


def test_complete_settings_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch, COMPLETE_ENV)
    settings = load_settings()
    assert settings.missing() == []
    assert settings.require_complete() is settings


def test_missing_settings_error_without_known_hint() -> None:
    error = MissingSettingsError(["SOMETHING_ELSE"])
    assert str(error).splitlines()[1] == "  SOMETHING_ELSE"


# ---------------------------------------------------------------------------------------------------------------------
# Slack modes: bot token vs client id/secret
# ---------------------------------------------------------------------------------------------------------------------

BASE = {k: v for k, v in COMPLETE_ENV.items() if k != "SLACK_BOT_TOKEN"}


@pytest.mark.parametrize(
    ("slack_env", "missing_auth", "multi"),
    [
        ({}, True, False),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, False, False),
        ({"SLACK_CLIENT_ID": "123.456"}, True, False),
        ({"SLACK_CLIENT_SECRET": "s3cret"}, True, False),
        ({"SLACK_CLIENT_ID": "123.456", "SLACK_CLIENT_SECRET": "s3cret"}, False, True),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_CLIENT_ID": "123.456", "SLACK_CLIENT_SECRET": "s3cret"}, False, True),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_CLIENT_ID": "123.456"}, False, False),
    ],
    ids=["none", "bot-token", "client-id-only", "client-secret-only", "client-pair", "both", "token+id"],
)
def test_slack_modes(
    monkeypatch: pytest.MonkeyPatch, slack_env: dict[str, str], missing_auth: bool, multi: bool
) -> None:
    set_env(monkeypatch, {**BASE, **slack_env})
    settings = load_settings()
    assert settings.missing() == ([SLACK_AUTH_LINE] if missing_auth else [])
    assert settings.multi_workspace is multi


# ---------------------------------------------------------------------------------------------------------------------
# Recall region and URL override
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("region", ["us-east-1", "us-west-2", "eu-central-1", "ap-northeast-1"])
def test_recall_base_url_from_region(monkeypatch: pytest.MonkeyPatch, region: str) -> None:
    monkeypatch.setenv("RECALL_REGION", region)
    settings = load_settings()
    assert settings.recall_region == region
    assert settings.recall_base_url == f"https://{region}.recall.ai"


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("http://127.0.0.1:8123", "http://127.0.0.1:8123"),
        ("http://127.0.0.1:8123/", "http://127.0.0.1:8123"),
        ("https://recall.internal.example//", "https://recall.internal.example"),
    ],
)
def test_recall_api_url_overrides_region(monkeypatch: pytest.MonkeyPatch, override: str, expected: str) -> None:
    set_env(monkeypatch, {"RECALL_REGION": "eu-central-1", "RECALL_API_URL": override})
    assert load_settings().recall_base_url == expected


@pytest.mark.parametrize("region", ["mars", "US-EAST-1", "us-east-2", ""])
def test_unknown_region_is_a_config_error(monkeypatch: pytest.MonkeyPatch, region: str) -> None:
    monkeypatch.setenv("RECALL_REGION", region)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert not isinstance(info.value, MissingSettingsError)
    message = str(info.value)
    assert message.startswith("Invalid configuration")
    assert "RECALL_REGION" in message
    assert info.value.__cause__ is None  # no pydantic traceback chained into the operator's face


def test_bad_port_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "eighty")
    with pytest.raises(ConfigError, match="PORT"):
        load_settings()


def test_overrides_are_passed_through() -> None:
    settings = load_settings(recall_region="ap-northeast-1", port=8080)
    assert settings.recall_base_url == "https://ap-northeast-1.recall.ai"
    assert settings.port == 8080
    with pytest.raises(ConfigError, match="RECALL_REGION"):
        load_settings(recall_region="mars")


def test_public_base_url_strips_trailing_slash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLIC_URL", "https://bot.example.com/")
    assert load_settings().public_base_url == "https://bot.example.com"


# ---------------------------------------------------------------------------------------------------------------------
# Secret keys (rotation)
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "keys"),
    [
        ("only", ["only"]),
        ("new,old", ["new", "old"]),
        (" new , old ,, older ", ["new", "old", "older"]),
        ("a,", ["a"]),
    ],
)
def test_secret_keys_split_on_commas(monkeypatch: pytest.MonkeyPatch, raw: str, keys: list[str]) -> None:
    monkeypatch.setenv("SECRET_KEY", raw)
    settings = load_settings()
    assert settings.secret_keys == keys
    assert settings.secret_keys[0] == keys[0]  # the first one encrypts


# ---------------------------------------------------------------------------------------------------------------------
# .env in the working directory
# ---------------------------------------------------------------------------------------------------------------------


def test_dotenv_in_working_directory_is_read(isolated: Path) -> None:
    (isolated / ".env").write_text(
        "\n".join(
            [
                "# comment lines are fine",
                "SECRET_KEY=from-dotenv",
                "SLACK_SIGNING_SECRET=signing",
                "SLACK_BOT_TOKEN=xoxb-dotenv",
                "RECALL_API_KEY=recall",
                "RECALL_WEBHOOK_SECRET=whsec_x",
                "RECALL_REGION=eu-central-1",
                "GOOGLE_CLIENT_ID=gid",
                "GOOGLE_CLIENT_SECRET=gsecret",
                "SOMETHING_UNRELATED=ignored",
                "",
            ]
        )
    )
    settings = load_settings()
    assert settings.secret_key == "from-dotenv"
    assert settings.slack_bot_token == "xoxb-dotenv"
    assert settings.recall_base_url == "https://eu-central-1.recall.ai"
    assert list(configured_providers(settings)) == ["google"]
    assert settings.missing() == []


def test_environment_wins_over_dotenv(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (isolated / ".env").write_text("SECRET_KEY=from-dotenv\nBOT_NAME=Dotenv Bot\n")
    monkeypatch.setenv("SECRET_KEY", "from-environment")
    settings = load_settings()
    assert settings.secret_key == "from-environment"
    assert settings.bot_name == "Dotenv Bot"


def test_dotenv_elsewhere_is_not_read(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = isolated / "elsewhere"
    other.mkdir()
    (other / ".env").write_text("SECRET_KEY=should-not-be-read\n")
    assert load_settings().secret_key == ""
    monkeypatch.chdir(other)
    assert load_settings().secret_key == "should-not-be-read"


def test_invalid_value_in_dotenv_is_a_config_error(isolated: Path) -> None:
    (isolated / ".env").write_text("RECALL_REGION=mars\n")
    with pytest.raises(ConfigError, match="RECALL_REGION"):
        load_settings()


def test_lower_case_environment_names_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("bot_name", "lower")
    assert load_settings().bot_name == "lower"


# ---------------------------------------------------------------------------------------------------------------------
# Calendar providers
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "providers"),
    [
        ({}, []),
        ({"GOOGLE_CLIENT_ID": "g", "GOOGLE_CLIENT_SECRET": "gs"}, ["google"]),
        ({"MICROSOFT_CLIENT_ID": "m", "MICROSOFT_CLIENT_SECRET": "ms"}, ["microsoft"]),
        (
            {
                "MICROSOFT_CLIENT_ID": "m",
                "MICROSOFT_CLIENT_SECRET": "ms",
                "GOOGLE_CLIENT_ID": "g",
                "GOOGLE_CLIENT_SECRET": "gs",
            },
            ["google", "microsoft"],
        ),
        ({"GOOGLE_CLIENT_ID": "g"}, []),
        ({"GOOGLE_CLIENT_SECRET": "gs", "MICROSOFT_CLIENT_ID": "m"}, []),
    ],
    ids=["none", "google", "microsoft", "both-in-display-order", "id-without-secret", "halves"],
)
def test_enabled_providers(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], providers: list[str]) -> None:
    set_env(monkeypatch, env)
    assert list(configured_providers(load_settings())) == providers


def test_run_jobs_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().run_jobs is True
    monkeypatch.setenv("RUN_JOBS", "false")
    assert load_settings().run_jobs is False


# ---------------------------------------------------------------------------------------------------------------------
# Known gaps (production bugs, kept visible)
# ---------------------------------------------------------------------------------------------------------------------


def test_secret_key_of_only_commas_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch, {**COMPLETE_ENV, "SECRET_KEY": " , ,"})
    settings = load_settings()
    assert settings.secret_keys == []
    assert "SECRET_KEY" in settings.missing()


def test_blank_slack_bot_token_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch, {**COMPLETE_ENV, "SLACK_BOT_TOKEN": "   "})
    assert load_settings().missing() == [SLACK_AUTH_LINE]


def test_settings_class_is_the_loaded_type() -> None:
    assert isinstance(load_settings(), Settings)


@pytest.mark.parametrize(
    ("value", "provider"),
    [
        ("recallai_streaming", "recallai_streaming"),
        ("meeting_captions", "meeting_captions"),
        (" deepgram_streaming ", "deepgram_streaming"),
        ("none", None),
        ("NONE", None),
        ("off", None),
        ("", None),
    ],
)
def test_the_transcript_provider(value: str, provider: str | None) -> None:
    assert load_settings(_env_file=None, recall_transcript_provider=value).transcript_provider == provider


@pytest.mark.parametrize("value", ["meeting captions", "Deepgram", "recallai-streaming", "{}"])
def test_a_transcript_provider_that_is_no_key_stops_start_up_with_one_line(value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(_env_file=None, recall_transcript_provider=value)
    assert str(raised.value).startswith("Invalid configuration: RECALL_TRANSCRIPT_PROVIDER")
    assert "recallai_streaming" in str(raised.value)
