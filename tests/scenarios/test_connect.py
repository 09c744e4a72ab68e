"""Install-free (single-workspace) connect flows: /recall connect, status, reconnect, disconnect, failures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import TEAM_ID
from tests.scenarios.harness import Harness
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


def test_connect_google_creates_recall_calendar_and_confirms(h: Harness) -> None:
    response = h.connect(user_id=ADA, provider="google", email="ada@acme.test")
    assert response.status_code == 200, response.text
    assert 'data-outcome="success"' in response.text
    assert "ada@acme.test" in response.text

    calendars = h.recall.calendars()
    assert len(calendars) == 1
    calendar = calendars[0]
    assert calendar["platform"] == "google_calendar"
    assert calendar["oauth_email"] == "ada@acme.test"
    assert calendar["oauth_client_id"] == h.settings.google_client_id
    assert calendar["oauth_refresh_token"]

    last = h.dms(ADA)[-1]
    assert "Google Calendar" in last.text and "ada@acme.test" in last.text

    response, name = h.slash("status", user_id=ADA)
    assert response.status_code == 200
    assert any("Google Calendar" in text and "ada@acme.test" in text for text in h.replies(name))
