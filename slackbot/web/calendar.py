"""`GET /calendar/connect/{provider}` and `GET /calendar/oauth/{provider}/callback`."""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from slackbot.blocks import connect as blocks
from slackbot.calendar_oauth.failures import ConnectError, ConnectFailure
from slackbot.calendar_oauth.links import BROWSER_COOKIE, LINK_TTL, callback_path, connect_path
from slackbot.services.connect import ConnectResult, ConnectService
from slackbot.services.digests import DigestService
from slackbot.slack.gateway import Lane, SlackGateway
from slackbot.web import pages
from slackbot.words import explain_connect_failure, provider_label
from slackbot.words.connect import TRY_LATER_DETAIL, TRY_LATER_TITLE, success_page

logger = logging.getLogger(__name__)

HTTP_STATUS = {
    ConnectFailure.PROVIDER_DISABLED: 404,
    ConnectFailure.LINK_UNKNOWN: 400,
    ConnectFailure.STATE_UNKNOWN: 400,
    ConnectFailure.LINK_EXPIRED: 410,
    ConnectFailure.STATE_EXPIRED: 410,
    ConnectFailure.LINK_USED: 409,
    ConnectFailure.STATE_USED: 409,
    ConnectFailure.WRONG_BROWSER: 403,
    ConnectFailure.DENIED: 400,
    ConnectFailure.SCOPE_MISSING: 400,
    ConnectFailure.NO_REFRESH_TOKEN: 400,
    ConnectFailure.NO_EMAIL: 400,
    ConnectFailure.PROVIDER_ERROR: 502,
    ConnectFailure.PROVIDER_UNAVAILABLE: 502,
    ConnectFailure.TOKEN_EXCHANGE_FAILED: 502,
    ConnectFailure.RECALL_FAILED: 502,
}

# Failures worth a DM: the member did something and should hear how to go on. Reloads, stray
# links and other browsers get the page only (a DM there would be noise, or could be provoked by others).
DM_FAILURES = frozenset(HTTP_STATUS) - {
    ConnectFailure.PROVIDER_DISABLED,
    ConnectFailure.LINK_UNKNOWN,
    ConnectFailure.STATE_UNKNOWN,
    ConnectFailure.LINK_USED,
    ConnectFailure.STATE_USED,
    ConnectFailure.WRONG_BROWSER,
}


def calendar_routes(
    *, connect: ConnectService, gateway: SlackGateway, digests: DigestService, public_url: str
) -> list[Route]:
    secure_cookie = public_url.startswith("https://")

    async def start(request: Request) -> Response:
        provider = request.path_params["provider"]
        if request.method == "HEAD":
            # Link previewers and mail scanners send HEAD: it must not use the single-use link up.
            return Response(status_code=200, headers=pages.SECURITY_HEADERS)
        try:
            started = await connect.begin(provider=provider, link_token=request.query_params.get("state"))
        except ConnectError as error:
            return await _failure(connect, gateway, error)
        except (SQLAlchemyError, OSError):  # the database (or its connection) did not answer
            return _unavailable()
        response = RedirectResponse(started.authorize_url, status_code=302)
        response.set_cookie(
            BROWSER_COOKIE,
            started.browser_nonce,
            max_age=int(LINK_TTL.total_seconds()),
            path=callback_path(provider),
            httponly=True,
            secure=secure_cookie,
            samesite="lax",  # sent on the provider's top-level redirect back to us
        )
        response.headers.update(pages.SECURITY_HEADERS)
        return response

    async def callback(request: Request) -> Response:
        provider = request.path_params["provider"]
        try:
            result = await connect.complete(
                provider=provider,
                params=dict(request.query_params),
                browser_nonce=request.cookies.get(BROWSER_COOKIE),
            )
        except ConnectError as error:
            return await _failure(connect, gateway, error)
        except (SQLAlchemyError, OSError):  # the database (or its connection) did not answer
            return _unavailable()
        return await _success(gateway, digests, result)

    return [
        Route(connect_path("{provider}"), start, methods=["GET"]),
        Route(callback_path("{provider}"), callback, methods=["GET"]),
    ]


def _unavailable() -> HTMLResponse:
    """The database did not answer: nothing was changed, and the link still works in a minute."""
    logger.warning("calendar.connect.database_unavailable")
    page = pages.render(ok=False, title=TRY_LATER_TITLE, detail=TRY_LATER_DETAIL, back_url=pages.slack_url(None))
    response = _html(page, 503)
    response.headers["Retry-After"] = "60"
    return response


def _html(html: str, status: int) -> HTMLResponse:
    return HTMLResponse(html, status_code=status, headers=pages.SECURITY_HEADERS)


async def _success(gateway: SlackGateway, digests: DigestService, result: ConnectResult) -> Response:
    label = provider_label(result.provider)
    if result.reconnected:
        message = blocks.connected(provider_label=label, email=result.email, reconnected=True, replaced_email=None)
        await gateway.try_post_dm(result.requester, message, lane=Lane.MEMBER)
    else:
        # One message, not one per meeting: filled in place with what Recall finds (quiet by default).
        await digests.start_summary(
            result.requester, recall_calendar_id=result.recall_calendar_id, replaced_email=result.replaced_email
        )
    title, detail = success_page(label=label, email=result.email, reconnected=result.reconnected)
    response = _html(
        pages.render(ok=True, title=title, detail=detail, back_url=pages.slack_url(result.requester.team_id)), 200
    )
    response.delete_cookie(BROWSER_COOKIE, path=callback_path(result.provider))
    return response


async def _failure(connect: ConnectService, gateway: SlackGateway, error: ConnectError) -> Response:
    explanation = explain_connect_failure(error.failure, error.provider)
    requester = error.requester
    logger.info("calendar.connect.failed", extra={"provider": error.provider, "failure": error.failure.value})
    if requester is not None and error.failure in DM_FAILURES:
        retry = await connect.retry_link(error) if explanation.retry_with_new_link else None
        await gateway.try_post_dm(
            requester, blocks.failed(title=explanation.title, detail=explanation.detail, retry=retry), lane=Lane.MEMBER
        )
    return _html(
        pages.render(
            ok=False,
            title=explanation.title,
            detail=explanation.detail,
            back_url=pages.slack_url(requester.team_id if requester else None),
        ),
        HTTP_STATUS[error.failure],
    )
