"""Sending a member their connect links by DM (from the slash command, App Home, or a failure DM)."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from slackbot.blocks import connect as connect_blocks
from slackbot.calendar_oauth.flow import ConnectFlow, Requester
from slackbot.slack_gateway import PostedMessage, SlackGateway


async def send_connect_links(
    *,
    flow: ConnectFlow,
    gateway: SlackGateway,
    requester: Requester,
    providers: list[str],
    client: AsyncWebClient | None = None,
    reconnect: bool = False,
) -> PostedMessage:
    """Issue one single-use link per provider and DM them. Raises SlackApiError / WorkspaceNotInstalled."""
    links = [
        connect_blocks.ConnectLink(
            provider=name,
            label=flow.providers[name].spec.label,
            url=await flow.issue_link(requester=requester, provider=name),
        )
        for name in providers
    ]
    message = connect_blocks.connect_links(links, reconnect=reconnect)
    if client is None:
        return await gateway.send_dm(
            team_id=requester.team_id, user_id=requester.user_id, message=message, enterprise_id=requester.enterprise_id
        )
    channel = await gateway.dm_channel(client, team_id=requester.team_id, user_id=requester.user_id)
    response = await client.chat_postMessage(channel=channel, **message.as_kwargs())
    return PostedMessage(channel=response["channel"], ts=response["ts"])
