"""Async client for Recall.ai's Calendar V2 API (https://docs.recall.ai/reference/calendar-v2) and the few
Bot API calls the app makes (https://docs.recall.ai/reference/bot).

One method per endpoint we use, keyword-only arguments, typed results; ``_request`` owns the
headers, retries and error mapping. Logs carry ids (method, path, status, attempt), never bodies:
Recall echoes the OAuth client secret and refresh token in calendar responses, and bot responses carry pre-signed
media URLs.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import logging
import random
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from pydantic import ValidationError

from recall.errors import (
    RecallAPIError,
    RecallResponseError,
    RecallUnavailable,
    api_error_from_response,
)
from recall.models import Bot, Calendar, CalendarEvent, format_timestamp
from recall.pacing import Pacer

logger = logging.getLogger(__name__)

CALENDARS_PATH = "/api/v2/calendars/"
CALENDAR_EVENTS_PATH = "/api/v2/calendar-events/"
BOTS_PATH = "/api/v1/bot/"

# https://docs.recall.ai/reference/errors: 409 back off, 429 honour Retry-After,
# 502/503/504 dropped under load, 507 ad-hoc bot pool empty.
RETRYABLE_STATUSES = frozenset({409, 429, 502, 503, 504, 507})
# Longest Retry-After we will sleep for (by default); a longer hint is raised to the caller instead.
MAX_RETRY_AFTER = 300.0
USER_AGENT = "recall-slackbot/0.1 (+httpx)"

Sleep = Callable[[float], Awaitable[Any]]
Query = Mapping[str, str | None]
_M = TypeVar("_M", Bot, Calendar, CalendarEvent)


class RecallClient:
    """Recall Calendar V2 client; use as ``async with RecallClient(...) as recall:``."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        http: httpx.AsyncClient | None = None,
        max_attempts: int = 5,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        sleep: Sleep = asyncio.sleep,
        timeout: float = 30.0,
        jitter: Callable[[float], float] | None = None,
        list_calls_per_minute: int = 50,
        max_retry_after: float = MAX_RETRY_AFTER,
    ) -> None:
        """``max_retry_after``: the longest Retry-After slept inside a call; a caller holding something (a meeting's
        lock) passes a short one and gets ``RecallRateLimited`` with Recall's hint instead, to try again later."""
        if not api_key:
            raise ValueError("api_key is required")
        if max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        base = httpx.URL(base_url.rstrip("/") + "/")
        if base.scheme not in ("http", "https") or not base.host:
            raise ValueError("base_url must be an absolute http(s) URL, e.g. https://us-east-1.recall.ai")
        self._api_key = api_key
        self._base = base
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=10.0), verify=_ssl_context())
        self._max_attempts = max_attempts
        self._max_retry_after = max_retry_after
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._sleep = sleep
        # Recall allows 60 list calls a minute per endpoint for the whole workspace; stay under it.
        self._list_pacers: dict[str, Pacer] = {}
        self._list_calls_per_minute = list_calls_per_minute
        # jitter(upper) -> a random float in [0, upper]; injectable for deterministic tests.
        self._jitter = jitter or (lambda upper: random.uniform(0.0, upper))  # noqa: S311 - not crypto

    def __repr__(self) -> str:
        return f"RecallClient(base_url={str(self._base)!r})"

    async def __aenter__(self) -> RecallClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_http:
            await self._http.aclose()

    # ---- calendars -------------------------------------------------------------------------

    async def create_calendar(
        self,
        *,
        platform: str,
        oauth_client_id: str,
        oauth_client_secret: str,
        oauth_refresh_token: str,
        oauth_email: str | None = None,
    ) -> Calendar:
        """``POST /api/v2/calendars/``; a new calendar usually starts ``connecting``."""
        body: dict[str, Any] = {
            "platform": platform,
            "oauth_client_id": oauth_client_id,
            "oauth_client_secret": oauth_client_secret,
            "oauth_refresh_token": oauth_refresh_token,
        }
        if oauth_email is not None:
            body["oauth_email"] = oauth_email
        # Not idempotent: a timeout after sending could mean the calendar exists already.
        response = await self._request("POST", CALENDARS_PATH, json=body, idempotent=False)
        return _model(Calendar, _json_object(response))

    async def retrieve_calendar(self, calendar_id: str) -> Calendar:
        """``GET /api/v2/calendars/{id}/``."""
        response = await self._request("GET", _calendar_path(calendar_id))
        return _model(Calendar, _json_object(response))

    async def update_calendar(
        self,
        calendar_id: str,
        *,
        oauth_refresh_token: str | None = None,
        oauth_client_id: str | None = None,
        oauth_client_secret: str | None = None,
        oauth_email: str | None = None,
    ) -> Calendar:
        """``PATCH /api/v2/calendars/{id}/`` with only the given fields (reconnect keeps the id)."""
        fields = {
            "oauth_refresh_token": oauth_refresh_token,
            "oauth_client_id": oauth_client_id,
            "oauth_client_secret": oauth_client_secret,
            "oauth_email": oauth_email,
        }
        body = {key: value for key, value in fields.items() if value is not None}
        response = await self._request("PATCH", _calendar_path(calendar_id), json=body)
        return _model(Calendar, _json_object(response))

    async def delete_calendar(self, calendar_id: str) -> None:
        """``DELETE /api/v2/calendars/{id}/``; a 404 means it is already gone and returns normally."""
        try:
            await self._request("DELETE", _calendar_path(calendar_id), expected=frozenset({404}))
        except RecallAPIError as exc:
            if exc.status != 404:
                raise
            logger.info("recall.calendar.already_deleted calendar_id=%s", calendar_id)

    # ---- calendar events -------------------------------------------------------------------

    async def iter_calendar_event_pages(
        self,
        *,
        calendar_id: str | None = None,
        updated_at__gte: datetime | None = None,
        start_time__gte: datetime | None = None,
        start_time__lte: datetime | None = None,
        is_deleted: bool | None = None,
    ) -> AsyncIterator[list[CalendarEvent]]:
        """``GET /api/v2/calendar-events/`` one page (<= 100 events) at a time, to the last page."""
        query = {
            "calendar_id": calendar_id,
            "updated_at__gte": _query_time(updated_at__gte),
            "start_time__gte": _query_time(start_time__gte),
            "start_time__lte": _query_time(start_time__lte),
            "is_deleted": None if is_deleted is None else ("true" if is_deleted else "false"),
        }
        async for page in self._pages(CALENDAR_EVENTS_PATH, query):
            yield _valid_items(CalendarEvent, page)

    async def schedule_bot(
        self, event_id: str, *, deduplication_key: str, bot_config: Mapping[str, Any]
    ) -> CalendarEvent:
        """``POST /api/v2/calendar-events/{id}/bot/``; send the complete bot_config every time."""
        body = {"deduplication_key": deduplication_key, "bot_config": dict(bot_config)}
        response = await self._request("POST", _event_path(event_id) + "bot/", json=body)
        return _model(CalendarEvent, _json_object(response))

    async def unschedule_bot(self, event_id: str) -> CalendarEvent:
        """``DELETE /api/v2/calendar-events/{id}/bot/``; idempotent, the bot stays if shared."""
        response = await self._request("DELETE", _event_path(event_id) + "bot/")
        return _model(CalendarEvent, _json_object(response))

    # ---- bots ----------------------------------------------------------------------------------

    async def retrieve_bot(self, bot_id: str) -> Bot:
        """``GET /api/v1/bot/{id}/``: metadata, status history and recordings with fresh download URLs."""
        response = await self._request("GET", _bot_path(bot_id))
        return _model(Bot, _json_object(response))

    async def leave_call(self, bot_id: str) -> None:
        """``POST /api/v1/bot/{id}/leave_call/``: remove a bot that has been dispatched (DELETE answers 405 then).

        A finished bot answers 400 ``cannot_command_completed_bot``, a not yet started one
        ``cannot_command_unstarted_bot`` (``RecallBadRequest.code``); the caller decides what those mean.
        """
        # Not idempotent: after a timeout mid-request the bot may have left, and a resend hits the 400 above.
        await self._request("POST", _bot_path(bot_id) + "leave_call/", idempotent=False)

    # ---- plumbing --------------------------------------------------------------------------

    async def _pages(self, path: str, query: Query) -> AsyncIterator[list[dict[str, Any]]]:
        url: httpx.URL | None = self._url(path, query)
        page_number = 0
        pacer = self._list_pacers.setdefault(path, Pacer(self._list_calls_per_minute, sleep=self._sleep))
        while url is not None:
            page_number += 1
            await pacer.wait_turn()
            response = await self._request("GET", url)
            data = _json_object(response)
            results = data.get("results")
            if not isinstance(results, list) or not all(isinstance(item, dict) for item in results):
                raise RecallResponseError(f"GET {url.path}: page {page_number} has no results list")
            yield results
            next_url = data.get("next")
            if next_url is None or next_url == "":
                url = None
            elif isinstance(next_url, str):
                followed = self._trusted_next(next_url)
                if followed == url:
                    raise RecallResponseError(f"GET {url.path}: 'next' points at the same page")
                url = followed
            else:
                raise RecallResponseError(f"GET {url.path}: 'next' is not a string")

    def _trusted_next(self, next_url: str) -> httpx.URL:
        """Follow ``next`` only to the configured scheme + host + port."""
        try:
            url = httpx.URL(next_url)
        except httpx.InvalidURL:
            raise RecallResponseError("pagination 'next' is not a valid URL") from None
        if not url.is_absolute_url:
            url = self._base.join(next_url)
        # Recall's own demo notes 'next' can come back as http:// behind its proxy; upgrading to
        # the configured https on the same host and default port is safe, a downgrade never is.
        if url.scheme == "http" and self._base.scheme == "https" and url.host == self._base.host and url.port is None:
            url = url.copy_with(scheme="https")
        if _origin(url) != _origin(self._base):
            logger.error("recall.pagination.foreign_next host=%s expected_host=%s", url.host, self._base.host)
            raise RecallResponseError(
                f"refusing pagination 'next' URL on {url.scheme}://{url.host}:{_port(url)}; "
                f"expected {_origin_text(self._base)}"
            )
        return url

    def _url(self, path: str, query: Query | None = None) -> httpx.URL:
        url = self._base.join(path.lstrip("/"))
        if query:
            params = {key: value for key, value in query.items() if value is not None}
            if params:
                url = url.copy_merge_params(params)
        return url

    async def _request(
        self,
        method: str,
        path_or_url: str | httpx.URL,
        *,
        json: Mapping[str, Any] | None = None,
        idempotent: bool = True,
        expected: frozenset[int] = frozenset(),
    ) -> httpx.Response:
        """Send one API call with auth headers, retries with backoff, and typed error mapping."""
        url = path_or_url if isinstance(path_or_url, httpx.URL) else self._url(path_or_url)
        path = url.path
        headers = {
            "Authorization": f"Token {self._api_key}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()
            try:
                # GET/DELETE carry no body at all: Recall's WAF answers 403 to a GET with a body.
                response = await self._http.request(method, url, headers=headers, json=json)
            except httpx.TransportError as exc:
                retryable = idempotent or isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
                if retryable and attempt < self._max_attempts:
                    delay = self._backoff(attempt)
                    logger.warning(
                        "recall.http.retry method=%s path=%s error=%s attempt=%d delay=%.2f",
                        method,
                        path,
                        type(exc).__name__,
                        attempt,
                        delay,
                        extra=_log_extra(method, path, None, attempt),
                    )
                    await self._sleep(delay)
                    continue
                logger.error(
                    "recall.http.failed method=%s path=%s error=%s attempt=%d",
                    method,
                    path,
                    type(exc).__name__,
                    attempt,
                    extra=_log_extra(method, path, None, attempt),
                )
                raise RecallUnavailable(
                    status=None,
                    message=f"network error: {type(exc).__name__}",
                    method=method,
                    path=path,
                ) from None

            status = response.status_code
            elapsed_ms = int((time.monotonic() - started) * 1000)
            logger.debug(
                "recall.http method=%s path=%s status=%d attempt=%d elapsed_ms=%d",
                method,
                path,
                status,
                attempt,
                elapsed_ms,
                extra=_log_extra(method, path, status, attempt),
            )
            if 200 <= status < 300:
                return response

            retry_after = _retry_after(response.headers.get("Retry-After"))
            if (
                status in RETRYABLE_STATUSES
                and attempt < self._max_attempts
                and (retry_after is None or retry_after <= self._max_retry_after)
            ):
                delay = self._backoff(attempt, retry_after=retry_after)
                logger.warning(
                    "recall.http.retry method=%s path=%s status=%d attempt=%d delay=%.2f",
                    method,
                    path,
                    status,
                    attempt,
                    delay,
                    extra=_log_extra(method, path, status, attempt),
                )
                await self._sleep(delay)
                continue

            error = api_error_from_response(
                status=status,
                body=response.content,
                content_type=response.headers.get("Content-Type"),
                method=method,
                path=path,
                retry_after=retry_after,
            )
            log = logger.info if status in expected else logger.warning if status < 500 else logger.error
            log(
                "recall.http.error method=%s path=%s status=%d code=%s attempt=%d",
                method,
                path,
                status,
                error.code,
                attempt,
                extra=_log_extra(method, path, status, attempt),
            )
            raise error

    def _backoff(self, attempt: int, *, retry_after: float | None = None) -> float:
        """Retry-After plus a little jitter, else exponential backoff with equal jitter."""
        if retry_after is not None:
            return retry_after + self._jitter(min(self._backoff_base, 1.0))
        ceiling = min(self._backoff_cap, self._backoff_base * (2 ** (attempt - 1)))
        return ceiling / 2 + self._jitter(ceiling / 2)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """httpx's default verifying context, built once: loading the CA bundle costs ~40 ms."""
    return httpx.create_ssl_context()


def _calendar_path(calendar_id: str) -> str:
    return f"{CALENDARS_PATH}{_segment(calendar_id)}/"


def _event_path(event_id: str) -> str:
    return f"{CALENDAR_EVENTS_PATH}{_segment(event_id)}/"


def _bot_path(bot_id: str) -> str:
    return f"{BOTS_PATH}{_segment(bot_id)}/"


def _segment(value: str) -> str:
    # Ids are UUIDs; refuse anything that would change the path we call.
    if not value or any(ch in value for ch in "/?#%\\") or value in (".", ".."):
        raise ValueError("invalid Recall id")
    return value


def _query_time(value: datetime | None) -> str | None:
    return None if value is None else format_timestamp(value)


def _port(url: httpx.URL) -> int:
    return url.port or (443 if url.scheme == "https" else 80)


def _origin(url: httpx.URL) -> tuple[str, str, int]:
    return (url.scheme, url.host, _port(url))


def _origin_text(url: httpx.URL) -> str:
    return f"{url.scheme}://{url.host}:{_port(url)}"


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def _json_object(response: httpx.Response) -> dict[str, Any]:
    path = response.request.url.path if response.request else "?"
    try:
        data = response.json()
    except ValueError:
        raise RecallResponseError(f"{path}: response is not JSON") from None
    if not isinstance(data, dict):
        raise RecallResponseError(f"{path}: response is not a JSON object")
    return data


def _model(cls: type[_M], data: dict[str, Any]) -> _M:
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        # Field locations only; inputs stay out (hide_input_in_errors is set on the models too).
        problems = ", ".join(
            f"{'.'.join(str(part) for part in err['loc']) or '<root>'}: {err['type']}" for err in exc.errors()
        )
        raise RecallResponseError(f"unexpected {cls.__name__} shape: {problems}") from None


def _valid_items(cls: type[_M], items: list[dict[str, Any]]) -> list[_M]:
    """Parse a page item by item: one malformed event is logged and skipped, not fatal to the listing."""
    parsed = []
    for item in items:
        try:
            parsed.append(_model(cls, item))
        except RecallResponseError as exc:
            item_id = item.get("id") if isinstance(item, dict) else None
            logger.warning("recall.item_skipped id=%s reason=%s", item_id, exc, extra={"item_id": item_id})
    return parsed


def _log_extra(method: str, path: str, status: int | None, attempt: int) -> dict[str, Any]:
    return {
        "recall_method": method,
        "recall_path": path,
        "recall_status": status,
        "recall_attempt": attempt,
    }
