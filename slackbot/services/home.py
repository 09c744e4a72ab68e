"""The App Home tab: gathered from the member's connections and settings (and the workspace's policy for
admins), built by `blocks.home`, published through the gateway."""

from __future__ import annotations

from slackbot.blocks.connect import ConnectionView
from slackbot.blocks.home import PolicyView, RulesView, home_view
from slackbot.requester import Requester
from slackbot.services.connect import ConnectService
from slackbot.services.connections import ConnectionService
from slackbot.services.policy import PolicyService
from slackbot.slack.gateway import SlackGateway
from slackbot.words import provider_label


class HomeService:
    def __init__(
        self,
        *,
        connections: ConnectionService,
        connect: ConnectService,
        policy: PolicyService,
        gateway: SlackGateway,
        default_bot_name: str,
    ) -> None:
        self._connections = connections
        self._connect = connect
        self._policy = policy
        self._gateway = gateway
        self._default_bot_name = default_bot_name

    async def publish(self, requester: Requester, *, notice: str | None = None) -> None:
        infos = await self._connections.list(team_id=requester.team_id, user_id=requester.user_id, refresh=False)
        settings = await self._policy.member_settings(requester)
        admin = None
        if await self._gateway.is_admin(requester):
            workspace = await self._policy.workspace_settings(requester.team_id)
            admin = PolicyView(
                rule=workspace.rule,
                keywords=workspace.keywords,
                domains=workspace.domains,
                enforce_external=workspace.enforce_external,
                bot_name=workspace.bot_name or self._default_bot_name,
                bot_name_is_default=workspace.bot_name is None,
            )
        view = home_view(
            connections=[ConnectionView(provider_label(i.provider), i.email, i.status) for i in infos],
            available=[(name, creds.spec.label) for name, creds in self._connect.providers.items()],
            connected_providers={i.provider for i in infos},
            rules=RulesView(own=settings.rule, workspace=settings.workspace_rule, keywords=settings.keywords),
            admin=admin,
            notice=notice,
        )
        await self._gateway.publish_home(requester, view)
