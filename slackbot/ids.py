"""Every Slack id this app uses: slash command, action ids, block ids, callback ids."""

from __future__ import annotations

from enum import StrEnum


class Command(StrEnum):
    RECALL = "/recall"


class Subcommand(StrEnum):
    """What follows `/recall` (contract: DESIGN.md); the manifest's usage hint lists them in this order."""

    CONNECT = "connect"
    STATUS = "status"
    DISCONNECT = "disconnect"
    RULE = "rule"
    EXCLUDE = "exclude"
    NOTIFY = "notify"
    AGENDA = "agenda"
    REMIND = "remind"
    ADMIN = "admin"
    HELP = "help"


class ActionId(StrEnum):
    # Per-meeting message (contract: DESIGN.md).
    SCHEDULE_BOT = "schedule_bot"
    SKIP_BOT = "skip_bot"
    UNDO_CHOICE = "undo_choice"
    # A meeting of a recurring series (contract: DESIGN.md), and forgetting that choice.
    RECORD_SERIES = "record_series"
    SKIP_SERIES = "skip_series"
    UNDO_SERIES = "undo_series"
    # Once the bot has joined (contract: DESIGN.md): its recording and transcript, and making it leave.
    GET_RECORDING = "get_recording"
    GET_TRANSCRIPT = "get_transcript"
    REMOVE_BOT = "remove_bot"
    # Connect / reconnect link buttons: URL buttons still send a payload that must be acked.
    OPEN_CONNECT_LINK = "open_connect_link"
    RECONNECT_CALENDAR = "reconnect_calendar"
    # App Home.
    HOME_CONNECT = "home_connect"
    HOME_RULE = "home_rule"
    HOME_RULE_ACCEPTED = "home_rule_accepted"
    HOME_ADMIN_RULE = "home_admin_rule"
    HOME_ADMIN_ENFORCE = "home_admin_enforce"
    HOME_NOTIFY = "home_notify"
    HOME_AGENDA_TIME = "home_agenda_time"
    HOME_ATTENTION = "home_attention"
    # The connect summary's link to the Home tab (a URL button: the click is only acknowledged).
    OPEN_HOME = "open_home"


class BlockId(StrEnum):
    CONNECT_BUTTONS = "connect_buttons"
    MEETING_ACTIONS = "meeting_actions"
    HOME_CONNECTIONS = "home_connections"
    HOME_RULE = "home_rule"
    HOME_RULE_ACCEPTED = "home_rule_accepted"
    HOME_ADMIN_RULE = "home_admin_rule"
    HOME_ADMIN_ENFORCE = "home_admin_enforce"
    HOME_ATTENTION = "home_attention"
    HOME_NOTIFY = "home_notify"
    SUMMARY_HOME = "summary_home"


class Event(StrEnum):
    APP_HOME_OPENED = "app_home_opened"
    APP_UNINSTALLED = "app_uninstalled"
    TOKENS_REVOKED = "tokens_revoked"
