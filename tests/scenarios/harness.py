"""Drives the real ASGI app (through Starlette's TestClient) against the twins with signed requests."""

from __future__ import annotations

import asyncio
import copy
import html
import itertools
import re
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import jsonschema
import uvicorn
from sqlalchemy import select, update
from sqlalchemy.sql import Executable
from starlette.testclient import TestClient

from recall.client import RecallClient
from slackbot.app import create_app
from slackbot.registry import Services, build_services
from slackbot.services.intake_lull import IntakeLull
from slackbot.settings import Settings
from storage.models import CalendarConnection, CalendarOAuthState, Member, utcnow
from tests.conftest import BOT_TOKEN, TEAM_ID, TEAM_NAME
from tests.twins.contracts import recall_webhook_schemas
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
LOOPBACK = frozenset({"127.0.0.1", "localhost"})

T = TypeVar("T")


class MovableClock:
    """The app's clock in tests: real time, moved forward (or set) instead of slept."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return utcnow() + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta

    def set(self, moment: datetime) -> None:
        self.offset = moment - utcnow()


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
        google_scope: str | Sequence[str] | None = None,
        lull: IntakeLull | None = None,
        **overrides: Any,
    ) -> None:
        """``google_scope``: what the Google client may be granted (default: everything we ask for);
        leaving out the calendar scope plays a member who left the calendar box unticked."""
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
            # Pacing under Slack's limits has its own tests; most scenarios make a burst of calls a real
            # workspace would spread out, and should not wait for it.
            "slack_pacing": False,
        }
        if multi_workspace:
            settings |= {"slack_client_id": slack.client_id, "slack_client_secret": slack.client_secret}
        else:
            slack.add_workspace(TEAM_ID, TEAM_NAME, bot_token=BOT_TOKEN)
            settings["slack_bot_token"] = BOT_TOKEN
        if google is not None:
            creds = google.register_client(
                [f"{PUBLIC_URL}/calendar/oauth/google/callback"],
                **({} if google_scope is None else {"scope": google_scope}),
            )
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
            api_key=recall.api_key, base_url=recall.base_url, backoff_base=0.001, backoff_cap=0.01, max_retry_after=5
        )
        self.clock = MovableClock()
        self.services: Services = build_services(self.settings, recall=recall_client, lull=lull, clock=self.clock)
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

    def post_slack(
        self, body: bytes, content_type: str, *, timestamp: int | None = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        """POST a body to /slack/events, signed (at ``timestamp``) unless ``headers`` are given instead."""
        if headers is None:
            return self._post_slack(body, content_type, timestamp=timestamp)
        return self.client.post("/slack/events", content=body, headers=headers | {"Content-Type": content_type})

    def slash_body(self, text: str, *, user_id: str, team_id: str = TEAM_ID) -> tuple[bytes, str]:
        """An unsent `/recall <text>` body and the name of its response_url."""
        name = f"cmd-{next(self._counter)}"
        body = slash_command_body(
            text=text, team_id=team_id, user_id=user_id, response_url=self.slack.response_url(name)
        )
        return body, name

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

    def click_home(
        self, *, action_id: str, value: str, user_id: str, team_id: str = TEAM_ID, action: dict[str, Any] | None = None
    ) -> httpx.Response:
        """A click on a button in the App Home (Slack sends the view, and no response_url); ``action`` for other
        elements (`select_action`, `checkboxes_action`)."""
        published = self.slack.home_view(user_id, team_id) or {"type": "home", "blocks": []}
        view = {"id": "V0HOME00001", "team_id": team_id, **published}
        body = block_actions_body(
            team_id=team_id, user_id=user_id, action_id=action_id, value=value, view=view, action=action
        )
        return self._post_slack(body, "application/x-www-form-urlencoded")

    def event(self, event: dict[str, Any], *, team_id: str = TEAM_ID) -> httpx.Response:
        return self._post_slack(event_body(team_id=team_id, event=event), "application/json")

    def replies(self, name: str) -> list[str]:
        """Texts the app sent to a response_url."""
        return [post.text or "" for post in self.slack.response_posts(name)]

    # ---- Recall webhooks -----------------------------------------------------------------------

    def webhook(
        self, payload: dict[str, Any], *, wait: bool = True, validate: bool = True, **sign: Any
    ) -> httpx.Response:
        """Sign (svix) and POST a webhook; payloads are first checked against Recall's webhook catalogue."""
        if validate:
            validate_webhook_payload(payload)
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

    def callback_for(
        self, *, user_id: str, provider: str, email: str, approve: bool = True, team_id: str = TEAM_ID
    ) -> str:
        """`/recall connect <provider>` → DM link → consent; returns the provider's redirect to our callback
        (not yet followed), with this client holding the browser cookie."""
        response, _ = self.slash(f"connect {PROVIDER_WORD[provider]}", user_id=user_id, team_id=team_id)
        assert response.status_code == 200, response.text
        started = self.open_link(self.latest_link(user_id, provider, team_id))
        assert started.status_code == 302, started.text
        return self.consent(provider, started.headers["location"], approve=approve, email=email)

    # ---- database ------------------------------------------------------------------------------

    def rows(self, model: type[T], *where: Any) -> list[T]:
        """Rows of an ORM model (detached; read freely), optionally filtered."""

        async def fetch() -> list[T]:
            async with self.services.db.transaction() as session:
                return list(await session.scalars(select(model).where(*where)))

        return self.run(fetch)

    def table_rows(self, table: Any) -> list[dict[str, Any]]:
        """Rows of a Core table (Slack's installation tables) as dicts."""

        async def fetch() -> list[dict[str, Any]]:
            async with self.services.db.transaction() as session:
                return [dict(row._mapping) for row in await session.execute(select(table))]

        return self.run(fetch)

    def execute(self, statement: Executable) -> None:
        async def run() -> None:
            async with self.services.db.transaction() as session:
                await session.execute(statement)

        self.run(run)

    def connections(self, user_id: str | None = None, team_id: str = TEAM_ID) -> list[CalendarConnection]:
        where = [Member.team_id == team_id] + ([Member.slack_user_id == user_id] if user_id else [])
        ids = {m.id for m in self.rows(Member, *where)}
        return [c for c in self.rows(CalendarConnection) if c.member_id in ids]

    def expire_links(self, *, ago: timedelta = timedelta(minutes=1)) -> None:
        """Move every connect link / OAuth state's expiry into the past."""
        self.execute(update(CalendarOAuthState).values(expires_at=utcnow() - ago))

    # ---- multi-workspace install ---------------------------------------------------------------

    def install(self, *, team_id: str, team_name: str, user_id: str, deny: bool = False) -> httpx.Response:
        """`GET /slack/install` → FakeSlack's consent screen → our `/slack/oauth_redirect` (with the state cookie)."""
        page = self.client.get("/slack/install", follow_redirects=False)
        assert page.status_code == 200, page.text
        cookie = install_state_cookie(page)
        self.slack.set_installer(team_id=team_id, team_name=team_name, user_id=user_id, deny=deny)
        redirect = slack_consent(install_link(page.text))
        return self.follow_callback_with_cookie(redirect, cookie)

    def follow_callback_with_cookie(self, callback_url: str, cookie: str | None) -> httpx.Response:
        parts = urlsplit(callback_url)
        assert f"{parts.scheme}://{parts.netloc}" == PUBLIC_URL, callback_url
        headers = {"Cookie": cookie} if cookie else {}
        return self.client.get(f"{parts.path}?{parts.query}", headers=headers, follow_redirects=False)


def install_state_cookie(page: httpx.Response) -> str:
    """The `Cookie` header a browser sends back to /slack/oauth_redirect. Bolt marks the cookie `Secure`, so
    over the tests' plain-http base URL httpx's jar would (rightly) hold it back; a browser on HTTPS sends it."""
    value = page.cookies.get("slack-app-oauth-state")
    assert value, page.headers
    return f"slack-app-oauth-state={value}"


def install_link(page: str) -> str:
    """The "Add to Slack" link on Bolt's install page."""
    match = re.search(r'href="([^"]*oauth/v2/authorize[^"]*)"', page)
    assert match, page
    return html.unescape(match.group(1))


def slack_consent(authorize_url: str) -> str:
    """Play the browser at Slack's authorize screen (the twin, loopback only); returns the redirect."""
    assert urlsplit(authorize_url).hostname in LOOPBACK, f"refusing to browse to {authorize_url!r}"
    response = httpx.get(authorize_url, follow_redirects=False, timeout=10, trust_env=False)
    assert response.status_code == 302, response.text
    return response.headers["location"]


def catalogue_payload(event: str, **data: Any) -> dict[str, Any]:
    """A payload built from webhooks.json's own example for ``event``, with ``data`` fields replaced."""
    example = copy.deepcopy(recall_webhook_schemas()[event].examples[0])
    example["data"].update(data)
    validate_webhook_payload(example)
    return example


def validate_webhook_payload(payload: dict[str, Any]) -> None:
    entry = recall_webhook_schemas().get(payload.get("event", ""))
    if entry is not None and entry.schema is not None:
        jsonschema.Draft7Validator(entry.schema).validate(payload)


@contextmanager
def shared_ssl_context() -> Iterator[None]:
    """Let httpx clients with default TLS settings share one SSLContext while inside.

    httpx builds a fresh context for every client, re-reading the CA bundle (~35 ms of CPU), and the
    app and the stand-ins make several clients per connect. Nothing here speaks TLS (every twin is
    plain http on 127.0.0.1), so sharing changes no behaviour; it only keeps the suite fast.
    """
    from httpx._transports import default as transport

    original = transport.create_ssl_context
    shared: dict[bool, Any] = {}

    def create_ssl_context(verify: Any = True, cert: Any = None, trust_env: bool = True) -> Any:
        if verify is not True or cert is not None:
            return original(verify=verify, cert=cert, trust_env=trust_env)
        if trust_env not in shared:
            shared[trust_env] = original(verify=True, cert=None, trust_env=trust_env)
        return shared[trust_env]

    transport.create_ssl_context = create_ssl_context
    try:
        yield
    finally:
        transport.create_ssl_context = original


def _button_urls(blocks: list[dict[str, Any]]) -> Iterator[str]:
    for block in blocks:
        for element in block.get("elements", []) or []:
            if isinstance(element, dict) and element.get("url"):
                yield element["url"]


@contextmanager
def harness(**kwargs: Any) -> Iterator[Harness]:
    with Harness(**kwargs) as h:
        yield h


# ---- a real server, for the browser ------------------------------------------------------------


def bound_socket() -> socket.socket:
    """A listening-ready socket on 127.0.0.1 with a free port (handed to uvicorn, so no port race)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def live_settings(
    *,
    sock: socket.socket,
    database_url: str,
    slack: FakeSlack,
    recall: FakeRecall,
    google: OidcProviderMock,
    secret_key: str,
) -> Settings:
    """Settings for a real server on ``sock`` against the twins (one workspace, Google through the stand-in)."""
    public_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    client = google.register_client([f"{public_url}/calendar/oauth/google/callback"])
    slack.add_workspace(TEAM_ID, TEAM_NAME, bot_token=BOT_TOKEN)
    return Settings(
        _env_file=None,
        database_url=database_url,
        public_url=public_url,
        secret_key=secret_key,
        slack_signing_secret=SIGNING_SECRET,
        slack_bot_token=BOT_TOKEN,
        slack_api_url=slack.base_url,
        recall_api_key=recall.api_key,
        recall_api_url=recall.base_url,
        recall_webhook_secret=WEBHOOK_SECRET,
        google_client_id=client.client_id,
        google_client_secret=client.client_secret,
        google_oauth_metadata_url=google.metadata_url,
        run_jobs=False,
    )


class LiveServer:
    """``create_app(settings)`` served by uvicorn on a thread; ``with LiveServer(settings, sock):``."""

    def __init__(self, settings: Settings, sock: socket.socket, *, start_timeout: float = 15.0) -> None:
        self.settings = settings
        self.sock = sock
        self.start_timeout = start_timeout
        self.app = create_app(settings, run_jobs=False)
        self.services: Services = self.app.state.services
        self.server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=sock.getsockname()[1], log_level="warning")
        )
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, name="live-server", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def __enter__(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + self.start_timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self._stop()
                raise RuntimeError(f"the live server did not start within {self.start_timeout} s")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()

    def _stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self._thread.join(timeout)
        self.sock.close()
        if self._thread.is_alive():
            raise RuntimeError(f"the live server did not stop within {timeout} s")
