from __future__ import annotations

import re

from slack_bolt.async_app import AsyncApp

from slackbot.ids import ActionId
from slackbot.listeners.actions.connect import HomeActions, ack_link_button
from slackbot.listeners.actions.home_settings import HomeSettings
from slackbot.listeners.actions.meeting_bot import MeetingButtons
from slackbot.registry import Services


def register(app: AsyncApp, services: Services) -> None:
    # URL buttons open the browser themselves; Slack still sends the click, which must be acknowledged.
    app.action(re.compile(f"^({ActionId.OPEN_CONNECT_LINK}|{ActionId.RECONNECT_CALENDAR})(:.*)?$"))(ack_link_button)
    home = HomeActions(services)
    app.action(re.compile(f"^{ActionId.HOME_CONNECT}(:.*)?$"))(home.connect)
    buttons = MeetingButtons(services)
    for action_id in (ActionId.SCHEDULE_BOT, ActionId.SKIP_BOT, ActionId.UNDO_CHOICE):
        app.action(action_id.value)(buttons.clicked)
    for action_id in (ActionId.RECORD_SERIES, ActionId.SKIP_SERIES, ActionId.UNDO_SERIES):
        app.action(action_id.value)(buttons.series_clicked)
    app.action(ActionId.GET_RECORDING.value)(buttons.media_clicked)
    app.action(ActionId.GET_TRANSCRIPT.value)(buttons.media_clicked)
    app.action(ActionId.REMOVE_BOT.value)(buttons.remove_clicked)
    settings = HomeSettings(services)
    app.action(ActionId.HOME_RULE.value)(settings.rule_selected)
    app.action(ActionId.HOME_RULE_ACCEPTED.value)(settings.accepted_toggled)
    app.action(ActionId.HOME_ADMIN_RULE.value)(settings.admin_rule_selected)
    app.action(ActionId.HOME_ADMIN_ENFORCE.value)(settings.admin_enforce_selected)
    app.action(ActionId.HOME_NOTIFY.value)(settings.notify_selected)
    app.action(ActionId.HOME_ATTENTION.value)(settings.attention_toggled)
    app.action(ActionId.HOME_AGENDA_TIME.value)(settings.agenda_time_picked)
    app.action(ActionId.OPEN_HOME.value)(ack_link_button)
