"""Drives the real ASGI app (through Starlette's TestClient) against the twins with signed requests."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx
from starlette.testclient import TestClient

from recall.client import RecallClient
from slackbot.app import create_app
from slackbot.services.registry import Services, build_services
from slackbot.settings import Settings
from tests.conftest import BOT_TOKEN, TEAM_ID, TEAM_NAME
from tests.twins.fake_recall import FakeRecall, sign_webhook
from tests.twins.fake_slack import (
    FakeSlack,
    Message,
    block_actions_body,
    event_body,
    sign_slack_request,
    slash_command_body,
)
from tests.twins.oauth_providers import OAuth2MockServer, OidcProviderMock

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
WEBHOOK_SECRET = "whsec_dGVzdC13ZWJob29rLXNlY3JldC0xMjM0NTY3OA=="
PUBLIC_URL = "http://testserver"
MICROSOFT_CLIENT_ID = "ms-client-id"
MICROSOFT_CLIENT_SECRET = "ms-client-secret"
PROVIDER_WORD = {"google": "google", "microsoft": "outlook"}


class Harness:
    """One app instance wired to the twins; ``with Harness(...) as h:`` runs its lifespan."""

    def __init__(
        self,
        *,
        database_url: str,
        slack: FakeSlack,
        recall: FakeRecall,
        google: OidcProviderMock | None = None,
        microsoft: OAuth2MockServer | None = None,
        multi_workspace: bool = False,
        **overrides: Any,
    ) -> None:
        self.slack = slack
        self.recall = recall
        self.google = google
        self.microsoft = microsoft
        self._counter = itertools.count(1)
        settings: dict[str, Any] = {
            "database_url": database_url,
            "public_url": PUBLIC_URL,
            "secret_key": "test-secret-key-one",
            "slack_signing_secret": SIGNING_SECRET,
            "slack_api_url": slack.base_url,
            "recall_api_key": recall.api_key,
            "recall_api_url": recall.base_url,
            "recall_webhook_secret": WEBHOOK_SECRET,
            "bot_name": "Acme Notetaker",
            "run_jobs": False,
        }
        if multi_workspace:
            settings |= {"slack_client_id": slack.client_id, "slack_client_secret": slack.client_secret}
        else:
            slack.add_workspace(TEAM_ID, TEAM_NAME, bot_token=BOT_TOKEN)
            settings["slack_bot_token"] = BOT_TOKEN
        if google is not None:
            creds = google.register_client([f"{PUBLIC_URL}/calendar/oauth/google/callback"])
            settings |= {
                "google_client_id": creds.client_id,
                "google_client_secret": creds.client_secret,
                "google_oauth_metadata_url": google.metadata_url,
            }
        if microsoft is not None:
            settings |= {
                "microsoft_client_id": MICROSOFT_CLIENT_ID,
                "microsoft_client_secret": MICROSOFT_CLIENT_SECRET,
                "microsoft_oauth_metadata_url": microsoft.metadata_url,
            }
        settings |= overrides
        self.settings = Settings(_env_file=None, **settings)
        recall_client = RecallClient(
            api_key=recall.api_key, base_url=recall.base_url, backoff_base=0.001, backoff_cap=0.01
        )
        self.services: Services = build_services(self.settings, recall=recall_client)
        self.app = create_app(self.settings, services=self.services, run_jobs=False, process_before_response=True)
        self.client = TestClient(self.app, base_url=PUBLIC_URL)

    def __enter__(self) -> Harness:
        self.client.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.__exit__(*exc)

    # ---- running async code in the app's loop -------------------------------------------------

    def run(self, coro_fn: Any, *args: Any) -> Any:
        """Run ``await coro_fn(*args)`` on the app's event loop (where its services live)."""
        return self.client.portal.call(coro_fn, *args)

    def wait_idle(self, timeout: float = 20.0) -> None:
        """Until webhook processing and the syncs it asked for are done."""

        async def wait() -> None:
            async with asyncio.timeout(timeout):
                await self.services.processor.wait_idle()

        self.run(wait)

    # ---- Slack requests ------------------------------------------------------------------------

    def _post_slack(self, body: bytes, content_type: str, *, timestamp: int | None = None) -> httpx.Response:
        headers = sign_slack_request(SIGNING_SECRET, body, timestamp=timestamp) | {"Content-Type": content_type}
        return self.client.post("/slack/events", content=body, headers=headers)

    def slash(self, text: str, *, user_id: str, team_id: str = TEAM_ID) -> tuple[httpx.Response, str]:
        """Send `/recall <text>`; returns the response and the response_url name used."""
        name = f"cmd-{next(self._counter)}"
        body = slash_command_body(
            text=text, team_id=team_id, user_id=user_id, response_url=self.slack.response_url(name)
        )
        return self._post_slack(body, "application/x-www-form-urlencoded"), name

    def click(
        self,
        *,
        action_id: str,
        value: str,
        user_id: str,
        team_id: str = TEAM_ID,
        message: Message | None = None,
    ) -> tuple[httpx.Response, str]:
        name = f"click-{next(self._counter)}"
        body = block_actions_body(
            team_id=team_id,
            user_id=user_id,
            action_id=action_id,
            value=value,
            response_url=self.slack.response_url(name),
            message=message.to_slack() if message is not None else None,
            channel_id=None,
        )
        return self._post_slack(body, "application/x-www-form-urlencoded"), name

    def event(self, event: dict[str, Any], *, team_id: str = TEAM_ID) -> httpx.Response:
        return self._post_slack(event_body(team_id=team_id, event=event), "application/json")

    def replies(self, name: str) -> list[str]:
        """Texts the app sent to a response_url."""
        return [post.text or "" for post in self.slack.response_posts(name)]

    # ---- Recall webhooks -----------------------------------------------------------------------

    def webhook(self, payload: dict[str, Any], *, wait: bool = True, **sign: Any) -> httpx.Response:
        body, headers = sign_webhook(payload, secret=WEBHOOK_SECRET, **sign)
        response = self.client.post(
            "/recall/webhook", content=body, headers=headers | {"Content-Type": "application/json"}
        )
        if wait:
            self.wait_idle()
        return response

    def sync(self, calendar_id: str) -> httpx.Response:
        return self.webhook(self.recall.sync_events_payload(calendar_id))

    # ---- DMs -------------------------------------------------------------------------------------

    def dms(self, user_id: str, team_id: str = TEAM_ID) -> list[Message]:
        return self.slack.messages(self.slack.dm_channel(team_id, user_id))

    def latest_link(self, user_id: str, provider: str, team_id: str = TEAM_ID) -> str:
        """The newest connect link DMed to the member for ``provider``."""
        for message in reversed(self.dms(user_id, team_id)):
            for url in _button_urls(message.blocks or []):
                if f"/calendar/connect/{provider}?" in url:
                    return url
        raise AssertionError(f"no {provider} connect link in {user_id}'s DMs")

    # ---- connecting a calendar -----------------------------------------------------------------

    def open_link(self, url: str) -> httpx.Response:
        parts = urlsplit(url)
        return self.client.get(f"{parts.path}?{parts.query}", follow_redirects=False)

    def consent(self, provider: str, authorize_url: str, *, approve: bool = True, email: str) -> str:
        stand_in = self.google if provider == "google" else self.microsoft
        assert stand_in is not None, f"no {provider} stand-in in this harness"
        return asyncio.run(stand_in.authorize(authorize_url, approve=approve, email=email))

    def follow_callback(self, callback_url: str) -> httpx.Response:
        parts = urlsplit(callback_url)
        assert f"{parts.scheme}://{parts.netloc}" == PUBLIC_URL, callback_url
        return self.client.get(f"{parts.path}?{parts.query}", follow_redirects=False)

    def connect(
        self, *, user_id: str, provider: str, email: str, approve: bool = True, team_id: str = TEAM_ID
    ) -> httpx.Response:
        """`/recall connect <provider>` → DM link → consent at the stand-in → our callback."""
        response, _ = self.slash(f"connect {PROVIDER_WORD[provider]}", user_id=user_id, team_id=team_id)
        assert response.status_code == 200, response.text
        started = self.open_link(self.latest_link(user_id, provider, team_id))
        assert started.status_code == 302, started.text
        callback = self.consent(provider, started.headers["location"], approve=approve, email=email)
        return self.follow_callback(callback)


def _button_urls(blocks: list[dict[str, Any]]) -> Iterator[str]:
    for block in blocks:
        for element in block.get("elements", []) or []:
            if isinstance(element, dict) and element.get("url"):
                yield element["url"]


@contextmanager
def harness(**kwargs: Any) -> Iterator[Harness]:
    with Harness(**kwargs) as h:
        yield h
