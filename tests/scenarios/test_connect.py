"""Install-free (single-workspace) connect flows: /recall connect, status, reconnect, and every failure.

Each test drives the real ASGI app with signed Slack requests, the OAuth stand-ins and FakeRecall,
and checks what the member sees (page, DM, ephemeral reply) and what changed (Recall, our rows).
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from storage.models import CalendarOAuthState, CalendarSync, Meeting
from tests.conftest import TEAM_ID
from tests.scenarios.harness import (
    MICROSOFT_CLIENT_ID,
    MICROSOFT_CLIENT_SECRET,
    PUBLIC_URL,
    Harness,
    shared_ssl_context,
)
from tests.scenarios.test_meetings import soon
from tests.scenarios.test_quiet import LONG_AGO
from tests.twins.fake_recall import FakeRecall
from tests.twins.fake_slack import FakeSlack, Message, app_home_opened_event
from tests.twins.oauth_providers import GOOGLE_CALENDAR_SCOPE, GOOGLE_SCOPES, OAuth2MockServer, OidcProviderMock

ADA = "U0ADA00001"
BOB = "U0BOB00001"
ADA_WORK = "ada@acme.test"
ADA_HOME = "ada.home@acme.test"
CALENDARS = "/api/v2/calendars/"
CALENDAR_EVENTS = "/api/v2/calendar-events/"


@pytest.fixture(autouse=True, scope="module")
def _one_ssl_context() -> Iterator[None]:
    with shared_ssl_context():
        yield


def _with_users(harness: Harness) -> Harness:
    harness.slack.add_user(TEAM_ID, ADA, name="ada")
    harness.slack.add_user(TEAM_ID, BOB, name="bob")
    return harness


# ---- what the member sees ----------------------------------------------------------------------


def page_text(response: httpx.Response) -> str:
    return html.unescape(response.text)


def assert_page(response: httpx.Response, status: int, *words: str, outcome: str = "failure") -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert f'data-outcome="{outcome}"' in response.text
    text = page_text(response)
    for word in words:
        assert word in text, f"{word!r} not on the page:\n{text}"


def buttons(message: Message) -> list[dict[str, Any]]:
    return [e for block in message.blocks or [] for e in block.get("elements", []) if e.get("type") == "button"]


def retry_link(message: Message) -> str:
    found = [b["url"] for b in buttons(message) if b["text"]["text"].startswith("Try again")]
    assert len(found) == 1, message
    return found[0]


def assert_failure_dm(h: Harness, user_id: str, dms_before: int, *words: str, provider: str = "google") -> Message:
    dms = h.dms(user_id)
    assert len(dms) == dms_before + 1, [m.text for m in dms]
    dm = dms[-1]
    for word in words:
        assert word in dm.text, dm.text
    link = retry_link(dm)
    assert link.startswith(f"{PUBLIC_URL}/calendar/connect/{provider}?state="), link
    return dm


def assert_nothing_connected(h: Harness) -> None:
    assert h.recall.calendars() == []
    assert h.connections() == []


def finish_with(h: Harness, link: str, *, provider: str, email: str, user_id: str = ADA) -> httpx.Response:
    """Follow a connect link (e.g. a failure DM's "Try again") through consent to our page."""
    started = h.open_link(link)
    assert started.status_code == 302, started.text
    return h.follow_callback(h.consent(provider, started.headers["location"], email=email))


def assert_connected(h: Harness, *, user_id: str, provider: str, email: str) -> None:
    [row] = [c for c in h.connections(user_id) if c.provider == provider]
    assert row.email == email
    calendar = h.recall.calendar(row.recall_calendar_id)
    assert calendar["oauth_email"] == email
    assert h.services.cipher.decrypt(row.refresh_token_encrypted) == calendar["oauth_refresh_token"]


# ---- connecting --------------------------------------------------------------------------------


def test_connect_google_creates_recall_calendar_and_confirms(h: Harness) -> None:
    response = h.connect(user_id=ADA, provider="google", email=ADA_WORK)
    assert_page(response, 200, "Google Calendar connected", ADA_WORK, outcome="success")
    assert "recall_connect=" in response.headers.get("set-cookie", "")  # the browser cookie is cleared

    calendars = h.recall.calendars()
    assert len(calendars) == 1
    calendar = calendars[0]
    assert calendar["platform"] == "google_calendar"
    assert calendar["oauth_email"] == ADA_WORK
    assert calendar["oauth_client_id"] == h.settings.google_client_id
    assert calendar["oauth_client_secret"] == h.settings.google_client_secret
    assert calendar["oauth_refresh_token"]

    last = h.dms(ADA)[-1]
    assert "Google Calendar is connected for ada@acme.test" in last.text

    [row] = h.connections(ADA)
    assert (row.provider, row.email, row.recall_calendar_id) == ("google", ADA_WORK, calendar["id"])
    # The stored refresh token is ciphertext that decrypts to what Recall was given.
    assert calendar["oauth_refresh_token"] not in row.refresh_token_encrypted
    assert h.services.cipher.decrypt(row.refresh_token_encrypted) == calendar["oauth_refresh_token"]

    response, name = h.slash("status", user_id=ADA)
    assert response.status_code == 200
    assert any("Google Calendar" in text and ADA_WORK in text for text in h.replies(name))


def test_connect_microsoft_then_google_and_status_follows_recall(h: Harness) -> None:
    response = h.connect(user_id=ADA, provider="microsoft", email="ada@contoso.test")
    assert_page(response, 200, "Microsoft Outlook connected", "ada@contoso.test", outcome="success")

    [post] = h.recall.calls_to("POST", CALENDARS)
    assert post.json["platform"] == "microsoft_outlook"
    assert post.json["oauth_client_id"] == MICROSOFT_CLIENT_ID
    assert post.json["oauth_client_secret"] == MICROSOFT_CLIENT_SECRET
    assert post.json["oauth_email"] == "ada@contoso.test"
    assert post.json["oauth_refresh_token"]
    # The app asked for the read-only calendar scope with PKCE (S256), and sent the verifier.
    log = h.microsoft.requests()
    [authorize] = [r for r in log if r["endpoint"] == "authorize"]
    assert "https://graph.microsoft.com/Calendars.Read" in authorize["scope"].split()
    assert "offline_access" in authorize["scope"].split()
    assert authorize["code_challenge_method"] == "S256" and authorize["code_challenge"]
    [token] = [r for r in log if r["endpoint"] == "token"]
    assert token["grant_type"] == "authorization_code" and token["has_code_verifier"]
    assert "Microsoft Outlook is connected for ada@contoso.test" in h.dms(ADA)[-1].text
    assert_connected(h, user_id=ADA, provider="microsoft", email="ada@contoso.test")

    response = h.connect(user_id=ADA, provider="google", email=ADA_WORK)
    assert_page(response, 200, "Google Calendar connected", outcome="success")
    assert len(h.recall.calendars()) == 2

    _, name = h.slash("status", user_id=ADA)
    [status] = h.replies(name)
    assert "Google Calendar (ada@acme.test): :hourglass_flowing_sand: connecting" in status
    assert "Microsoft Outlook (ada@contoso.test): :hourglass_flowing_sand: connecting" in status

    outlook = next(c for c in h.connections(ADA) if c.provider == "microsoft")
    h.recall.set_calendar_status(outlook.recall_calendar_id, "connected")
    _, name = h.slash("  STATUS ", user_id=ADA)
    [status] = h.replies(name)
    assert "Microsoft Outlook (ada@contoso.test): :white_check_mark: connected" in status
    assert "Google Calendar (ada@acme.test): :hourglass_flowing_sand: connecting" in status
    assert next(c for c in h.connections(ADA) if c.provider == "microsoft").status == "connected"

    # Bob has nothing: status tells him how to connect.
    _, name = h.slash("status", user_id=BOB)
    [status] = h.replies(name)
    assert "You have no calendar connected" in status and "/recall connect" in status


def test_link_is_bound_to_the_member_it_was_issued_to(h: Harness) -> None:
    """Whoever's browser completes Ada's link, the calendar is stored for Ada and Ada is told."""
    h.slash("connect google", user_id=ADA)
    link = h.latest_link(ADA, "google")
    bob_dms = len(h.dms(BOB))

    response = finish_with(h, link, provider="google", email=ADA_WORK)
    assert_page(response, 200, "Google Calendar connected", outcome="success")
    assert_connected(h, user_id=ADA, provider="google", email=ADA_WORK)
    assert h.connections(BOB) == []
    assert len(h.dms(BOB)) == bob_dms
    assert "is connected for ada@acme.test" in h.dms(ADA)[-1].text


# ---- reconnecting ------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["google", "microsoft"])
def test_reconnect_same_account_patches_the_same_recall_calendar(h: Harness, provider: str) -> None:
    label = {"google": "Google Calendar", "microsoft": "Microsoft Outlook"}[provider]
    h.connect(user_id=ADA, provider=provider, email=ADA_WORK)
    [first] = h.recall.calendars()
    first_token = first["oauth_refresh_token"]

    # Same account, email typed with different case by the provider: still the same calendar.
    response = h.connect(user_id=ADA, provider=provider, email=ADA_WORK.upper() if provider == "google" else ADA_WORK)
    assert_page(response, 200, f"{label} reconnected", outcome="success")

    assert len(h.recall.calls_to("POST", CALENDARS)) == 1
    [patch] = h.recall.calls_to("PATCH", CALENDARS)
    assert patch.path == f"{CALENDARS}{first['id']}/"
    assert patch.json["oauth_refresh_token"] != first_token
    [calendar] = h.recall.calendars()
    assert calendar["id"] == first["id"]
    assert calendar["oauth_refresh_token"] == patch.json["oauth_refresh_token"]
    assert h.recall.calls_to("DELETE", CALENDARS) == []

    [row] = h.connections(ADA)
    assert row.recall_calendar_id == first["id"]
    assert h.services.cipher.decrypt(row.refresh_token_encrypted) == calendar["oauth_refresh_token"]
    assert f"{label} is reconnected" in h.dms(ADA)[-1].text


def test_reconnect_with_another_account_replaces_the_calendar(h: Harness) -> None:
    h.connect(user_id=ADA, provider="microsoft", email=ADA_WORK)
    [old] = h.recall.calendars()
    h.recall.set_calendar_status(old["id"], "connected")
    work = h.recall.add_event(
        old["id"], start_time=soon(3), title="Work review", raw_extra={"createdDateTime": LONG_AGO}
    )
    h.sync(old["id"])
    assert [m.title for m in h.rows(Meeting)] == ["Work review"]

    response = h.connect(user_id=ADA, provider="microsoft", email=ADA_HOME)
    assert_page(response, 200, "Microsoft Outlook connected", ADA_HOME, outcome="success")

    assert len(h.recall.calls_to("POST", CALENDARS)) == 2
    assert h.recall.calls_to("PATCH", CALENDARS) == []
    assert [c.path for c in h.recall.calls_to("DELETE", CALENDARS)] == [f"{CALENDARS}{old['id']}/"]
    [new] = h.recall.calendars()
    assert new["id"] != old["id"] and new["oauth_email"] == ADA_HOME
    [row] = h.connections(ADA)
    assert (row.email, row.recall_calendar_id) == (ADA_HOME, new["id"])
    dm = h.dms(ADA)[-1].text
    assert "now connected for ada.home@acme.test" in dm and "replacing ada@acme.test" in dm

    # The summary filled in with the new calendar's meetings still says what it replaced.
    summary = h.dms(ADA)[-1]
    h.recall.set_calendar_status(new["id"], "connected")
    h.recall.add_event(new["id"], start_time=soon(2), title="Home standup", raw_extra={"createdDateTime": LONG_AGO})
    h.sync(new["id"])
    updated = h.slack.message(summary.channel, summary.ts)
    assert "I found 1 meeting coming up" in str(updated.blocks)
    assert "replacing ada@acme.test" in updated.text
    # The old calendar's meetings went with it: only the new one's are known, listed and synced.
    assert [m.title for m in h.rows(Meeting)] == ["Home standup"]
    assert "Work review" not in str(updated.blocks)
    assert [s.recall_calendar_id for s in h.rows(CalendarSync)] == [new["id"]]
    h.event(app_home_opened_event(team_id=TEAM_ID, user_id=ADA))
    h.wait_idle()
    home = h.slack.home_view(ADA, TEAM_ID)
    assert home is not None and "Home standup" in str(home["blocks"]) and "Work review" not in str(home["blocks"])
    # Its old buttons say so and change nothing.
    _, click = h.click(action_id="schedule_bot", value=work["id"], user_id=ADA)
    h.wait_idle()
    assert any("no longer know" in reply for reply in h.replies(click))
    assert h.recall.calls_to("POST", f"{CALENDAR_EVENTS}{work['id']}/bot/") == []


# ---- failures: consent, links, states ----------------------------------------------------------


@pytest.mark.parametrize("provider", ["google", "microsoft"])
def test_consent_denied_changes_nothing_and_try_again_works(h: Harness, provider: str) -> None:
    h.slash(f"connect {'outlook' if provider == 'microsoft' else 'google'}", user_id=ADA)
    before = len(h.dms(ADA))
    started = h.open_link(h.latest_link(ADA, provider))
    callback = h.consent(provider, started.headers["location"], approve=False, email=ADA_WORK)
    assert "error=access_denied" in callback

    response = h.follow_callback(callback)
    assert_page(response, 400, "You didn't allow access", "Nothing was connected")
    dm = assert_failure_dm(h, ADA, before, "You didn't allow access", provider=provider)
    assert_nothing_connected(h)

    response = finish_with(h, retry_link(dm), provider=provider, email=ADA_WORK)
    assert_page(response, 200, "connected", ADA_WORK, outcome="success")
    assert_connected(h, user_id=ADA, provider=provider, email=ADA_WORK)


def test_unknown_or_tampered_link_is_refused(h: Harness) -> None:
    h.slash("connect", user_id=ADA)
    link = h.latest_link(ADA, "google")
    before = len(h.dms(ADA))
    token = link.split("state=", 1)[1]
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")

    for path in (
        "/calendar/connect/google",
        "/calendar/connect/google?state=",
        "/calendar/connect/google?state=not-a-link",
        f"/calendar/connect/google?state={tampered}",
        f"/calendar/connect/microsoft?state={token}",  # a Google link on the Outlook path
    ):
        response = h.client.get(path, follow_redirects=False)
        assert_page(response, 400, "This link isn't valid", "/recall connect")
    assert len(h.dms(ADA)) == before  # nobody is known to tell
    assert all(s.opened_at is None for s in h.rows(CalendarOAuthState))

    # None of that used up the real link.
    response = finish_with(h, link, provider="google", email=ADA_WORK)
    assert_page(response, 200, "Google Calendar connected", outcome="success")


def test_link_works_once(h: Harness) -> None:
    h.slash("connect google", user_id=ADA)
    link = h.latest_link(ADA, "google")
    first = h.open_link(link)
    assert first.status_code == 302
    before = len(h.dms(ADA))

    again = h.open_link(link)
    assert_page(again, 409, "This link was already used", "/recall connect")
    assert "location" not in again.headers
    assert len(h.dms(ADA)) == before
    assert_nothing_connected(h)


def test_expired_link_is_refused_and_a_fresh_one_is_sent(h: Harness) -> None:
    h.slash("connect google", user_id=ADA)
    link = h.latest_link(ADA, "google")
    before = len(h.dms(ADA))
    h.expire_links()

    response = h.open_link(link)
    assert_page(response, 410, "This link has expired", "10 minutes")
    dm = assert_failure_dm(h, ADA, before, "This link has expired")
    assert_nothing_connected(h)

    response = finish_with(h, retry_link(dm), provider="google", email=ADA_WORK)
    assert_page(response, 200, "Google Calendar connected", outcome="success")


def test_replayed_callback_is_ignored(h: Harness) -> None:
    callback = h.callback_for(user_id=ADA, provider="google", email=ADA_WORK)
    assert_page(h.follow_callback(callback), 200, outcome="success")
    before = len(h.dms(ADA))
    [calendar] = h.recall.calendars()

    replay = h.follow_callback(callback)
    assert_page(replay, 409, "This sign-in was already completed", "/recall status")
    assert len(h.dms(ADA)) == before
    assert [c["id"] for c in h.recall.calendars()] == [calendar["id"]]
    assert len(h.recall.calls_to("POST", CALENDARS)) == 1
    assert h.recall.calls_to("PATCH", CALENDARS) == []


def test_callback_after_the_state_expired_changes_nothing(h: Harness) -> None:
    callback = h.callback_for(user_id=ADA, provider="microsoft", email=ADA_WORK)
    before = len(h.dms(ADA))
    h.expire_links()

    response = h.follow_callback(callback)
    assert_page(response, 410, "This sign-in took too long", "Nothing was changed")
    assert_failure_dm(h, ADA, before, "This sign-in took too long", provider="microsoft")
    assert_nothing_connected(h)
    assert h.recall.calls_to("POST", CALENDARS) == []


def test_callback_in_another_browser_is_refused_and_the_member_can_still_finish(h: Harness) -> None:
    callback = h.callback_for(user_id=ADA, provider="google", email=ADA_WORK)
    before = len(h.dms(ADA))
    own_cookies = httpx.Cookies(h.client.cookies)
    assert own_cookies.get("recall_connect")
    path = callback.removeprefix(PUBLIC_URL)

    h.client.cookies.clear()
    for headers in ({}, {"Cookie": "recall_connect=somebody-elses-nonce"}):
        response = h.client.get(path, headers=headers, follow_redirects=False)
        assert_page(response, 403, "Finish in the browser you started in", "Nothing was changed")
    assert len(h.dms(ADA)) == before  # a stranger must not be able to make us DM the member
    assert_nothing_connected(h)

    h.client.cookies = own_cookies
    response = h.follow_callback(callback)
    assert_page(response, 200, "Google Calendar connected", outcome="success")
    assert_connected(h, user_id=ADA, provider="google", email=ADA_WORK)


def test_callback_with_an_unknown_state_is_refused(h: Harness) -> None:
    for query in ("code=abc", "code=abc&state=forged-state", "error=access_denied&state=forged-state"):
        response = h.client.get(f"/calendar/oauth/google/callback?{query}", follow_redirects=False)
        assert_page(response, 400, "We don't recognise this sign-in", "Nothing was changed")
    assert h.dms(ADA) == []
    assert_nothing_connected(h)


# ---- failures: what the provider gives back ----------------------------------------------------


def test_google_without_a_refresh_token(
    database_url: str,
    fake_slack: FakeSlack,
    fake_recall: FakeRecall,
    oidc_provider_no_refresh_token: OidcProviderMock,
) -> None:
    with Harness(
        database_url=database_url, slack=fake_slack, recall=fake_recall, google=oidc_provider_no_refresh_token
    ) as h:
        _with_users(h)
        h.slash("connect google", user_id=ADA)
        before = len(h.dms(ADA))
        response = finish_with(h, h.latest_link(ADA, "google"), provider="google", email=ADA_WORK)
        assert_page(response, 400, "Google Calendar didn't give lasting access", "approve every permission")
        assert_failure_dm(h, ADA, before, "didn't give lasting access")
        assert_nothing_connected(h)


def test_google_with_the_calendar_box_unticked(
    database_url: str, fake_slack: FakeSlack, fake_recall: FakeRecall, oidc_provider: OidcProviderMock
) -> None:
    without_calendar = [s for s in GOOGLE_SCOPES if s != GOOGLE_CALENDAR_SCOPE]
    with Harness(
        database_url=database_url,
        slack=fake_slack,
        recall=fake_recall,
        google=oidc_provider,
        google_scope=without_calendar,
    ) as h:
        _with_users(h)
        h.slash("connect google", user_id=ADA)
        before = len(h.dms(ADA))
        response = finish_with(h, h.latest_link(ADA, "google"), provider="google", email=ADA_WORK)
        assert_page(response, 400, "Calendar access wasn't ticked", "tick the calendar permission")
        assert_failure_dm(h, ADA, before, "Calendar access wasn't ticked")
        assert_nothing_connected(h)


@pytest.mark.parametrize(
    ("arm", "status", "words"),
    [
        ({"drop_refresh_token": True}, 400, "Microsoft Outlook didn't give lasting access"),
        ({"token_scope": "openid email offline_access"}, 400, "Calendar access wasn't ticked"),
        ({"token_error": "invalid_grant"}, 502, "Microsoft Outlook didn't accept the sign-in"),
        ({"token_error": "server_error", "token_error_status": 500}, 502, "didn't accept the sign-in"),
        ({"authorize_error": "invalid_request"}, 502, "Microsoft Outlook couldn't complete the sign-in"),
    ],
    ids=["no-refresh-token", "calendar-scope-missing", "invalid-grant", "token-endpoint-500", "authorize-error"],
)
def test_microsoft_token_problems_change_nothing(h: Harness, arm: dict[str, Any], status: int, words: str) -> None:
    h.slash("connect outlook", user_id=ADA)
    before = len(h.dms(ADA))
    started = h.open_link(h.latest_link(ADA, "microsoft"))
    h.microsoft.set_user(email=ADA_WORK)
    h.microsoft.arm(**arm)
    callback = h.consent("microsoft", started.headers["location"], email=ADA_WORK)

    response = h.follow_callback(callback)
    assert_page(response, status, words, "/recall connect" if status == 400 else "Nothing was changed")
    dm = assert_failure_dm(h, ADA, before, words, provider="microsoft")
    assert_nothing_connected(h)

    # The armed behaviour was one-shot: the fresh link in the DM now works.
    response = finish_with(h, retry_link(dm), provider="microsoft", email=ADA_WORK)
    assert_page(response, 200, "Microsoft Outlook connected", outcome="success")


# ---- failures: Recall --------------------------------------------------------------------------


def test_recall_failing_leaves_no_calendar_and_no_connection(h: Harness) -> None:
    h.slash("connect google", user_id=ADA)
    before = len(h.dms(ADA))
    h.recall.fail_next("POST", CALENDARS, 502, times=5)  # every attempt the client makes

    response = finish_with(h, h.latest_link(ADA, "google"), provider="google", email=ADA_WORK)
    assert_page(response, 502, "Recall couldn't set up your calendar", "Nothing was changed")
    dm = assert_failure_dm(h, ADA, before, "Recall couldn't set up your calendar")
    assert len(h.recall.calls_to("POST", CALENDARS)) == 5
    assert_nothing_connected(h)

    response = finish_with(h, retry_link(dm), provider="google", email=ADA_WORK)
    assert_page(response, 200, "Google Calendar connected", outcome="success")
    assert_connected(h, user_id=ADA, provider="google", email=ADA_WORK)


def test_recall_failing_on_reconnect_keeps_the_old_connection(h: Harness) -> None:
    h.connect(user_id=ADA, provider="google", email=ADA_WORK)
    [calendar] = h.recall.calendars()
    [row] = h.connections(ADA)
    h.recall.fail_next("PATCH", CALENDARS, 503, times=5)

    response = h.connect(user_id=ADA, provider="google", email=ADA_WORK)
    assert_page(response, 502, "Recall couldn't set up your calendar")
    assert h.recall.calendars() == [calendar]
    [after] = h.connections(ADA)
    assert after.recall_calendar_id == row.recall_calendar_id
    assert h.services.cipher.decrypt(after.refresh_token_encrypted) == calendar["oauth_refresh_token"]


# ---- providers that are not set up -------------------------------------------------------------


def test_provider_not_configured(
    database_url: str, fake_slack: FakeSlack, fake_recall: FakeRecall, oidc_provider: OidcProviderMock
) -> None:
    with Harness(database_url=database_url, slack=fake_slack, recall=fake_recall, google=oidc_provider) as h:
        _with_users(h)
        for path in ("/calendar/connect/microsoft?state=whatever", "/calendar/oauth/microsoft/callback?code=x&state=y"):
            response = h.client.get(path, follow_redirects=False)
            assert_page(response, 404, "Microsoft Outlook isn't available here")
        response = h.client.get("/calendar/connect/yahoo?state=whatever", follow_redirects=False)
        assert response.status_code == 404

        response, _ = h.slash("connect outlook", user_id=ADA)
        assert response.status_code == 200
        assert "Microsoft Outlook isn't available in this workspace" in response.json()["text"]
        assert "/recall connect google" in response.json()["text"]
        assert h.dms(ADA) == []
        assert h.rows(CalendarOAuthState) == []

        response, _ = h.slash("connect", user_id=ADA)
        assert "Google Calendar" in response.json()["text"]
        [dm] = h.dms(ADA)
        assert [b["text"]["text"] for b in buttons(dm)] == ["Connect Google Calendar"]


def test_no_provider_configured(database_url: str, fake_slack: FakeSlack, fake_recall: FakeRecall) -> None:
    with Harness(database_url=database_url, slack=fake_slack, recall=fake_recall) as h:
        _with_users(h)
        for text in ("connect", "connect google", "connect outlook"):
            response, _ = h.slash(text, user_id=ADA)
            assert response.status_code == 200
            assert "No calendar can be connected here yet" in response.json()["text"], response.json()
        assert h.dms(ADA) == []
        assert h.rows(CalendarOAuthState) == []
        response = h.client.get("/calendar/connect/google?state=whatever", follow_redirects=False)
        assert_page(response, 404, "Google Calendar isn't available here")

        _, name = h.slash("status", user_id=ADA)
        [status] = h.replies(name)
        assert "You have no calendar connected" in status

        h.event(app_home_opened_event(team_id=TEAM_ID, user_id=ADA))
        home = h.slack.home_view(ADA, TEAM_ID)
        assert home is not None and "No calendar can be connected here yet" in str(home["blocks"])


# ---- more of what members can run into ---------------------------------------------------------


def delete_at_recall(h: Harness, calendar_id: str) -> None:
    """Someone removed the calendar in Recall's dashboard (or Recall lost it): gone without telling us."""
    response = httpx.delete(
        f"{h.recall.base_url}{CALENDARS}{calendar_id}/",
        headers={"Authorization": f"Token {h.recall.api_key}"},
        timeout=10,
        trust_env=False,
    )
    assert response.status_code == 204, response.text
    h.recall.reset_calls()


def test_reconnect_after_recall_lost_the_calendar_makes_a_new_one(h: Harness) -> None:
    h.connect(user_id=ADA, provider="google", email=ADA_WORK)
    [old] = h.recall.calendars()
    delete_at_recall(h, old["id"])

    response = h.connect(user_id=ADA, provider="google", email=ADA_WORK)
    assert_page(response, 200, "Google Calendar connected", ADA_WORK, outcome="success")
    assert len(h.recall.calls_to("PATCH", CALENDARS)) == 1  # tried the old one first
    [new] = h.recall.calendars()
    assert new["id"] != old["id"]
    [row] = h.connections(ADA)
    assert row.recall_calendar_id == new["id"]
    dm = h.dms(ADA)[-1].text
    assert "Google Calendar is connected for ada@acme.test" in dm
    assert "replacing" not in dm  # the same account: nothing was replaced


def test_account_without_a_readable_email(h: Harness) -> None:
    h.slash("connect outlook", user_id=ADA)
    before = len(h.dms(ADA))
    started = h.open_link(h.latest_link(ADA, "microsoft"))
    callback = h.consent("microsoft", started.headers["location"], email="no-email-here")

    response = h.follow_callback(callback)
    assert_page(response, 400, "We couldn't read your account's email", "allow access to your email address")
    assert_failure_dm(h, ADA, before, "We couldn't read your account's email", provider="microsoft")
    assert_nothing_connected(h)


def test_provider_sign_in_service_unreachable(
    database_url: str, fake_slack: FakeSlack, fake_recall: FakeRecall, oidc_provider: OidcProviderMock
) -> None:
    with Harness(
        database_url=database_url,
        slack=fake_slack,
        recall=fake_recall,
        google=oidc_provider,
        google_oauth_metadata_url=f"{fake_slack.url}no-such-discovery-document",
    ) as h:
        _with_users(h)
        h.slash("connect google", user_id=ADA)
        link = h.latest_link(ADA, "google")
        before = len(h.dms(ADA))

        response = h.open_link(link)
        assert_page(response, 502, "We couldn't reach Google Calendar", "Nothing was changed")
        assert_failure_dm(h, ADA, before, "We couldn't reach Google Calendar")
        assert_nothing_connected(h)
        assert all(s.opened_at is None for s in h.rows(CalendarOAuthState))  # no link used up by an outage


def test_browser_cookie_is_scoped_to_the_callback(
    database_url: str, fake_slack: FakeSlack, fake_recall: FakeRecall, oauth2_mock_server: OAuth2MockServer
) -> None:
    for public_url, secure in (("http://testserver", False), ("https://testserver", True)):
        with Harness(
            database_url=database_url,
            slack=fake_slack,
            recall=fake_recall,
            microsoft=oauth2_mock_server,
            public_url=public_url,
        ) as h:
            _with_users(h)
            h.slash("connect outlook", user_id=ADA)
            started = h.open_link(h.latest_link(ADA, "microsoft", TEAM_ID).replace("https://", "http://"))
            assert started.status_code == 302
            assert started.headers["cache-control"] == "no-store"
            assert started.headers["referrer-policy"] == "no-referrer"
            cookie = started.headers["set-cookie"].lower()
            assert cookie.startswith("recall_connect=")
            for attribute in ("httponly", "samesite=lax", "path=/calendar/oauth/microsoft/callback", "max-age=600"):
                assert attribute in cookie, cookie
            assert ("secure" in cookie.split("; ")) is secure, cookie
            # The provider is told to come back to PUBLIC_URL, not to wherever the request came from.
            assert f"redirect_uri={public_url.replace(':', '%3A').replace('/', '%2F')}" in started.headers["location"]


def test_google_authorize_request_asks_for_offline_read_only_access_with_pkce(h: Harness) -> None:
    h.slash("connect google", user_id=ADA)
    link = h.latest_link(ADA, "google")
    started = h.open_link(link)
    location = urlsplit(started.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == h.google.authorization_endpoint
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["response_type"] == "code"
    assert query["client_id"] == h.settings.google_client_id
    assert query["redirect_uri"] == f"{PUBLIC_URL}/calendar/oauth/google/callback"
    assert set(query["scope"].split()) >= {"openid", "email", GOOGLE_CALENDAR_SCOPE}
    assert not any(s.endswith("/auth/calendar") or "calendar.events " in s for s in query["scope"].split())
    assert (query["access_type"], query["prompt"]) == ("offline", "consent")
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    # The provider sees its own random state, not the link token from the DM.
    assert query["state"] and query["state"] != link.split("state=", 1)[1]


def test_hostile_email_is_shown_as_text(h: Harness) -> None:
    hostile = "<script>alert(1)</script><!channel>@acme.test"
    response = h.connect(user_id=ADA, provider="microsoft", email=hostile)
    assert response.status_code in (200, 502), response.text
    assert "<script>" not in response.text and "<!channel>" not in response.text
    for message in h.dms(ADA):
        assert "<script>" not in message.text and "<!channel>" not in message.text
        assert "<!channel>" not in str(message.blocks)
    if response.status_code == 200:
        assert "&lt;script&gt;" in response.text
        _, name = h.slash("status", user_id=ADA)
        assert all("<!channel>" not in text for text in h.replies(name))
