"""Every Slack id this app uses: slash command, action ids, block ids, callback ids."""

from __future__ import annotations

from enum import StrEnum


class Command(StrEnum):
    RECALL = "/recall"


class ActionId(StrEnum):
    # Per-meeting message (contract: DESIGN.md).
    SCHEDULE_BOT = "schedule_bot"
    SKIP_BOT = "skip_bot"
    UNDO_CHOICE = "undo_choice"
    # Connect / reconnect link buttons: URL buttons still send a payload that must be acked.
    OPEN_CONNECT_LINK = "open_connect_link"
    RECONNECT_CALENDAR = "reconnect_calendar"
    # App Home.
    HOME_CONNECT = "home_connect"


class BlockId(StrEnum):
    CONNECT_BUTTONS = "connect_buttons"
    MEETING_ACTIONS = "meeting_actions"
    HOME_CONNECTIONS = "home_connections"


class Event(StrEnum):
    APP_HOME_OPENED = "app_home_opened"
    APP_UNINSTALLED = "app_uninstalled"
    TOKENS_REVOKED = "tokens_revoked"
