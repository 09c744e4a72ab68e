"""Our own pages (and a welcome DM) at the end of the Slack install flow, instead of Bolt's defaults."""

from __future__ import annotations

from slack_bolt.oauth.async_callback_options import AsyncCallbackOptions, AsyncFailureArgs, AsyncSuccessArgs
from slack_bolt.response import BoltResponse

from slackbot.blocks.connect import plain
from slackbot.requester import Requester
from slackbot.slack.gateway import SlackGateway
from slackbot.web import pages
from slackbot.words import install as words


def install_callbacks(gateway: SlackGateway) -> AsyncCallbackOptions:
    async def success(args: AsyncSuccessArgs) -> BoltResponse:
        installation = args.installation
        if installation.team_id and installation.user_id:
            installer = Requester(installation.team_id, installation.user_id, installation.enterprise_id)
            await gateway.try_post_dm(installer, plain(words.WELCOME))
        html = pages.render(
            ok=True,
            title=words.SUCCESS_TITLE,
            detail=words.success_detail(installation.team_name),
            back_url=pages.slack_url(installation.team_id, installation.app_id),
        )
        return _response(200, html, args.settings.state_utils.build_set_cookie_for_deletion())

    async def failure(args: AsyncFailureArgs) -> BoltResponse:
        html = pages.render(
            ok=False,
            title=words.FAILURE_TITLE,
            detail=words.failure_detail(args.reason),
            back_url=pages.slack_url(None),
        )
        return _response(args.suggested_status_code, html, args.settings.state_utils.build_set_cookie_for_deletion())

    return AsyncCallbackOptions(success=success, failure=failure)


def _response(status: int, html: str, cookie: str) -> BoltResponse:
    return BoltResponse(
        status=status,
        body=html,
        headers={"Content-Type": "text/html; charset=utf-8", "Set-Cookie": cookie, **pages.SECURITY_HEADERS},
    )
