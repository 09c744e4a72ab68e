"""Build the Bolt AsyncApp: single-workspace token or multi-workspace install flow, the middleware that puts the
member into the context, the one error handler, and the listeners."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import SQLAlchemyError

from slackbot.listeners import register_listeners
from slackbot.registry import Services
from slackbot.requester import Requester
from slackbot.services.reconciler import NotYourMeeting
from slackbot.slack.gateway import SLACK_FAILURES, retry_handlers, slack_error_name
from slackbot.slack.installation_store import INSTALL_STATE_EXPIRATION_SECONDS, build_state_store
from slackbot.web.install_pages import install_callbacks
from slackbot.words import commands as command_words
from slackbot.words import meetings as meeting_words

logger = logging.getLogger(__name__)

# Kept equal to manifest.yml's oauth_config.scopes.bot (tests/test_manifest.py checks).
BOT_SCOPES = ("commands", "chat:write", "im:write", "im:history", "users:read")


def slack_authorize_url(api_url: str) -> str:
    """Slack's consent screen sits beside its Web API: https://slack.com/api/ -> https://slack.com/oauth/v2/authorize.

    Bolt defaults to slack.com whatever SLACK_API_URL says, which would send installers to the real Slack.
    """
    return f"{api_url.rstrip('/').removesuffix('/api')}/oauth/v2/authorize"


# Bot, user, app-level and rotation tokens: xoxb-..., xoxp-..., xoxe.xoxb-1-..., xoxe-1-..., xapp-1-...
_SLACK_TOKEN = re.compile(r"\bx(?:ox[a-z.]*|app)-[A-Za-z0-9-]+")
# A live connect link's single-use token (`/calendar/connect/google?state=...`), as it appears in a DM's text.
_LINK_TOKEN = re.compile(r"(/calendar/connect/[A-Za-z]+\?state=)[A-Za-z0-9_\-%]+")


class RedactSlackTokens(logging.Filter):
    """slack_sdk logs every Web API request and response body at DEBUG: oauth.v2.access answers with the new bot
    token, and a connect-link DM carries a live single-use link. Redact both, keep the rest."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _LINK_TOKEN.sub(r"\1(redacted)", _SLACK_TOKEN.sub("(redacted token)", message))
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def _redact_slack_sdk_logs() -> None:
    web_logger = logging.getLogger("slack_sdk.web.async_base_client")  # AsyncWebClient's default logger
    if not any(isinstance(f, RedactSlackTokens) for f in web_logger.filters):
        web_logger.addFilter(RedactSlackTokens())


async def attach_requester(
    context: AsyncBoltContext, body: dict[str, Any], next: Callable[[], Awaitable[None]]
) -> None:
    """Put the member behind the request into the context as ``requester`` (listeners take it as an argument)."""
    user = body.get("user") if isinstance(body.get("user"), dict) else {}
    team_id = context.team_id or body.get("team_id") or user.get("team_id") or (body.get("team") or {}).get("id")
    user_id = context.user_id or body.get("user_id") or user.get("id")
    if team_id and user_id:
        context["requester"] = Requester(team_id=team_id, user_id=user_id, enterprise_id=context.enterprise_id)
    await next()


async def explain_error(
    error: Exception,
    ack: AsyncAck,
    respond: AsyncRespond | None,
    context: AsyncBoltContext,
    response: BoltResponse | None,
) -> BoltResponse | None:
    """The one place a listener's failure becomes words for the member (domain errors first, then outages)."""
    if isinstance(error, NotYourMeeting):
        logger.warning("slack.refused_not_owner", extra={"team_id": context.team_id})
        text = meeting_words.NOT_YOURS
    elif isinstance(error, SQLAlchemyError | OSError):  # the database (or its connection) did not answer
        logger.warning("slack.database_unavailable", extra={"error": type(error).__name__})
        text = command_words.TRY_AGAIN_SOON
    elif isinstance(error, SLACK_FAILURES):
        logger.warning("slack.call_failed", extra={"error": slack_error_name(error)})
        text = command_words.TRY_AGAIN_SOON
    else:
        logger.exception("slack.listener_failed", exc_info=error)
        text = command_words.SOMETHING_WENT_WRONG
    if ack.response is None:
        await ack(text=text, response_type="ephemeral")
    elif respond is not None and context.response_url:
        await respond(text=text, response_type="ephemeral", replace_original=False)
    # Slack got (or gets) our acknowledgement, not a 500: the member has been told in words.
    if response is not None and ack.response is not None:
        return BoltResponse(status=ack.response.status, body=ack.response.body, headers=ack.response.headers)
    return None


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
    app.use(attach_requester)
    app.error(explain_error)
    register_listeners(app, services)
    return app
