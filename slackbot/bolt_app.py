"""Build the Bolt AsyncApp: single-workspace token or multi-workspace install flow."""

from __future__ import annotations

import logging
import re

from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.web.async_client import AsyncWebClient

from slackbot.install_pages import install_callbacks
from slackbot.listeners import register_listeners
from slackbot.services.registry import Services
from slackbot.slack_gateway import retry_handlers
from slackbot.slack_store import INSTALL_STATE_EXPIRATION_SECONDS, build_state_store

# Kept equal to manifest.yml's oauth_config.scopes.bot (tests/test_manifest.py checks).
BOT_SCOPES = ("commands", "chat:write", "im:write", "users:read")


def slack_authorize_url(api_url: str) -> str:
    """Slack's consent screen sits beside its Web API: https://slack.com/api/ -> https://slack.com/oauth/v2/authorize.

    Bolt defaults to slack.com whatever SLACK_API_URL says, which would send installers to the real Slack.
    """
    return f"{api_url.rstrip('/').removesuffix('/api')}/oauth/v2/authorize"


# Bot, user, app-level and rotation tokens: xoxb-..., xoxp-..., xoxe.xoxb-1-..., xoxe-1-..., xapp-1-...
_SLACK_TOKEN = re.compile(r"\bx(?:ox[a-z.]*|app)-[A-Za-z0-9-]+")


class RedactSlackTokens(logging.Filter):
    """slack_sdk logs every Web API response body at DEBUG, and oauth.v2.access answers with the new bot
    token: an install at DEBUG level would write it to the logs. Redact tokens, keep the rest."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _SLACK_TOKEN.sub("(redacted token)", message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def _redact_slack_sdk_logs() -> None:
    web_logger = logging.getLogger("slack_sdk.web.async_base_client")  # AsyncWebClient's default logger
    if not any(isinstance(f, RedactSlackTokens) for f in web_logger.filters):
        web_logger.addFilter(RedactSlackTokens())


def build_bolt_app(services: Services, *, process_before_response: bool = False) -> AsyncApp:
    settings = services.settings
    _redact_slack_sdk_logs()
    if settings.multi_workspace:
        assert services.installation_store is not None
        app = AsyncApp(
            signing_secret=settings.slack_signing_secret,
            client=AsyncWebClient(base_url=settings.slack_api_url, retry_handlers=retry_handlers()),
            installation_store=services.installation_store,
            oauth_settings=AsyncOAuthSettings(
                client_id=settings.slack_client_id,
                client_secret=settings.slack_client_secret,
                scopes=list(BOT_SCOPES),
                user_scopes=[],
                redirect_uri=f"{settings.public_base_url}/slack/oauth_redirect",
                install_path="/slack/install",
                redirect_uri_path="/slack/oauth_redirect",
                authorization_url=slack_authorize_url(settings.slack_api_url),
                installation_store=services.installation_store,
                state_store=build_state_store(services.db.engine),
                state_expiration_seconds=INSTALL_STATE_EXPIRATION_SECONDS,
                callback_options=install_callbacks(services.gateway),
            ),
            process_before_response=process_before_response,
        )
    else:
        app = AsyncApp(
            signing_secret=settings.slack_signing_secret,
            client=AsyncWebClient(
                token=settings.slack_bot_token, base_url=settings.slack_api_url, retry_handlers=retry_handlers()
            ),
            process_before_response=process_before_response,
        )
    register_listeners(app, services)
    return app
