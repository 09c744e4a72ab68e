"""The Recall stand-in as the tests use it: ``slackbot/demo/twins/recall.py`` held to Recall's OpenAPI contract
and published limits from ``../shared/contracts`` (see ``recall_contract.py``). Every name of the packaged module
is re-exported here, so tests import from one place."""

from __future__ import annotations

from typing import Any

from slackbot.demo.twins import recall as _packaged
from slackbot.demo.twins.recall import *  # noqa: F403 (the packaged stand-in's whole public surface)
from tests.twins.recall_contract import OpenApiRecallContract


class FakeRecall(_packaged.FakeRecall):
    """The packaged stand-in, always checked against Recall's contract."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("contract", OpenApiRecallContract())
        super().__init__(**kwargs)
