"""The standard scenario harness: single-workspace app, both calendar providers, members Ada and Bob."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import TEAM_ID
from tests.scenarios.harness import Harness, LiveServer, bound_socket, live_settings
from tests.twins.fake_recall import FakeRecall
from tests.twins.fake_slack import FakeSlack
from tests.twins.oauth_providers import OAuth2MockServer, OidcProviderMock

ADA = "U0ADA00001"
BOB = "U0BOB00001"


@pytest.fixture
def h(
    database_url: str,
    fake_slack: FakeSlack,
    fake_recall: FakeRecall,
    oidc_provider: OidcProviderMock,
    oauth2_mock_server: OAuth2MockServer,
) -> Iterator[Harness]:
    with Harness(
        database_url=database_url,
        slack=fake_slack,
        recall=fake_recall,
        google=oidc_provider,
        microsoft=oauth2_mock_server,
    ) as harness:
        fake_slack.add_user(TEAM_ID, ADA, name="ada")
        fake_slack.add_user(TEAM_ID, BOB, name="bob")
        yield harness


@pytest.fixture
def live(
    database_url: str, fake_slack: FakeSlack, fake_recall: FakeRecall, oidc_provider: OidcProviderMock
) -> Iterator[LiveServer]:
    """The app served for real (uvicorn on 127.0.0.1) against the twins: for the browser, `doctor` and the
    container's health check."""
    sock = bound_socket()
    settings = live_settings(
        sock=sock,
        database_url=database_url,
        slack=fake_slack,
        recall=fake_recall,
        google=oidc_provider,
        secret_key="live-server-test-secret-key",
    )
    with LiveServer(settings, sock) as server:
        yield server
