"""The Slack stand-in as the tests use it: ``slackbot/demo/twins/slack.py`` held to Slack's Web API spec from
``../shared/contracts`` (see ``slack_contract.py``). Every name of the packaged module is re-exported here, so
tests import from one place."""

from __future__ import annotations

from typing import Any

from slackbot.demo.twins import slack as _packaged
from slackbot.demo.twins.slack import *  # noqa: F403 (the packaged stand-in's whole public surface)
from tests.twins.slack_contract import web_api_contract


class FakeSlack(_packaged.FakeSlack):
    """The packaged stand-in, always checked against Slack's Web API spec."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("contract", web_api_contract())
        super().__init__(**kwargs)
