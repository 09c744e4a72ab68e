"""`GET /calendar/connect/{provider}` and `GET /calendar/oauth/{provider}/callback`."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from slackbot.blocks import connect as blocks
from slackbot.calendar_oauth import pages
from slackbot.calendar_oauth.flow import BROWSER_COOKIE, LINK_TTL, ConnectError, ConnectFailure, ConnectResult
from slackbot.services.registry import Services
from slackbot.words import explain_connect_failure, provider_label

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


def calendar_routes(services: Services) -> list[Route]:
    secure_cookie = services.settings.public_base_url.startswith("https://")

    async def connect(request: Request) -> Response:
        provider = request.path_params["provider"]
        try:
            start = await services.flow.begin(provider=provider, link_token=request.query_params.get("state"))
        except ConnectError as error:
            return await _failure(services, error)
        response = RedirectResponse(start.authorize_url, status_code=302)
        response.set_cookie(
            BROWSER_COOKIE,
            start.browser_nonce,
            max_age=int(LINK_TTL.total_seconds()),
            path=f"/calendar/oauth/{provider}/callback",
            httponly=True,
            secure=secure_cookie,
            samesite="lax",  # sent on the provider's top-level redirect back to us
        )
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    async def callback(request: Request) -> Response:
        provider = request.path_params["provider"]
        try:
            result = await services.flow.complete(
                provider=provider,
                params=dict(request.query_params),
                browser_nonce=request.cookies.get(BROWSER_COOKIE),
            )
        except ConnectError as error:
            return await _failure(services, error)
        return await _success(services, result, provider)

    return [
        Route("/calendar/connect/{provider}", connect, methods=["GET"]),
        Route("/calendar/oauth/{provider}/callback", callback, methods=["GET"]),
    ]


def _html(html: str, status: int) -> HTMLResponse:
    response = HTMLResponse(html, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


async def _success(services: Services, result: ConnectResult, provider: str) -> Response:
    label = provider_label(provider)
    requester = result.requester
    await services.gateway.try_send_dm(
        team_id=requester.team_id,
        user_id=requester.user_id,
        enterprise_id=requester.enterprise_id,
        message=blocks.connected(
            provider_label=label,
            email=result.email,
            reconnected=result.reconnected,
            replaced_email=result.replaced_email,
        ),
    )
    verb = "reconnected" if result.reconnected else "connected"
    response = _html(
        pages.render(
            ok=True,
            title=f"{label} {verb}",
            detail=f"{result.email} is {verb}. Recall is syncing your events; I'll message you in Slack about "
            "upcoming meetings. You can close this tab.",
            back_url=pages.slack_url(requester.team_id),
        ),
        200,
    )
    response.delete_cookie(BROWSER_COOKIE, path=f"/calendar/oauth/{provider}/callback")
    return response


async def _failure(services: Services, error: ConnectError) -> Response:
    explanation = explain_connect_failure(error.failure, error.provider)
    requester = error.requester
    logger.info("calendar.connect.failed", extra={"provider": error.provider, "failure": error.failure.value})
    if requester is not None and error.failure in DM_FAILURES:
        retry = None
        if explanation.retry_with_new_link and error.provider in services.flow.providers:
            retry = blocks.ConnectLink(
                provider=error.provider,
                label=provider_label(error.provider),
                url=await services.flow.issue_link(requester=requester, provider=error.provider),
            )
        await services.gateway.try_send_dm(
            team_id=requester.team_id,
            user_id=requester.user_id,
            enterprise_id=requester.enterprise_id,
            message=blocks.failed(title=explanation.title, detail=explanation.detail, retry=retry),
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
