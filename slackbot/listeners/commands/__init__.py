from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from slackbot.ids import Command
from slackbot.listeners.commands.recall import RecallCommand
from slackbot.registry import Services


def register(app: AsyncApp, services: Services) -> None:
    app.command(Command.RECALL.value)(RecallCommand(services).handle)
