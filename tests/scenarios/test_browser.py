"""A real browser through the connect flow: headless Chromium follows the DM link to oidc-provider-mock's
consent form and back to our page, once approving and once denying.

The app runs for real (uvicorn on 127.0.0.1, SQLite file) against the twins; only loopback is reachable
from the browser. Chromium is Debian's (`/usr/bin/chromium`), driven by PyPI `playwright`; no browser
download ever happens. Without Chromium this skips on a laptop and fails in CI.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import TEAM_ID
from tests.scenarios.chromium import CHROMIUM, CHROMIUM_ARGS, only_loopback, require_browser
from tests.scenarios.harness import SIGNING_SECRET, LiveServer
from tests.twins.fake_recall import FakeRecall
from tests.twins.fake_slack import FakeSlack, Message, sign_slack_request, slash_command_body
from tests.twins.oauth_providers import OidcProviderMock

pytestmark = pytest.mark.browser

ADA = "U0ADA00001"
ADA_EMAIL = "ada@acme.test"
ADA_SUB = "ada.lovelace@acme.test"  # an email-like `sub`, typed into the consent form
WAIT = 15.0


@pytest.fixture
def live(live: LiveServer, fake_slack: FakeSlack) -> LiveServer:
    fake_slack.add_user(TEAM_ID, ADA, name="ada")
    return live


def wait_for(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def dms(fake_slack: FakeSlack) -> list[Message]:
    return fake_slack.messages(fake_slack.dm_channel(TEAM_ID, ADA))


def request_link(live: LiveServer, fake_slack: FakeSlack) -> str:
    """`/recall connect google` to the running app (signed, as Slack sends it); the link it DMs."""
    seen = len(dms(fake_slack))
    body = slash_command_body(
        text="connect google", team_id=TEAM_ID, user_id=ADA, response_url=fake_slack.response_url("browser")
    )
    headers = sign_slack_request(SIGNING_SECRET, body) | {"Content-Type": "application/x-www-form-urlencoded"}
    response = httpx.post(f"{live.url}/slack/events", content=body, headers=headers, timeout=10, trust_env=False)
    assert response.status_code == 200, response.text
    assert "sent you a DM" in response.text
    message = wait_for(lambda: dms(fake_slack)[seen:], "the DM with the connect link")[0]
    [url] = [e["url"] for b in message.blocks or [] for e in b.get("elements", []) if e.get("url")]
    assert url.startswith(f"{live.url}/calendar/connect/google?state="), url
    return url


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_browser_follows_the_dm_link_through_consent_to_our_pages(
    live: LiveServer, fake_slack: FakeSlack, fake_recall: FakeRecall, oidc_provider: OidcProviderMock
) -> None:
    require_browser()
    from playwright.sync_api import sync_playwright

    oidc_provider.set_user(ADA_SUB, {"email": ADA_EMAIL, "email_verified": True})
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context()
            context.set_default_timeout(WAIT * 1000)
            context.route("**/*", only_loopback)  # blocks cdn.jsdelivr.net among the rest
            page = context.new_page()

            # Approve.
            page.goto(request_link(live, fake_slack))
            assert urlsplit(page.url).port == oidc_provider.port  # the provider's consent form
            page.fill("input[name=sub]", ADA_SUB)
            page.click('button:text-is("Authorize")')
            page.wait_for_selector("main[data-outcome=success]")
            assert page.url.startswith(f"{live.url}/calendar/oauth/google/callback?")
            assert page.inner_text("h1") == "Google Calendar connected"
            assert ADA_EMAIL in page.inner_text("main")
            [calendar] = fake_recall.calendars()
            assert calendar["oauth_email"] == ADA_EMAIL and calendar["platform"] == "google_calendar"
            assert "Google Calendar is connected for ada@acme.test" in dms(fake_slack)[-1].text

            # Deny.
            page.goto(request_link(live, fake_slack))
            page.click('button:text-is("Deny")')
            page.wait_for_selector("main[data-outcome=failure]")
            assert page.inner_text("h1") == "You didn't allow access"
            assert "Nothing was connected" in page.inner_text("main")
            assert [c["id"] for c in fake_recall.calendars()] == [calendar["id"]]
            wait_for(lambda: "You didn't allow access" in dms(fake_slack)[-1].text, "the failure DM")
        finally:
            browser.close()
