"""`recall-slackbot doctor`: the real configuration against the real services, one line per check with what to fix.

Every check is bounded (a service that does not answer fails within seconds) and reads only: it never writes to
Slack, Recall or the database. No secret is ever printed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

import httpx

from slackbot.calendar_oauth.providers import configured_providers
from slackbot.manifest import declared_bot_scopes
from slackbot.settings import Settings
from storage.db import create_engine
from storage.health import DatabaseHealth
from storage.health import check as database_health

TIMEOUT = 10.0


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str


MARKS = {Status.OK: "ok  ", Status.WARN: "warn", Status.FAIL: "FAIL"}


def render(checks: list[Check]) -> str:
    return "\n".join(f"[{MARKS[c.status]}] {c.name}: {c.detail}" for c in checks)


def passed(checks: list[Check]) -> bool:
    return all(c.status is not Status.FAIL for c in checks)


async def diagnose(settings: Settings, *, http: httpx.AsyncClient | None = None) -> list[Check]:
    owns = http is None
    http = http or httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False)
    try:
        checks = _configuration(settings)
        steps: list[Callable[[], Awaitable[list[Check]]]] = [
            lambda: _slack(settings, http),
            lambda: _recall(settings, http),
            lambda: _providers(settings, http),
            lambda: _database(settings),
            lambda: _public_url(settings, http),
        ]
        for step in steps:
            checks += await step()
        return checks
    finally:
        if owns:
            await http.aclose()


def _configuration(settings: Settings) -> list[Check]:
    missing = settings.missing()
    findings = settings.findings()
    checks = [Check("configuration", Status.FAIL, f"{name} is not set") for name in missing]
    checks += [Check("configuration", Status.FAIL, line) for line in findings.errors]
    checks += [Check("configuration", Status.WARN, line) for line in findings.warnings]
    if not checks:
        checks.append(Check("configuration", Status.OK, "every required variable is set and well formed"))
    return checks


async def _slack(settings: Settings, http: httpx.AsyncClient) -> list[Check]:
    if settings.multi_workspace:
        return [
            Check(
                "slack",
                Status.OK,
                "install flow: client id and secret set; each workspace's token is checked when it installs "
                f"({settings.public_base_url}/slack/install)",
            )
        ]
    if not settings.slack_bot_token:
        return [Check("slack", Status.FAIL, "no SLACK_BOT_TOKEN (or SLACK_CLIENT_ID + SLACK_CLIENT_SECRET)")]
    try:
        response = await http.post(
            settings.slack_api_url.rstrip("/") + "/auth.test",
            headers={"Authorization": f"Bearer {settings.slack_bot_token}"},
        )
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        return [
            Check("slack", Status.FAIL, f"{settings.slack_api_url} did not answer auth.test ({type(exc).__name__})")
        ]
    if not body.get("ok"):
        return [
            Check(
                "slack",
                Status.FAIL,
                f"auth.test refused the token ({body.get('error')}); copy the Bot User OAuth Token again",
            )
        ]
    checks = [Check("slack", Status.OK, f"the token works for workspace {body.get('team')} ({body.get('team_id')})")]
    granted = {s.strip() for s in response.headers.get("x-oauth-scopes", "").split(",") if s.strip()}
    wanted = set(declared_bot_scopes())
    missing = sorted(wanted - granted)
    if not granted:
        checks.append(Check("slack scopes", Status.WARN, "Slack did not say which scopes the token has"))
    elif missing:
        checks.append(
            Check(
                "slack scopes",
                Status.FAIL,
                f"the token lacks {', '.join(missing)}: update the app from `recall-slackbot manifest`, reinstall it",
            )
        )
    else:
        checks.append(Check("slack scopes", Status.OK, "every scope the manifest asks for is granted"))
    return checks


async def _recall(settings: Settings, http: httpx.AsyncClient) -> list[Check]:
    if not settings.recall_api_key:
        return [Check("recall", Status.FAIL, "no RECALL_API_KEY")]
    base = settings.recall_base_url
    try:
        response = await http.get(
            f"{base}/api/v2/calendars/", headers={"Authorization": f"Token {settings.recall_api_key}"}
        )
    except httpx.HTTPError as exc:
        return [Check("recall", Status.FAIL, f"{base} did not answer ({type(exc).__name__})")]
    if response.status_code == 200:
        return [Check("recall", Status.OK, f"the API key works at {base}")]
    if response.status_code in (401, 403):
        return [
            Check(
                "recall",
                Status.FAIL,
                f"{base} refused the API key ({response.status_code}): check RECALL_API_KEY and that RECALL_REGION "
                "is the region the key was made in",
            )
        ]
    return [Check("recall", Status.FAIL, f"{base} answered {response.status_code}")]


async def _providers(settings: Settings, http: httpx.AsyncClient) -> list[Check]:
    providers = configured_providers(settings)
    if not providers:
        return [Check("calendar providers", Status.FAIL, "none configured: set GOOGLE_* and/or MICROSOFT_* ids")]
    checks = []
    for name, credentials in providers.items():
        redirect = f"{settings.public_base_url}/calendar/oauth/{name}/callback"
        try:
            response = await http.get(credentials.metadata_url)
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            checks.append(Check(name, Status.FAIL, f"its discovery document did not load ({type(exc).__name__})"))
            continue
        if not isinstance(document, dict) or not all(
            isinstance(document.get(key), str) for key in ("authorization_endpoint", "token_endpoint")
        ):
            checks.append(Check(name, Status.FAIL, "its discovery document names no authorization or token endpoint"))
            continue
        checks.append(Check(name, Status.OK, f"discovery document loads; the redirect URI to register is {redirect}"))
    return checks


async def _database(settings: Settings) -> list[Check]:
    try:
        engine = create_engine(settings.database_url)
    except Exception as exc:  # a URL the start-up checks already named
        return [Check("database", Status.FAIL, f"cannot open it ({type(exc).__name__})")]
    try:
        state = await database_health(engine, within=TIMEOUT)
    finally:
        await engine.dispose()
    words = {
        DatabaseHealth.OK: (Status.OK, "reachable, writable, at the latest migration"),
        DatabaseHealth.SCHEMA_BEHIND: (Status.FAIL, "behind the code: run `recall-slackbot migrate`"),
        DatabaseHealth.UNREACHABLE: (Status.FAIL, "not reachable: check DATABASE_URL and that the server is up"),
        DatabaseHealth.READ_ONLY: (Status.FAIL, "read-only or locked: check the disk and other processes"),
    }
    status, detail = words[state]
    return [Check("database", status, detail)]


async def _public_url(settings: Settings, http: httpx.AsyncClient) -> list[Check]:
    url = f"{settings.public_base_url}/healthz"
    try:
        response = await asyncio.wait_for(http.get(url), timeout=TIMEOUT)
    except (httpx.HTTPError, TimeoutError) as exc:
        return [
            Check(
                "public url",
                Status.FAIL,
                f"{url} is not reachable from this machine ({type(exc).__name__}): is `serve` running behind it?",
            )
        ]
    if response.status_code != 200:
        return [Check("public url", Status.FAIL, f"{url} answered {response.status_code}")]
    return [Check("public url", Status.OK, f"{url} answers ok")]
