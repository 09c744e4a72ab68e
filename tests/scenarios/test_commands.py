"""`/recall` end to end: usage, connect links, disconnect, request signatures, secrets in logs, App Home."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from storage.crypto import lookup_hash
from storage.models import CalendarOAuthState, Member, utcnow
from tests.conftest import BOT_TOKEN, TEAM_ID
from tests.scenarios.harness import (
    MICROSOFT_CLIENT_SECRET,
    PUBLIC_URL,
    SIGNING_SECRET,
    WEBHOOK_SECRET,
    Harness,
    shared_ssl_context,
)
from tests.scenarios.test_connect import (
    ADA,
    ADA_WORK,
    BOB,
    CALENDARS,
    assert_page,
    buttons,
    delete_at_recall,
    finish_with,
)
from tests.twins.fake_slack import Message, app_home_opened_event, sign_slack_request

USAGE = "Recall for Slack commands"
# The "Google" stand-in (oidc-provider-mock: Flask, werkzeug, authlib's server side) logs on its own threads.
STAND_IN_LOGGERS = ("werkzeug", "oidc_provider_mock", "authlib.oauth2.rfc6749.")


@pytest.fixture(autouse=True, scope="module")
def _one_ssl_context() -> Iterator[None]:
    with shared_ssl_context():
        yield


def ack(response: httpx.Response) -> str:
    """The ephemeral reply Slack shows: the slash command's HTTP response body."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert body.get("response_type", "ephemeral") == "ephemeral", body
    return body["text"]


def only_reply(h: Harness, name: str) -> str:
    posts = h.slack.response_posts(name)
    assert len(posts) == 1, [p.payload for p in posts]
    assert posts[0].response_type in (None, "ephemeral")
    return posts[0].text or ""


def link_buttons(message: Message) -> dict[str, str]:
    """action_id -> url of the URL buttons in a DM."""
    return {b["action_id"]: b["url"] for b in buttons(message) if b.get("url")}


def assert_nothing_happened(h: Harness) -> None:
    assert h.slack.calls_to("chat.postMessage") == []
    assert h.slack.response_posts() == []
    assert h.rows(CalendarOAuthState) == []
    assert h.rows(Member) == []


# ---- usage -------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["help", "", "   ", "HELP"])
def test_help_and_empty_show_usage(h: Harness, text: str) -> None:
    response, _ = h.slash(text, user_id=ADA)
    reply = ack(response)
    assert USAGE in reply
    for command in ("/recall connect", "/recall status", "/recall disconnect", "/recall help"):
        assert command in reply
    assert h.slack.calls_to("chat.postMessage") == []


def test_unknown_subcommand_shows_usage_and_escapes_markup(h: Harness) -> None:
    response, _ = h.slash("frobnicate now", user_id=ADA)
    reply = ack(response)
    assert "I don't know `/recall frobnicate`" in reply and USAGE in reply

    response, _ = h.slash("<!channel> <@U0BOB00001>", user_id=ADA)
    reply = ack(response)
    assert "<!channel>" not in reply and "&lt;!channel&gt;" in reply
    assert_nothing_happened(h)


# ---- connect -----------------------------------------------------------------------------------


def test_connect_acks_ephemerally_and_dms_one_single_use_link_per_provider(h: Harness) -> None:
    response, _ = h.slash("connect", user_id=ADA)
    reply = ack(response)
    assert "sent you a DM" in reply and "Google Calendar or Microsoft Outlook" in reply
    assert "expires in 10 minutes" in reply

    [dm] = h.dms(ADA)
    assert [b["text"]["text"] for b in buttons(dm)] == ["Connect Google Calendar", "Connect Microsoft Outlook"]
    links = link_buttons(dm)
    assert set(links) == {"open_connect_link:google", "open_connect_link:microsoft"}
    tokens = []
    for provider in ("google", "microsoft"):
        url = links[f"open_connect_link:{provider}"]
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{PUBLIC_URL}/calendar/connect/{provider}"
        query = parse_qs(parts.query)
        assert list(query) == ["state"]
        token = query["state"][0]
        assert len(token) >= 43  # 256 random bits
        for secret_or_id in (TEAM_ID, ADA, h.settings.secret_key, BOT_TOKEN):
            assert secret_or_id not in url
        tokens.append(token)

    # Stored: only a hash, bound to the workspace, the member and the provider, for 10 minutes.
    states = h.rows(CalendarOAuthState)
    assert {s.link_token_hash for s in states} == {lookup_hash(t) for t in tokens}
    for state in states:
        assert (state.team_id, state.slack_user_id) == (TEAM_ID, ADA)
        assert timedelta(minutes=9) < state.expires_at - utcnow() <= timedelta(minutes=10)
        assert state.opened_at is None and state.used_at is None
        for value in vars(state).values():
            assert not (isinstance(value, str) and any(t in value for t in tokens))

    # Another command gives fresh, different links; the old ones stay valid until used or expired.
    h.slash("connect", user_id=ADA)
    newer = link_buttons(h.dms(ADA)[-1])
    assert not set(newer.values()) & set(links.values())

    # Slack still sends the URL button's click; it is acknowledged and changes nothing.
    response, name = h.click(action_id="open_connect_link:google", value="", user_id=ADA, message=dm)
    assert response.status_code == 200 and h.replies(name) == []


@pytest.mark.parametrize(
    ("text", "provider"),
    [("CONNECT   Google", "google"), ("  connect OUTLOOK  ", "microsoft"), ("Connect microsoft", "microsoft")],
)
def test_connect_names_one_provider_in_any_case(h: Harness, text: str, provider: str) -> None:
    label = {"google": "Google Calendar", "microsoft": "Microsoft Outlook"}[provider]
    reply = ack(h.slash(text, user_id=ADA)[0])
    assert f"link to connect {label}." in reply
    [dm] = h.dms(ADA)
    assert list(link_buttons(dm)) == [f"open_connect_link:{provider}"]
    [state] = h.rows(CalendarOAuthState)
    assert state.provider == provider


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("connect foo", "I don't know the calendar “foo”. Use `google` or `outlook`."),
        ("connect google outlook", "Name one calendar: `google` or `outlook`."),
        ("disconnect yahoo", "I don't know the calendar “yahoo”"),
        ("disconnect google outlook", "Name one calendar"),
    ],
)
def test_bad_provider_arguments_are_explained(h: Harness, text: str, words: str) -> None:
    response, name = h.slash(text, user_id=ADA)
    reply = ack(response) if text.startswith("connect") else only_reply(h, name)
    assert words in reply and USAGE in reply
    assert h.slack.calls_to("chat.postMessage") == []
    assert h.rows(CalendarOAuthState) == []


def test_connect_when_the_dm_cannot_be_sent(h: Harness) -> None:
    h.slack.fail_next("chat.postMessage", "internal_error", status=200)
    response, name = h.slash("connect google", user_id=ADA)
    assert "sent you a DM" in ack(response)
    assert "couldn't send you a DM" in only_reply(h, name)


# ---- disconnect --------------------------------------------------------------------------------


def test_disconnect_with_nothing_connected(h: Harness) -> None:
    _, name = h.slash("disconnect", user_id=ADA)
    assert "You have no calendar connected, so there's nothing to disconnect." in only_reply(h, name)
    _, name = h.slash("disconnect outlook", user_id=ADA)
    assert "You have no Microsoft Outlook connected" in only_reply(h, name)
    assert h.recall.calls_to("DELETE", CALENDARS) == []


def test_disconnect_one_provider(h: Harness) -> None:
    h.connect(user_id=ADA, provider="google", email=ADA_WORK)
    h.connect(user_id=ADA, provider="microsoft", email="ada@contoso.test")
    google = next(c for c in h.connections(ADA) if c.provider == "google")
    outlook = next(c for c in h.connections(ADA) if c.provider == "microsoft")

    _, name = h.slash("disconnect  GOOGLE", user_id=ADA)
    reply = only_reply(h, name)
    assert "Disconnected:" in reply and "Google Calendar (ada@acme.test)" in reply
    assert "Microsoft Outlook" not in reply
    assert "Recall deleted the calendar" in reply and "/recall connect" in reply

    assert not h.recall.has_calendar(google.recall_calendar_id)
    assert h.recall.has_calendar(outlook.recall_calendar_id)
    assert [c.provider for c in h.connections(ADA)] == ["microsoft"]

    _, name = h.slash("status", user_id=ADA)
    status = only_reply(h, name)
    assert "Microsoft Outlook" in status and "Google Calendar" not in status


def test_disconnect_everything(h: Harness) -> None:
    h.connect(user_id=ADA, provider="google", email=ADA_WORK)
    h.connect(user_id=ADA, provider="microsoft", email="ada@contoso.test")
    h.connect(user_id=BOB, provider="google", email="bob@acme.test")
    [bob_calendar] = [c.recall_calendar_id for c in h.connections(BOB)]

    _, name = h.slash("disconnect", user_id=ADA)
    reply = only_reply(h, name)
    assert "Google Calendar (ada@acme.test)" in reply and "Microsoft Outlook (ada@contoso.test)" in reply
    assert h.connections(ADA) == []
    assert [c["id"] for c in h.recall.calendars()] == [bob_calendar]  # Bob's is not Ada's to delete
    assert len(h.connections(BOB)) == 1


def test_disconnect_while_recall_is_down_changes_nothing(h: Harness) -> None:
    h.connect(user_id=ADA, provider="google", email=ADA_WORK)
    [row] = h.connections(ADA)
    h.recall.fail_next("DELETE", CALENDARS, 503, times=10)

    _, name = h.slash("disconnect google", user_id=ADA)
    reply = only_reply(h, name)
    assert "Recall didn't answer, so nothing was disconnected" in reply
    assert h.recall.has_calendar(row.recall_calendar_id)
    [still] = h.connections(ADA)
    assert (still.recall_calendar_id, still.refresh_token_encrypted) == (
        row.recall_calendar_id,
        row.refresh_token_encrypted,
    )


def test_disconnect_a_calendar_recall_already_deleted(h: Harness) -> None:
    h.connect(user_id=ADA, provider="google", email=ADA_WORK)
    [row] = h.connections(ADA)
    delete_at_recall(h, row.recall_calendar_id)

    _, name = h.slash("disconnect", user_id=ADA)
    assert "Disconnected:" in only_reply(h, name)
    assert h.connections(ADA) == []


def test_status_while_recall_is_down_shows_what_we_know(h: Harness) -> None:
    h.connect(user_id=ADA, provider="google", email=ADA_WORK)
    [row] = h.connections(ADA)
    h.recall.set_calendar_status(row.recall_calendar_id, "connected")
    h.recall.fail_next("GET", CALENDARS, 503, times=5)

    _, name = h.slash("status", user_id=ADA)
    assert "Google Calendar (ada@acme.test): :hourglass_flowing_sand: connecting" in only_reply(h, name)
    _, name = h.slash("status", user_id=ADA)  # Recall is back
    assert "Google Calendar (ada@acme.test): :white_check_mark: connected" in only_reply(h, name)

    h.recall.set_calendar_status(row.recall_calendar_id, "disconnected")
    _, name = h.slash("status", user_id=ADA)
    assert "Google Calendar (ada@acme.test): :warning: disconnected" in only_reply(h, name)
    assert "/recall connect" in only_reply(h, name)


# ---- request signatures ------------------------------------------------------------------------


def test_forged_or_stale_requests_are_refused(h: Harness) -> None:
    body, _ = h.slash_body("connect google", user_id=ADA)
    form = "application/x-www-form-urlencoded"
    forged = sign_slack_request("not-the-signing-secret-00000000", body)
    stale = sign_slack_request(SIGNING_SECRET, body, timestamp=int(time.time()) - 6 * 60)
    tampered_body, _ = h.slash_body("connect outlook", user_id=BOB)
    for response in (
        h.post_slack(body, form, headers=forged),
        h.post_slack(body, form, headers=stale),
        h.post_slack(body, form, headers={}),
        h.post_slack(tampered_body, form, headers=sign_slack_request(SIGNING_SECRET, body)),
    ):
        assert response.status_code == 401, response.text
    assert_nothing_happened(h)

    # Within Slack's five minutes is fine.
    response = h.post_slack(body, form, timestamp=int(time.time()) - 4 * 60)
    assert "sent you a DM" in ack(response)


# ---- secrets -----------------------------------------------------------------------------------


def test_no_secret_reaches_the_logs(h: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    refresh_tokens: set[str] = set()
    for provider, email in (
        ("google", ADA_WORK),
        ("google", ADA_WORK),  # reconnect: PATCH
        ("microsoft", "ada@contoso.test"),
        ("microsoft", "ada.home@contoso.test"),  # another account: POST + DELETE
    ):
        response = h.connect(user_id=ADA, provider=provider, email=email)
        assert response.status_code == 200, response.text
        refresh_tokens |= {c["oauth_refresh_token"] for c in h.recall.calendars()}
    _, name = h.slash("status", user_id=ADA)
    _, name = h.slash("disconnect", user_id=ADA)
    assert "Disconnected" in only_reply(h, name)
    assert h.recall.calendars() == [] and h.connections() == []

    assert len(refresh_tokens) == 4
    # The "Google" stand-in runs on werkzeug threads in this process and logs the tokens it issues;
    # those records are its own. Everything else (the app, its libraries, on any thread) is checked.
    app_threads = {threading.get_ident(), h.run(_thread_ident)}
    ours = [r for r in caplog.records if r.thread in app_threads or not r.name.startswith(STAND_IN_LOGGERS)]
    assert {r.name.split(".")[0] for r in ours} >= {"slackbot", "recall", "slack_sdk", "httpx"}
    secrets: dict[str, str] = {
        "google client secret": h.settings.google_client_secret,
        "microsoft client secret": MICROSOFT_CLIENT_SECRET,
        "slack bot token": BOT_TOKEN,
        "webhook secret": WEBHOOK_SECRET,
        "signing secret": SIGNING_SECRET,
        "secret key": h.settings.secret_key,
        "recall api key": h.settings.recall_api_key,
        **{f"refresh token {i}": token for i, token in enumerate(sorted(refresh_tokens))},
    }
    leaked = {
        name: f"{record.name}: {record.getMessage()[:200]}"
        for record in ours
        for name, value in secrets.items()
        if value in record.getMessage() + repr(record.__dict__)
    }
    assert leaked == {}


async def _thread_ident() -> int:
    return threading.get_ident()


# ---- App Home ----------------------------------------------------------------------------------


def home_buttons(h: Harness, user_id: str) -> list[tuple[str, str, str]]:
    view = h.slack.home_view(user_id, TEAM_ID)
    assert view is not None and view["type"] == "home"
    return [
        (e["action_id"], e["text"]["text"], e.get("value", ""))
        for block in view["blocks"]
        for e in block.get("elements", [])
        if e.get("type") == "button"
    ]


def home_text(h: Harness, user_id: str) -> str:
    view = h.slack.home_view(user_id, TEAM_ID) or {}
    return str(view.get("blocks"))


def test_app_home_shows_status_and_connects_from_a_button(h: Harness) -> None:
    response = h.event(app_home_opened_event(team_id=TEAM_ID, user_id=ADA))
    assert response.status_code == 200
    assert len(h.slack.calls_to("views.publish")) == 1
    assert home_buttons(h, ADA) == [
        ("home_connect:google", "Connect Google Calendar", "google"),
        ("home_connect:microsoft", "Connect Microsoft Outlook", "microsoft"),
    ]
    assert h.dms(ADA) == []  # opening the Home sends no DM

    response = h.click_home(action_id="home_connect:google", value="google", user_id=ADA)
    assert response.status_code == 200
    [dm] = h.dms(ADA)
    assert list(link_buttons(dm)) == ["open_connect_link:google"]
    response = finish_with(h, h.latest_link(ADA, "google"), provider="google", email=ADA_WORK)
    assert_page(response, 200, "Google Calendar connected", outcome="success")

    h.event(app_home_opened_event(team_id=TEAM_ID, user_id=ADA))
    assert ("home_connect:google", "Reconnect Google Calendar", "google") in home_buttons(h, ADA)
    assert "Google Calendar* (ada@acme.test)" in home_text(h, ADA)
    assert "connecting" in home_text(h, ADA)

    # A tampered value DMs nothing; the messages tab is not the Home.
    dms = len(h.dms(ADA))
    assert h.click_home(action_id="home_connect:google", value="evil", user_id=ADA).status_code == 200
    assert h.event(app_home_opened_event(team_id=TEAM_ID, user_id=ADA, tab="messages")).status_code == 200
    assert len(h.dms(ADA)) == dms
    assert len(h.slack.calls_to("views.publish")) == 2


def test_disconnect_reports_partial_failure(h: Harness) -> None:
    h.microsoft.set_user(email="ada@outlook.test")
    assert h.connect(user_id=ADA, provider="google", email="ada@acme.test").status_code == 200
    assert h.connect(user_id=ADA, provider="microsoft", email="ada@outlook.test").status_code == 200
    outlook = next(c for c in h.recall.calendars() if c["platform"] == "microsoft_outlook")
    h.recall.fail_next("DELETE", f"/api/v2/calendars/{outlook['id']}/", 503, times=5)
    _, name = h.slash("disconnect", user_id=ADA)
    reply = " ".join(h.replies(name))
    assert "Disconnected" in reply and "ada@acme.test" in reply
    assert "still connected" in reply and "ada@outlook.test" in reply
    assert [c["id"] for c in h.recall.calendars()] == [outlook["id"]]
