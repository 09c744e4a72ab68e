from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from slackbot.ids import Event
from slackbot.listeners.events.app_home import AppHome
from slackbot.listeners.events.uninstall import Uninstall
from slackbot.registry import Services


def register(app: AsyncApp, services: Services) -> None:
    app.event(Event.APP_HOME_OPENED.value)(AppHome(services).opened)
    uninstall = Uninstall(services)
    app.event(Event.APP_UNINSTALLED.value)(uninstall.app_uninstalled)
    app.event(Event.TOKENS_REVOKED.value)(uninstall.tokens_revoked)
