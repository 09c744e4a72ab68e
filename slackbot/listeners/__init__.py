"""Bolt listeners grouped by kind; each package exposes ``register(app, services)``."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from slackbot.listeners import actions, commands, events
from slackbot.registry import Services


def register_listeners(app: AsyncApp, services: Services) -> None:
    commands.register(app, services)
    actions.register(app, services)
    events.register(app, services)
