"""Installing and uninstalling: the multi-workspace Bolt OAuth flow, and every row and Recall calendar
of a workspace removed on `app_uninstalled` / `tokens_revoked`."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import update

from storage.models import CalendarConnection, CalendarOAuthState, Member, PendingCalendarDeletion, utcnow
from storage.slack_tables import slack_bots, slack_installations, slack_oauth_states
from tests.conftest import TEAM_ID
from tests.scenarios.harness import (
    PUBLIC_URL,
    Harness,
    install_link,
    install_state_cookie,
    shared_ssl_context,
    slack_consent,
)
from tests.scenarios.test_connect import ADA, ADA_WORK, BOB, CALENDARS, assert_page
from tests.twins.fake_recall import FakeRecall
from tests.twins.fake_slack import (
    FakeSlack,
    app_uninstalled_event,
    event_body,
    sign_slack_request,
    tokens_revoked_event,
)
from tests.twins.oauth_providers import OidcProviderMock

TEAM_B = "T0BETA00001"
CAROL = "U0CAROL0001"


@pytest.fixture(autouse=True, scope="module")
def _one_ssl_context() -> Iterator[None]:
    with shared_ssl_context():
        yield


def two_members_connected(h: Harness) -> list[str]:
    """Ada (Google) and Bob (Outlook) connected, and an unused link of Ada's outstanding; the calendar ids."""
    h.connect(user_id=ADA, provider="google", email=ADA_WORK)
    h.connect(user_id=BOB, provider="microsoft", email="bob@acme.test")
    h.slash("connect google", user_id=ADA)
    ids = sorted(c["id"] for c in h.recall.calendars())
    assert len(ids) == 2 and len(h.rows(Member)) == 2
    assert any(s.opened_at is None for s in h.rows(CalendarOAuthState))
    return ids


def snapshot(h: Harness) -> dict[str, Any]:
    return {
        "members": sorted((m.team_id, m.slack_user_id) for m in h.rows(Member)),
        "connections": sorted((c.provider, c.recall_calendar_id) for c in h.rows(CalendarConnection)),
        "states": len(h.rows(CalendarOAuthState)),
        "calendars": sorted(c["id"] for c in h.recall.calendars()),
    }


def assert_workspace_gone(h: Harness) -> None:
    assert h.rows(Member) == []
    assert h.rows(CalendarConnection) == []
    assert h.rows(CalendarOAuthState) == []


# ---- single workspace --------------------------------------------------------------------------


@pytest.mark.parametrize("revoked", ["app_uninstalled", "tokens_revoked"])
def test_uninstall_deletes_every_member_token_link_and_recall_calendar(
    h: Harness, fake_slack: FakeSlack, revoked: str
) -> None:
    ids = two_members_connected(h)
    old_link = h.latest_link(ADA, "google")
    if revoked == "app_uninstalled":
        event = app_uninstalled_event()
    else:
        event = tokens_revoked_event(bot_user_ids=[fake_slack.workspace(TEAM_ID).bot_user_id])

    assert h.event(event).status_code == 200

    assert_workspace_gone(h)
    assert h.rows(PendingCalendarDeletion) == []
    assert h.recall.calendars() == []
    assert sorted(c.path for c in h.recall.calls_to("DELETE", CALENDARS)) == [f"{CALENDARS}{i}/" for i in ids]
    # The links sent before are dead.
    assert_page(h.open_link(old_link), 400, "This link isn't valid")


def test_revoking_only_user_tokens_changes_nothing(h: Harness) -> None:
    two_members_connected(h)
    before = snapshot(h)
    response = h.event(tokens_revoked_event(oauth_user_ids=[ADA, BOB]))
    assert response.status_code == 200
    assert snapshot(h) == before
    assert h.recall.calls_to("DELETE", CALENDARS) == []


def test_forged_uninstall_is_refused(h: Harness) -> None:
    two_members_connected(h)
    before = snapshot(h)
    body = event_body(team_id=TEAM_ID, event=app_uninstalled_event())
    response = h.post_slack(body, "application/json", headers=sign_slack_request("wrong-secret-0000000000", body))
    assert response.status_code == 401
    assert snapshot(h) == before


def test_uninstall_while_recall_is_down_queues_the_calendar_deletions(h: Harness) -> None:
    ids = two_members_connected(h)
    h.recall.fail_next("DELETE", CALENDARS, 503, times=10)  # both calendars, every attempt

    assert h.event(app_uninstalled_event()).status_code == 200

    assert_workspace_gone(h)  # our rows go at once, Recall or not
    pending = h.rows(PendingCalendarDeletion)
    assert sorted(p.recall_calendar_id for p in pending) == ids
    assert all(p.attempts == 1 and p.next_attempt_at > utcnow() for p in pending)
    assert sorted(c["id"] for c in h.recall.calendars()) == ids

    # Not due yet: the retry job leaves them alone.
    assert h.run(h.services.connections.retry_calendar_deletions) == 0
    h.execute(update(PendingCalendarDeletion).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    assert h.run(h.services.connections.retry_calendar_deletions) == 2
    assert h.recall.calendars() == []
    assert h.rows(PendingCalendarDeletion) == []


# ---- multi-workspace ---------------------------------------------------------------------------


@pytest.fixture
def mh(
    database_url: str, fake_slack: FakeSlack, fake_recall: FakeRecall, oidc_provider: OidcProviderMock
) -> Iterator[Harness]:
    with Harness(
        database_url=database_url, slack=fake_slack, recall=fake_recall, google=oidc_provider, multi_workspace=True
    ) as harness:
        yield harness


def test_install_flow_connect_and_uninstall_one_of_two_workspaces(
    mh: Harness, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    page = mh.client.get("/slack/install", follow_redirects=False)
    assert page.status_code == 200
    link = install_link(page.text)
    assert link.startswith(fake_slack.authorize_url + "?"), link
    cookie = install_state_cookie(page)
    assert len(mh.table_rows(slack_oauth_states)) == 1

    fake_slack.set_installer(team_id=TEAM_ID, team_name="Acme", user_id=ADA)
    redirect = slack_consent(link)
    assert redirect.startswith(f"{PUBLIC_URL}/slack/oauth_redirect?code="), redirect
    done = mh.follow_callback_with_cookie(redirect, cookie)
    assert done.status_code == 200, done.text
    assert "Recall for Slack is installed" in done.text and 'data-outcome="success"' in done.text

    token = fake_slack.workspace(TEAM_ID).bot_token
    [bot] = mh.table_rows(slack_bots)
    [installation] = mh.table_rows(slack_installations)
    assert bot["team_id"] == installation["team_id"] == TEAM_ID
    for stored in (bot["bot_token"], installation["bot_token"]):
        assert token not in stored  # ciphertext at rest
        assert mh.services.cipher.decrypt(stored) == token
    assert token not in caplog.text, "the installed bot token was logged"

    # The same state cannot be used twice.
    replay = mh.follow_callback_with_cookie(redirect, cookie)
    assert "Recall for Slack was not installed" in replay.text
    assert len(mh.table_rows(slack_bots)) == 1

    assert mh.install(team_id=TEAM_B, team_name="Beta", user_id=CAROL).status_code == 200
    token_b = fake_slack.workspace(TEAM_B).bot_token
    assert len(mh.table_rows(slack_installations)) == 2
    fake_slack.add_user(TEAM_ID, ADA, name="ada")
    fake_slack.add_user(TEAM_B, CAROL, name="carol")

    # Each workspace's commands and DMs use that workspace's installed token.
    response = mh.connect(user_id=ADA, provider="google", email=ADA_WORK)
    assert_page(response, 200, "Google Calendar connected", outcome="success")
    response = mh.connect(user_id=CAROL, provider="google", email="carol@beta.test", team_id=TEAM_B)
    assert_page(response, 200, "Google Calendar connected", outcome="success")
    posts = fake_slack.calls_to("chat.postMessage")
    ada_dm, carol_dm = fake_slack.dm_channel(TEAM_ID, ADA), fake_slack.dm_channel(TEAM_B, CAROL)
    assert {c.token for c in posts if c.params.get("channel") == ada_dm} == {token}
    assert {c.token for c in posts if c.params.get("channel") == carol_dm} == {token_b}
    assert "is connected for carol@beta.test" in mh.dms(CAROL, TEAM_B)[-1].text
    carol_calendar = next(c.recall_calendar_id for c in mh.connections(CAROL, TEAM_B))

    fake_slack.uninstall(TEAM_ID)  # Slack revokes the tokens, then sends the event
    assert mh.event(app_uninstalled_event(), team_id=TEAM_ID).status_code == 200

    assert [r["team_id"] for r in mh.table_rows(slack_installations)] == [TEAM_B]
    assert [r["team_id"] for r in mh.table_rows(slack_bots)] == [TEAM_B]
    assert [m.team_id for m in mh.rows(Member)] == [TEAM_B]
    assert [c["id"] for c in mh.recall.calendars()] == [carol_calendar]

    # Beta still works; Acme's members are no longer served.
    _, name = mh.slash("status", user_id=CAROL, team_id=TEAM_B)
    assert any("carol@beta.test" in text for text in mh.replies(name))
    dms = len(mh.dms(ADA))
    mh.slash("connect google", user_id=ADA)
    assert len(mh.dms(ADA)) == dms
    assert mh.rows(CalendarOAuthState, CalendarOAuthState.team_id == TEAM_ID) == []


def test_denied_or_cross_browser_install_stores_nothing(mh: Harness, fake_slack: FakeSlack) -> None:
    response = mh.install(team_id=TEAM_ID, team_name="Acme", user_id=ADA, deny=True)
    assert "Recall for Slack was not installed" in response.text and "You cancelled the installation" in response.text
    assert mh.table_rows(slack_installations) == [] and mh.table_rows(slack_bots) == []

    # The redirect arrives in a browser without our state cookie (or with another one).
    page = mh.client.get("/slack/install", follow_redirects=False)
    fake_slack.set_installer(team_id=TEAM_ID, team_name="Acme", user_id=ADA)
    redirect = slack_consent(install_link(page.text))
    assert urlsplit(redirect).path == "/slack/oauth_redirect"
    for cookie in (None, "slack-app-oauth-state=somebody-elses"):
        response = mh.follow_callback_with_cookie(redirect, cookie)
        assert response.status_code == 400, response.text
        assert "Recall for Slack was not installed" in response.text
    assert mh.table_rows(slack_installations) == [] and mh.table_rows(slack_bots) == []

    # A signed command from a workspace that never installed gets no DM and no link.
    mh.slash("connect", user_id=ADA)
    assert mh.rows(CalendarOAuthState) == []
    assert fake_slack.calls_to("chat.postMessage") == []


def test_install_page_only_hands_out_a_state(mh: Harness) -> None:
    """The install page is public: each visit stores one short-lived state and nothing else."""
    for _ in range(3):
        page = mh.client.get("/slack/install", follow_redirects=False)
        assert page.status_code == 200 and install_link(page.text)
    assert len(mh.table_rows(slack_oauth_states)) == 3
    assert mh.table_rows(slack_installations) == [] and mh.table_rows(slack_bots) == []


def test_installer_is_welcomed_with_how_to_connect(mh: Harness, fake_slack: FakeSlack) -> None:
    fake_slack.add_user(TEAM_ID, ADA, name="ada")
    response = mh.install(team_id=TEAM_ID, team_name="Acme", user_id=ADA)
    assert response.status_code == 200
    assert "Recall for Slack is now part of Acme" in response.text
    assert "slack-app-oauth-state=deleted; expires=Thu, 01 Jan 1970" in response.headers["set-cookie"]
    [welcome] = mh.dms(ADA)
    assert "/recall connect" in welcome.text
    assert welcome.text.startswith(":wave: Recall for Slack is installed")
