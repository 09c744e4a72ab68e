"""Our own pages (and a welcome DM) at the end of the Slack install flow, instead of Bolt's defaults."""

from __future__ import annotations

from slack_bolt.oauth.async_callback_options import AsyncCallbackOptions, AsyncFailureArgs, AsyncSuccessArgs
from slack_bolt.response import BoltResponse

from slackbot.blocks.connect import plain
from slackbot.calendar_oauth import pages
from slackbot.slack_gateway import SlackGateway

FAILURE_WORDS = {
    "access_denied": "You cancelled the installation, so nothing was installed. You can start again any time.",
    "invalid_state": "This installation link expired or was opened in another browser. Start again from the "
    "install page.",
    "invalid_code": "Slack did not accept the installation. Please start again.",
    "missing_code": "Slack did not send the installation back. Please start again.",
    "storage_error": "The installation could not be saved. Please try again in a few minutes.",
}

WELCOME = (
    ":wave: Recall is installed in this workspace. Everyone can now type `/recall connect` to connect their "
    "Google or Outlook calendar and choose, meeting by meeting, where Recall's bot joins."
)


def install_callbacks(gateway: SlackGateway) -> AsyncCallbackOptions:
    async def success(args: AsyncSuccessArgs) -> BoltResponse:
        installation = args.installation
        if installation.team_id and installation.user_id:
            await gateway.try_send_dm(
                team_id=installation.team_id,
                user_id=installation.user_id,
                enterprise_id=installation.enterprise_id,
                message=plain(WELCOME),
            )
        team = installation.team_name or "your workspace"
        html = pages.render(
            ok=True,
            title="Recall is installed",
            detail=f"Recall is now part of {team}. In Slack, type `/recall connect` to connect your calendar.",
            back_url=pages.slack_url(installation.team_id, installation.app_id),
        )
        return _response(200, html, args.settings.state_utils.build_set_cookie_for_deletion())

    async def failure(args: AsyncFailureArgs) -> BoltResponse:
        detail = FAILURE_WORDS.get(args.reason, "The installation did not complete. Please start again.")
        html = pages.render(ok=False, title="Recall was not installed", detail=detail, back_url=pages.slack_url(None))
        return _response(args.suggested_status_code, html, args.settings.state_utils.build_set_cookie_for_deletion())

    return AsyncCallbackOptions(success=success, failure=failure)


def _response(status: int, html: str, cookie: str) -> BoltResponse:
    return BoltResponse(
        status=status,
        body=html,
        headers={"Content-Type": "text/html; charset=utf-8", "Set-Cookie": cookie, "Cache-Control": "no-store"},
    )
