"""One Settings object, read from the environment and a `.env` file in the working directory."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cached_property
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from slackbot.config_check import Findings, Values, check

RecallRegion = Literal["us-east-1", "us-west-2", "eu-central-1", "ap-northeast-1"]

# Where an operator finds each required value; used in the start-up error.
WHERE_TO_GET: dict[str, str] = {
    "SECRET_KEY": "generate one with: recall-slackbot secret-key",
    "SLACK_SIGNING_SECRET": "Slack app settings > Basic Information > App Credentials > Signing Secret",
    "RECALL_API_KEY": "Recall dashboard https://<region>.recall.ai/dashboard/api-keys",
    "RECALL_WEBHOOK_SECRET": "Recall dashboard > Webhooks > your endpoint > Signing Secret (whsec_...)",
    "SLACK_BOT_TOKEN or SLACK_CLIENT_ID + SLACK_CLIENT_SECRET": "Slack app settings > OAuth & Permissions "
    "(Bot User OAuth Token, single workspace) or Basic Information > App Credentials (multi-workspace install)",
}


class ConfigError(Exception):
    """The configuration cannot start the app; the message says what to fix."""


class MissingSettingsError(ConfigError):
    """Raised when required environment variables are missing or wrong; the message names all of them."""

    def __init__(self, missing: list[str], wrong: Sequence[str] = ()) -> None:
        self.missing = missing
        self.wrong = list(wrong)
        parts = []
        if missing:
            lines = [f"  {name}: {WHERE_TO_GET.get(name, '')}".rstrip(": ") for name in missing]
            parts.append(
                "Missing required configuration (set these environment variables or put them in .env):\n"
                + "\n".join(lines)
            )
        if self.wrong:
            parts.append("Invalid configuration:\n" + "\n".join(f"  {line}" for line in self.wrong))
        super().__init__("\n".join(parts))


class Settings(BaseSettings):
    """Configuration; names and defaults are a contract (see DESIGN.md)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    database_url: str = "sqlite:///./recall-slackbot.db"
    public_url: str = "http://localhost:3000"
    secret_key: str = ""
    slack_signing_secret: str = ""
    slack_client_id: str = ""
    slack_client_secret: str = ""
    slack_bot_token: str = ""
    slack_api_url: str = "https://slack.com/api/"
    recall_api_key: str = ""
    recall_region: RecallRegion = "us-east-1"
    recall_api_url: str = ""
    recall_webhook_secret: str = ""
    google_client_id: str = ""
    google_client_secret: str = ""
    google_oauth_metadata_url: str = "https://accounts.google.com/.well-known/openid-configuration"
    microsoft_client_id: str = ""
    microsoft_client_secret: str = ""
    microsoft_oauth_metadata_url: str = "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration"
    bot_name: str = "Recall Notetaker"
    # Recall's transcription provider for every bot (`recallai_streaming`, `meeting_captions`, `deepgram_streaming`,
    # ...; the provider's own credentials are set in Recall's dashboard), or `none` for no transcript.
    recall_transcript_provider: str = "recallai_streaming"
    # What the logs show: DEBUG, INFO (the default), WARNING or ERROR; as text lines or one JSON object a line.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    port: int = 3000
    host: str = "0.0.0.0"  # noqa: S104 - a server meant to be reached from outside
    # Not a contract: background jobs can be switched off (tests drive them by hand).
    run_jobs: bool = Field(default=True)
    # Not a contract: how long a process's claim on a webhook or a sync lasts if it dies mid-way.
    work_lease_seconds: float = Field(default=60.0, gt=0)
    # Not a contract: pace Slack calls under Slack's published limits (off only for tests), and the workspace-wide
    # chat.postMessage budget a minute (Slack does not publish one; see README > Slack's limits).
    slack_pacing: bool = Field(default=True)
    slack_posts_per_minute: int = Field(default=300, gt=0)

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _any_case(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        value = value.strip()
        return value.upper() if value.upper() in ("DEBUG", "INFO", "WARNING", "ERROR") else value.lower()

    @field_validator("recall_transcript_provider")
    @classmethod
    def _provider_key(cls, value: str) -> str:
        if value.strip().lower() not in ("", "none", "off") and not re.fullmatch(r"[a-z][a-z0-9_]*", value.strip()):
            raise ValueError(
                "not a provider key: use one of Recall's recording_config.transcript.provider keys "
                "(recallai_streaming, meeting_captions, deepgram_streaming, ...) or none"
            )
        return value

    @property
    def transcript_provider(self) -> str | None:
        value = self.recall_transcript_provider.strip()
        return None if value.lower() in ("", "none", "off") else value

    def missing(self) -> list[str]:
        """Names of required variables that are not set."""
        missing = [
            name
            for name, value in (
                ("SECRET_KEY", ",".join(self.secret_keys)),
                ("SLACK_SIGNING_SECRET", self.slack_signing_secret),
                ("RECALL_API_KEY", self.recall_api_key),
                ("RECALL_WEBHOOK_SECRET", self.recall_webhook_secret),
            )
            if not value.strip()
        ]
        if not self.slack_bot_token.strip() and not (self.slack_client_id.strip() and self.slack_client_secret.strip()):
            missing.append("SLACK_BOT_TOKEN or SLACK_CLIENT_ID + SLACK_CLIENT_SECRET")
        return missing

    def findings(self) -> Findings:
        """Values that are set but wrong (errors) or risky (warnings); see `config_check`."""
        secrets = {
            "SLACK_SIGNING_SECRET": self.slack_signing_secret,
            "SLACK_BOT_TOKEN": self.slack_bot_token,
            "SLACK_CLIENT_SECRET": self.slack_client_secret,
            "RECALL_API_KEY": self.recall_api_key,
            "GOOGLE_CLIENT_SECRET": self.google_client_secret,
            "MICROSOFT_CLIENT_SECRET": self.microsoft_client_secret,
        }
        return check(
            Values(
                public_url=self.public_url,
                database_url=self.database_url,
                secret_keys=tuple(self.secret_keys),
                recall_webhook_secret=self.recall_webhook_secret,
                secrets={name: value for name, value in secrets.items() if value},
            )
        )

    def require_complete(self, *, invalid: Sequence[str] = ()) -> Settings:
        """Everything a server needs: every missing variable and every wrong value in one error (``invalid``:
        values that did not even parse, found by `load_settings`)."""
        missing = self.missing()
        wrong = [*invalid, *self.findings().errors]
        if missing or wrong:
            raise MissingSettingsError(missing, wrong)
        return self

    @property
    def recall_base_url(self) -> str:
        return (self.recall_api_url or f"https://{self.recall_region}.recall.ai").rstrip("/")

    @property
    def public_base_url(self) -> str:
        return self.public_url.rstrip("/")

    @property
    def multi_workspace(self) -> bool:
        """The install flow runs whenever client credentials are set (Bolt itself switches to OAuth when
        SLACK_CLIENT_ID/SECRET are in the environment); SLACK_BOT_TOKEN is then ignored."""
        return bool(self.slack_client_id and self.slack_client_secret)

    @cached_property
    def secret_keys(self) -> list[str]:
        return [k.strip() for k in self.secret_key.split(",") if k.strip()]


def load_settings(*, complete: bool = False, **overrides: object) -> Settings:
    """Read settings; a malformed value becomes one clear error. ``complete``: a server is starting, so every
    missing variable and every wrong value is reported with it, in one error."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        invalid = [f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()]
        if not complete:
            raise ConfigError(f"Invalid configuration: {'; '.join(invalid)}") from None
        # The rest is still checked, with the values that did not parse at their defaults.
        fields = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        defaults = {name: Settings.model_fields[name].default for name in fields if name in Settings.model_fields}
        settings = Settings(**{**overrides, **defaults})  # type: ignore[arg-type]
        settings.require_complete(invalid=invalid)
        raise ConfigError(f"Invalid configuration: {'; '.join(invalid)}") from None  # pragma: no cover
    if complete:
        settings.require_complete()
    return settings
