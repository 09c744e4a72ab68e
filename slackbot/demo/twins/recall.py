"""A stateful fake of Recall.ai's Calendar V2 API and bot lifecycle, held to Recall's published OpenAPI contract.

Served on 127.0.0.1 (a free port) by ``http.server`` in a background thread. Every request and
every 2xx response is checked with openapi-core against ``../shared/contracts/recall/openapi.json``
(patched as its README says); a request that breaks the contract is recorded in
``fake.violations`` and answered 400 (401 for missing auth, 404/405 for unknown paths/methods).
Recall documents no error-response schemas, so non-2xx bodies follow its docs instead:
``{"code", "message", "errors"}`` for 400, DRF ``{"detail"}`` for 401/404/429.

Usage in a fixture::

    @pytest.fixture
    def fake_recall():
        with FakeRecall() as fake:
            yield fake
        # or: fake = FakeRecall().start(); ...; fake.stop()

Behaviour taken from Recall's docs (see ../shared/reference/recall-calendar-v2.md):
calendars start ``connecting``; calendar responses echo the OAuth secret and refresh token;
lists page at 100 with absolute ``next`` URLs; one bot per deduplication key across the
workspace; DELETE bot keeps a bot another event still shares; scheduling on an ended event is a
400; deleting an event or a calendar removes its bots; a rescheduled event keeps its old bot
(Recall does not move it). Marked "assumption" where the docs are silent.

Bots (see ../shared/reference/recall-bots.md): a bot scheduled through Calendar V2 lives on through test
helpers that record its status changes and recordings and return the webhook payloads Recall would send
(``bot_status``, ``legacy_status``, ``play``, ``finish_recording``, ``fail_recording``, ``fail_transcript``,
``expire_media``); each payload matches its schema in ``webhooks.json``. ``GET /api/v1/bot/{id}/`` renders the
bot with freshly minted media URLs (``{base_url}/media/{token}``, valid ``media_url_ttl`` seconds on the fake's
clock, like Recall's pre-signed S3 links); ``POST /api/v1/bot/{id}/leave_call/`` ends a bot in the call and
queues the webhooks that follows for ``take_webhooks()``. ``GET /media/{token}`` is S3, not Recall: no contract,
no API key (an ``Authorization`` header is refused as S3 refuses it), XML errors.

The Bot schema needs two more repairs than contracts.py makes (applied here, on the fake's own copy, see
``_bot_contract``): ``{"allOf": [{"$ref"}], "nullable": true}`` rejects null under openapi-core (same defect class
as README patch 2; hits ``slack_team``, ``media_shortcuts.audio_mixed``, ``transcript.diarization``), and
``BotEvent.sub_code`` / ``message`` are typed non-null strings though Recall sends null (webhooks.json types the
same status object's fields ``["string", "null"]`` in ``bot.status_change``).

Faults: ``fail_next(...)`` queues failures for matching requests; ``set_chaos(rate, seed=...)`` fails that share
of API requests at random (5xx, 429, or a stalled connection dropped without a reply), always before any state
changes.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import random
import re
import secrets
import string
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlencode, urlsplit
from zoneinfo import ZoneInfo

from svix.webhooks import Webhook

GOOGLE = "google_calendar"
OUTLOOK = "microsoft_outlook"
PLATFORMS = (GOOGLE, OUTLOOK)
CALENDAR_STATUSES = ("connecting", "connected", "disconnected")
RESPONSES = ("accepted", "declined", "tentative", "needsAction")

ENDED_MESSAGE = "Cannot schedule bot as calendar event has ended."
INVALID_DATA_MESSAGE = (
    "Unable to process request because invalid data was submitted. Check `errors` field for more details."
)
_DEFAULT = object()

# Chaos faults (``FakeRecall.set_chaos``): the kinds, the 5xx statuses drawn, and the routes they apply to.
CHAOS_KINDS: tuple[str, ...] = ("5xx", "429", "timeout")
SERVER_ERROR_STATUSES: tuple[int, ...] = (500, 502, 503)
CHAOS_PREFIXES: tuple[str, ...] = ("/api/v2/", "/api/v1/bot")
# Status recorded for (and returned by ``_handle`` for) a request dropped without any reply.
DROPPED = 0
_STALL_HEADER = "x-fake-recall-stall-seconds"

# Bots: v1.11 status codes (one ``bot.<code>`` webhook each), the ones ``leave_call`` accepts, and the terminal ones.
BOT_STATUS_CODES: tuple[str, ...] = (
    "joining_call",
    "in_waiting_room",
    "in_call_not_recording",
    "recording_permission_allowed",
    "recording_permission_denied",
    "in_call_recording",
    "call_ended",
    "done",
    "fatal",
)
LEAVABLE_CODES: tuple[str, ...] = BOT_STATUS_CODES[:6]
COMPLETED_CODES: tuple[str, ...] = ("call_ended", "done", "fatal")
# webhooks.json types sub_code as a non-null string for these three events; used when a test gives none.
DEFAULT_SUB_CODES: dict[str, str] = {
    "call_ended": "timeout_exceeded_everyone_left",
    "fatal": "bot_errored",
    "recording_permission_denied": "zoom_local_recording_request_denied_by_host",
}
LEAVE_CALL_SUB_CODE = "bot_received_leave_call"
# docs.recall.ai/reference/errors, "400 Error Message Reference".
UNSTARTED_BOT_MESSAGE = "Cannot send a command to a bot which has not been started."
COMPLETED_BOT_MESSAGE = "Cannot send a command to a bot which has completed(is shutting/has shut down/has errored)."
RECORDING_STATUSES: tuple[str, ...] = ("processing", "done", "failed", "deleted")
TRANSCRIPT_STATUSES: tuple[str, ...] = ("none", "processing", "done", "failed", "deleted")
# Pre-signed media links: docs.recall.ai/docs/data-retention says they expire after 6 hours.
MEDIA_PREFIX = "/media/"
DEFAULT_MEDIA_URL_TTL = 6 * 3600.0
DEFAULT_RETENTION_HOURS = 168  # SPEC's recording_config.retention default ({"type": "timed", "hours": 168})
_ASYNC_PROVIDERS: tuple[str, ...] = (
    "assembly_ai_async",
    "deepgram_async",
    "gladia_v2_async",
    "recallai_async",
    "rev_async",
    "speechmatics_async",
)


# ---- records -----------------------------------------------------------------------------------


@dataclass
class Hold:
    """A gate that keeps matching requests waiting (see ``FakeRecall.hold``)."""

    method: str
    path_prefix: str
    timeout: float
    entered: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)

    def wait(self) -> None:
        self.entered.set()
        self.released.wait(self.timeout)

    def release(self) -> None:
        self.released.set()


@dataclass
class RecordedCall:
    """One request the fake received, as the client sent it."""

    method: str
    path: str
    query: dict[str, list[str]]
    json: Any
    headers: dict[str, str]
    status: int = 0

    def param(self, name: str) -> str | None:
        """First value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class Violation:
    """A request (client bug) or response (fake bug) that breaks Recall's OpenAPI contract."""

    kind: str  # "request" | "response"
    method: str
    path: str
    message: str


@dataclass
class _Failure:
    method: str
    path_prefix: str
    status: int
    remaining: int
    headers: dict[str, str] | None
    body: Any


@dataclass
class _Chaos:
    rate: float
    rng: random.Random
    stall_seconds: float


@dataclass
class _Calendar:
    id: str
    platform: str
    oauth_client_id: str
    oauth_client_secret: str
    oauth_refresh_token: str
    oauth_email: str | None
    platform_email: str | None
    status: str
    status_changes: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime
    webhook_url: str | None = None


@dataclass
class _Event:
    id: str
    calendar_id: str
    platform: str
    platform_id: str
    ical_uid: str
    title: str
    start_time: datetime
    end_time: datetime
    meeting_url: str | None
    meeting_platform: str | None
    organizer_email: str
    organizer_name: str
    is_organizer: bool
    self_email: str
    self_response: str
    attendees: list[dict[str, str]]
    recurring_series_id: str | None
    time_zone: str
    description: str
    created_at: datetime
    updated_at: datetime
    is_deleted: bool = False
    bot_id: str | None = None
    sequence: int = 0
    raw_extra: dict[str, Any] = field(default_factory=dict)
    provider_created_at: datetime | None = None  # when the provider made it, if before Recall saw it

    @property
    def made_at(self) -> datetime:
        """The provider's creation time (Google ``created``, Graph ``createdDateTime``)."""
        return self.provider_created_at or self.created_at


@dataclass
class _Recording:
    """One recording of a bot (a start/stop cycle) with its mixed video and transcript artifacts."""

    id: str
    created_at: datetime
    started_at: datetime
    status: str  # RECORDING_STATUSES
    status_sub_code: str | None
    status_updated_at: datetime
    transcript_status: str  # TRANSCRIPT_STATUSES; "none" = no transcript (its shortcut is null)
    transcript_updated_at: datetime
    metadata: dict[str, Any]
    transcript_metadata: dict[str, Any]
    completed_at: datetime | None = None
    expires_at: datetime | None = None
    video_mixed_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    transcript_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    participant_events_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    meeting_metadata_id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class _Bot:
    id: str
    deduplication_key: str
    meeting_url: str
    start_time: datetime
    bot_config: dict[str, Any]
    event_ids: set[str]
    created_at: datetime
    status_changes: list[dict[str, Any]] = field(default_factory=list)  # {code, sub_code, message, created_at}
    recordings: list[_Recording] = field(default_factory=list)

    @property
    def metadata(self) -> dict[str, Any]:
        metadata = self.bot_config.get("metadata")
        return dict(metadata) if isinstance(metadata, dict) else {}

    @property
    def last_code(self) -> str | None:
        return self.status_changes[-1]["code"] if self.status_changes else None

    def recording_config(self) -> dict[str, Any]:
        config = self.bot_config.get("recording_config")
        return config if isinstance(config, dict) else {}


@dataclass
class _MediaLink:
    """A minted download URL: which artifact it serves and until when (the fake's clock)."""

    bot_id: str
    recording_id: str
    kind: str  # video_mixed | transcript | transcript_provider | participant_events | speaker_timeline | participants
    expires_at: datetime


class _ApiError(Exception):
    def __init__(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


def _invalid(errors: dict[str, Any]) -> _ApiError:
    return _ApiError(400, {"code": "invalid_request_data", "message": INVALID_DATA_MESSAGE, "errors": errors})


def _not_found() -> _ApiError:
    return _ApiError(404, {"detail": "Not found."})


def _bad_command(code: str, message: str) -> _ApiError:
    return _ApiError(400, {"code": code, "message": message, "errors": {}})


# ---- time formatting ---------------------------------------------------------------------------


def _drf_time(value: datetime) -> str:
    """Django REST framework's rendering: microseconds and ``Z``."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _short_time(value: datetime) -> str:
    utc = value.astimezone(UTC)
    spec = "microseconds" if utc.microsecond else "seconds"
    return utc.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def _google_time(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def _graph_time(value: datetime) -> str:
    """Microsoft Graph's 7-digit fraction."""
    utc = value.astimezone(UTC).replace(tzinfo=None)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond:06d}0Z"


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace(" ", "+"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("FakeRecall helpers take aware datetimes")
    return value.astimezone(UTC)


# ---- meeting links -----------------------------------------------------------------------------

_PLATFORM_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"(^|\.)zoom\.us$|(^|\.)zoomgov\.com$", "zoom"),
    (r"^meet\.google\.com$", "google_meet"),
    (r"^teams\.microsoft\.com$|^teams\.live\.com$", "microsoft_teams"),
    (r"(^|\.)webex\.com$", "webex"),
    (r"(^|\.)gotomeeting\.com$|(^|\.)gotomeet\.me$|(^|\.)goto\.com$", "goto_meeting"),
)


def meeting_platform_for(url: str | None) -> str | None:
    """Recall's ``meeting_platform`` for a link (None for a link it does not recognise)."""
    if not url:
        return None
    host = (urlsplit(url).hostname or "").lower()
    for pattern, platform in _PLATFORM_PATTERNS:
        if re.search(pattern, host):
            return platform
    return None


def meeting_url_object(url: str) -> dict[str, Any] | str:
    """The structured ``meeting_url`` a Bot response carries for a link (the contract's ``MeetingUrl``).

    Recall parses the link it was given; the contract has no shape for a link it does not recognise, so that one
    is returned as is (and a response carrying it breaks the contract, as it should).
    """
    split = urlsplit(url)
    path = split.path.strip("/")
    query = parse_qs(split.query)
    platform = meeting_platform_for(url)
    if platform == "google_meet":
        return {"meeting_id": path.split("/")[0], "platform": "google_meet"}
    if platform == "zoom":
        match = re.search(r"/(?:j|w|s|wc/join|wc)/(\d+)", split.path)
        return {
            "meeting_id": match[1] if match else path.rsplit("/", 1)[-1],
            "meeting_password": _first(query, "pwd"),
            "platform": "zoom",
        }
    if platform == "microsoft_teams":
        join = re.search(r"/l/meetup-join/([^/]+)/([^/]+)", split.path)
        meet = re.search(r"/meet/(\d+)", split.path)
        try:
            context = json.loads(_first(query, "context") or "{}")
        except ValueError:
            context = {}
        if not isinstance(context, dict):
            context = {}

        def text(value: Any) -> str | None:
            return value if isinstance(value, str) else None

        return {
            "meeting_id": meet[1] if meet else None,
            "meeting_password": _first(query, "p"),
            "organizer_id": text(context.get("Oid")),
            "tenant_id": text(context.get("Tid")),
            "message_id": unquote(join[2]) if join else None,
            "thread_id": unquote(join[1]) if join else None,
            "business_meeting_id": None,
            "business_meeting_password": None,
            "platform": "microsoft_teams_live" if split.hostname == "teams.live.com" else "microsoft_teams",
        }
    if platform == "webex":
        subdomain = (split.hostname or "").split(".")[0]
        mtid = _first(query, "MTID")
        if mtid:
            return {"meeting_subdomain": subdomain, "meeting_mtid": mtid, "meeting_path": path, "platform": "webex"}
        room = path.rsplit("/", 1)[-1]
        return {"meeting_subdomain": subdomain, "meeting_personal_room_id": room, "platform": "webex"}
    if platform == "goto_meeting":
        return {"meeting_id": path.rsplit("/", 1)[-1], "platform": "goto_meeting"}
    return url


def _letters(count: int) -> str:
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(count))


def google_meet_url() -> str:
    """A fresh, realistic Google Meet link."""
    return f"https://meet.google.com/{_letters(3)}-{_letters(4)}-{_letters(3)}"


def teams_url() -> str:
    """A fresh, realistic Microsoft Teams join link."""
    thread = secrets.token_hex(16)
    return (
        f"https://teams.microsoft.com/l/meetup-join/19%3ameeting_{thread}%40thread.v2/0"
        "?context=%7b%22Tid%22%3a%2272f988bf-86f1-41af-91ab-2d7cd011db47%22%7d"
    )


def zoom_url() -> str:
    """A fresh, realistic Zoom link."""
    return f"https://us02web.zoom.us/j/{secrets.randbelow(10**10):010d}?pwd={secrets.token_urlsafe(16)}"


# ---- webhooks (signed like Svix) ---------------------------------------------------------------


def make_webhook_secret() -> str:
    """A fresh Svix signing secret (``whsec_`` + base64 of 24 random bytes)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def sign_webhook(
    payload: Any,
    *,
    secret: str,
    style: str = "svix",
    msg_id: str | None = None,
    timestamp: datetime | None = None,
    body: bytes | None = None,
) -> tuple[bytes, dict[str, str]]:
    """Body bytes and Svix headers for a webhook; ``style`` is "svix" or "webhook" (header prefix)."""
    if style not in ("svix", "webhook"):
        raise ValueError("style must be 'svix' or 'webhook'")
    raw = body if body is not None else json.dumps(payload).encode()
    msg_id = msg_id or "msg_" + secrets.token_urlsafe(18)
    # svix's sign() replaces tzinfo with UTC, so hand it UTC wall-clock time.
    when = (timestamp or datetime.now(UTC)).astimezone(UTC)
    signature = Webhook(secret).sign(msg_id, when, raw.decode("utf-8", errors="surrogateescape"))
    return raw, {
        f"{style}-id": msg_id,
        f"{style}-timestamp": str(math.floor(when.timestamp())),
        f"{style}-signature": signature,
    }


# ---- the fake ----------------------------------------------------------------------------------

_ROUTES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("/api/v2/calendars/", re.compile(r"^/api/v2/calendars/$")),
    ("/api/v2/calendars/{id}/", re.compile(r"^/api/v2/calendars/(?P<id>[^/]+)/$")),
    ("/api/v2/calendar-events/", re.compile(r"^/api/v2/calendar-events/$")),
    ("/api/v2/calendar-events/{id}/", re.compile(r"^/api/v2/calendar-events/(?P<id>[^/]+)/$")),
    ("/api/v2/calendar-events/{id}/bot/", re.compile(r"^/api/v2/calendar-events/(?P<id>[^/]+)/bot/$")),
    ("/api/v1/bot/{id}/", re.compile(r"^/api/v1/bot/(?P<id>[^/]+)/$")),
    ("/api/v1/bot/{id}/leave_call/", re.compile(r"^/api/v1/bot/(?P<id>[^/]+)/leave_call/$")),
)


class RecallContract(Protocol):
    """What the tests hold the fake to: Recall's OpenAPI contract and its published limits, read from
    ``../shared/contracts`` (``tests/twins/recall_contract.py``). The demo runs the fake without one."""

    def throttles(self) -> Mapping[tuple[str, str], list[dict[str, Any]]]:
        """``x-throttles`` by (method, path template)."""
        ...

    def check_request(
        self,
        fake: FakeRecall,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
    ) -> tuple[int, dict[str, str], Any] | None:
        """None when the request keeps the contract; else the reply Recall would give (a violation recorded)."""
        ...

    def check_response(
        self,
        fake: FakeRecall,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
        status: int,
        payload: Any,
    ) -> None:
        """Record a violation when the fake's own 2xx reply breaks the contract."""
        ...


class FakeRecall:
    """Stateful Recall Calendar V2 stand-in; see the module docstring for behaviour and usage."""

    def __init__(
        self,
        *,
        api_key: str = "recall-test-key",
        page_size: int = 100,
        rate_limits: bool = False,
        auto_connect: bool = False,
        clock: Callable[[], datetime] | None = None,
        host: str = "127.0.0.1",
        media_url_ttl: float = DEFAULT_MEDIA_URL_TTL,
        contract: RecallContract | None = None,
    ) -> None:
        self.api_key = api_key
        self.page_size = page_size
        self.rate_limits = rate_limits
        self.auto_connect = auto_connect
        self.calls: list[RecordedCall] = []
        self.violations: list[Violation] = []
        self._clock = clock or (lambda: datetime.now(UTC))
        self._offset = timedelta(0)
        self._host = host
        self._lock = threading.RLock()
        self._calendars: dict[str, _Calendar] = {}
        self._events: dict[str, _Event] = {}
        self._bots: dict[str, _Bot] = {}
        self._dedup: dict[str, str] = {}
        self._failures: list[_Failure] = []
        self._holds: list[Hold] = []
        self._chaos: _Chaos | None = None
        self.chaos_counts: Counter[str] = Counter()  # faults injected by ``set_chaos``, by kind (CHAOS_KINDS)
        self._windows: dict[tuple[str, str], deque[datetime]] = {}
        self.contract = contract
        self._throttles = contract.throttles() if contract is not None else {}
        self._last_tick: datetime | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._base_url: str | None = None
        self.media_url_ttl = media_url_ttl  # seconds a minted download URL stays valid (fake's clock)
        self.media_fetch_count = 0  # requests to /media/... (any outcome)
        self._media: dict[str, _MediaLink] = {}
        self._webhook_queue: list[dict[str, Any]] = []

    # ---- lifecycle -----------------------------------------------------------------------------

    def start(self) -> FakeRecall:
        """Bind a free port on 127.0.0.1 and serve in a daemon thread; returns self."""
        if self._server is not None:
            return self
        fake = self

        class Handler(_Handler):
            recall = fake

        server = ThreadingHTTPServer((self._host, 0), Handler)
        server.daemon_threads = True
        host, port = server.server_address[:2]
        self._base_url = f"http://{host}:{port}"
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.01}, name="fake-recall", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port (bounded waits)."""
        self.release_holds()
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> FakeRecall:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` (no trailing slash); only after ``start()``."""
        if self._base_url is None:
            raise RuntimeError("FakeRecall is not started")
        return self._base_url

    # ---- time ----------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The fake's current time (the clock plus any ``advance``)."""
        return self._clock().astimezone(UTC) + self._offset

    def advance(self, seconds: float) -> None:
        """Move the fake's clock forward (ends events, frees rate-limit windows)."""
        with self._lock:
            self._offset += timedelta(seconds=seconds)

    def _tick(self) -> datetime:
        # Strictly increasing timestamps, so updated_at__gte syncs see every change.
        now = self.now()
        if self._last_tick is not None and now <= self._last_tick:
            now = self._last_tick + timedelta(microseconds=1)
        self._last_tick = now
        return now

    # ---- test helpers: calls, violations, failures ---------------------------------------------

    def count(self, method: str, path: str) -> int:
        """Requests received with exactly this method and path (query ignored)."""
        with self._lock:
            return sum(1 for call in self.calls if call.method == method.upper() and call.path == path)

    def calls_to(self, method: str, path_prefix: str = "/") -> list[RecordedCall]:
        """Requests with this method whose path starts with ``path_prefix``."""
        with self._lock:
            return [c for c in self.calls if c.method == method.upper() and c.path.startswith(path_prefix)]

    def reset_calls(self) -> None:
        """Forget recorded calls (state, violations and pending failures are kept)."""
        with self._lock:
            self.calls.clear()

    def assert_no_violations(self) -> None:
        """Fail if any request or response broke Recall's OpenAPI contract."""
        with self._lock:
            if self.violations:
                lines = "\n".join(f"- {v.kind} {v.method} {v.path}: {v.message}" for v in self.violations)
                raise AssertionError(f"Recall contract violations:\n{lines}")

    def fail_next(
        self,
        method: str,
        path_prefix: str,
        status: int,
        *,
        times: int = 1,
        headers: Mapping[str, str] | None = None,
        body: Any = _DEFAULT,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` (method "*" matches any).

        ``headers=None`` gives defaults (``Retry-After: 1`` on 429); ``body`` may be a dict/list
        (JSON), str/bytes (sent as is, HTML if it starts with "<") or None (empty).
        """
        with self._lock:
            self._failures.append(
                _Failure(method.upper(), path_prefix, status, times, None if headers is None else dict(headers), body)
            )

    def set_chaos(self, rate: float, *, seed: int | None = None, stall_seconds: float = 2.0) -> None:
        """Fail a share ``rate`` (0..1) of API requests at random, before they change anything; 0 switches it off.

        Each faulted request gets one kind, drawn at random: "5xx" (500, 502 or 503 with DRF's ``{"detail"}``),
        "429" (``Retry-After: 1`` and Recall's throttle message) or "timeout" (held ``stall_seconds``, then the
        connection is closed without any reply; recorded with status ``DROPPED``). ``seed`` makes the draws
        reproducible for the same sequence of requests. Only ``/api/v2/...`` and ``/api/v1/bot...`` requests that
        pass the contract check are affected. ``chaos_counts`` counts the faults by kind; it is never reset here.
        """
        if not 0 <= rate <= 1:
            raise ValueError("rate must be between 0 and 1")
        if stall_seconds < 0:
            raise ValueError("stall_seconds must not be negative")
        with self._lock:
            self._chaos = _Chaos(rate, random.Random(seed), stall_seconds) if rate > 0 else None

    def _chaos_fault(self, path: str) -> tuple[int, dict[str, str], Any] | None:
        """A fault for this request if chaos picks one (called under the lock, before any state changes)."""
        chaos = self._chaos
        if chaos is None or not path.startswith(CHAOS_PREFIXES) or chaos.rng.random() >= chaos.rate:
            return None
        kind = chaos.rng.choice(CHAOS_KINDS)
        self.chaos_counts[kind] += 1
        if kind == "timeout":
            return DROPPED, {_STALL_HEADER: str(chaos.stall_seconds)}, None
        if kind == "429":
            return 429, {"Retry-After": "1"}, {"detail": "Request was throttled. Expected available in 1 seconds."}
        status = chaos.rng.choice(SERVER_ERROR_STATUSES)
        return status, {}, {"detail": _reason(status)}

    def hold(self, method: str, path_prefix: str, *, timeout: float = 30.0) -> Hold:
        """Make matching requests wait (up to ``timeout``) until ``release()``: a Recall that hangs.

        ``hold.entered`` is set once a request is waiting, so a test knows the caller is mid-call.
        """
        hold = Hold(method.upper(), path_prefix, timeout)
        with self._lock:
            self._holds.append(hold)
        return hold

    def release_holds(self) -> None:
        with self._lock:
            holds, self._holds = self._holds, []
        for hold in holds:
            hold.release()

    # ---- test helpers: calendars ---------------------------------------------------------------

    def add_calendar(
        self,
        *,
        platform: str = GOOGLE,
        oauth_email: str | None = "member@example.com",
        status: str = "connected",
        oauth_client_id: str = "client-id.apps.example.com",
        oauth_client_secret: str = "client-secret-value",
        oauth_refresh_token: str = "refresh-token-value",
    ) -> dict[str, Any]:
        """Seed a calendar directly (no API call); returns its API representation."""
        if platform not in PLATFORMS or status not in CALENDAR_STATUSES:
            raise ValueError("unknown platform or status")
        with self._lock:
            calendar = self._new_calendar(
                platform=platform,
                oauth_client_id=oauth_client_id,
                oauth_client_secret=oauth_client_secret,
                oauth_refresh_token=oauth_refresh_token,
                oauth_email=oauth_email,
            )
            if status != "connecting":
                self._set_status(calendar, status)
            return self._render_calendar(calendar)

    def set_calendar_status(self, calendar_id: str, status: str, *, unschedule_bots: bool = True) -> dict[str, Any]:
        """Move a calendar to ``connecting`` / ``connected`` / ``disconnected``.

        Connecting fills ``platform_email`` as Recall's first sync does. Disconnecting removes
        the bots of its future events (Recall unschedules them) unless ``unschedule_bots=False``.
        """
        if status not in CALENDAR_STATUSES:
            raise ValueError(f"status must be one of {CALENDAR_STATUSES}")
        with self._lock:
            calendar = self._calendars[calendar_id]
            self._set_status(calendar, status)
            if status == "disconnected" and unschedule_bots:
                now = self.now()
                for event in self._events.values():
                    if event.calendar_id == calendar_id and event.end_time > now:
                        self._detach_bot(event)
            return self._render_calendar(calendar)

    def calendar(self, calendar_id: str) -> dict[str, Any]:
        """A calendar as the API returns it (with the echoed secrets)."""
        with self._lock:
            return self._render_calendar(self._calendars[calendar_id])

    def calendars(self) -> list[dict[str, Any]]:
        """Every calendar, oldest first."""
        with self._lock:
            return [self._render_calendar(c) for c in self._sorted(self._calendars.values())]

    def has_calendar(self, calendar_id: str) -> bool:
        with self._lock:
            return calendar_id in self._calendars

    # ---- test helpers: events ------------------------------------------------------------------

    def add_event(
        self,
        calendar_id: str,
        *,
        start_time: datetime,
        end_time: datetime | None = None,
        title: str = "Weekly sync",
        meeting_url: Any = _DEFAULT,
        meeting_platform: Any = _DEFAULT,
        organizer_email: str | None = None,
        organizer_name: str | None = None,
        is_organizer: bool | None = None,
        self_response: str | None = None,
        attendees: Iterable[Mapping[str, str] | str] = (),
        recurring_series_id: str | None = None,
        ical_uid: str | None = None,
        time_zone: str = "Europe/Berlin",
        description: str = "",
        raw_extra: Mapping[str, Any] | None = None,
        made_at: datetime | None = None,
    ) -> dict[str, Any]:
        """Add an event to a calendar as Recall's sync would; returns its API representation.

        ``meeting_url`` defaults to a Meet (Google) or Teams (Outlook) link; pass None for none.
        ``organizer_email`` defaults to the calendar owner (then ``is_organizer`` is True).
        ``attendees`` are guests: emails or ``{"email", "name", "response"}`` with Google's
        response words. ``raw_extra`` is merged into the provider ``raw`` object last.
        ``made_at`` is when the provider created the event (default: now, as Recall sees it), for events that were
        on the calendar before it was connected.
        """
        with self._lock:
            calendar = self._calendars[calendar_id]
            start = _aware(start_time)
            end = _aware(end_time) if end_time is not None else start + timedelta(minutes=30)
            owner = calendar.platform_email or calendar.oauth_email or "member@example.com"
            organizer = organizer_email or owner
            organizing = (organizer.lower() == owner.lower()) if is_organizer is None else is_organizer
            if meeting_url is _DEFAULT:
                meeting_url = google_meet_url() if calendar.platform == GOOGLE else teams_url()
            if meeting_platform is _DEFAULT:
                meeting_platform = meeting_platform_for(meeting_url)
            response = self_response or ("accepted" if organizing else "needsAction")
            if response not in RESPONSES:
                raise ValueError(f"self_response must be one of {RESPONSES}")
            platform_id = self._platform_id(calendar.platform, recurring_series_id, start)
            now = self._tick()
            event = _Event(
                id=str(uuid.uuid4()),
                calendar_id=calendar_id,
                platform=calendar.platform,
                platform_id=platform_id,
                ical_uid=ical_uid or self._ical_uid(calendar.platform, recurring_series_id or platform_id),
                title=title,
                start_time=start,
                end_time=end,
                meeting_url=meeting_url,
                meeting_platform=meeting_platform,
                organizer_email=organizer,
                organizer_name=organizer_name or organizer.split("@")[0].replace(".", " ").title(),
                is_organizer=organizing,
                self_email=owner,
                self_response=response,
                attendees=[_attendee(a) for a in attendees],
                recurring_series_id=recurring_series_id,
                time_zone=time_zone,
                description=description,
                created_at=now,
                updated_at=now,
                raw_extra=dict(raw_extra or {}),
                provider_created_at=_aware(made_at) if made_at is not None else None,
            )
            self._events[event.id] = event
            return self._render_event(event)

    def update_event(self, event_id: str, **changes: Any) -> dict[str, Any]:
        """Change an event as the provider would (bumps ``updated_at``; bots are NOT moved).

        Accepts the ``add_event`` keywords (``start_time``, ``end_time``, ``title``,
        ``meeting_url``, ``self_response``, ``attendees``, ``raw_extra``, ...). A new
        ``meeting_url`` re-derives ``meeting_platform`` unless that is given too.
        """
        allowed = {
            "start_time",
            "end_time",
            "title",
            "meeting_url",
            "meeting_platform",
            "organizer_email",
            "organizer_name",
            "is_organizer",
            "self_response",
            "attendees",
            "recurring_series_id",
            "time_zone",
            "description",
            "raw_extra",
        }
        unknown = set(changes) - allowed
        if unknown:
            raise TypeError(f"update_event got unknown fields: {sorted(unknown)}")
        with self._lock:
            event = self._events[event_id]
            for key, value in changes.items():
                if key in ("start_time", "end_time"):
                    value = _aware(value)
                elif key == "attendees":
                    value = [_attendee(a) for a in value]
                elif key == "raw_extra":
                    value = dict(value or {})
                elif key == "self_response" and value not in RESPONSES:
                    raise ValueError(f"self_response must be one of {RESPONSES}")
                setattr(event, key, value)
            if "meeting_url" in changes and "meeting_platform" not in changes:
                event.meeting_platform = meeting_platform_for(event.meeting_url)
            event.sequence += 1
            event.updated_at = self._tick()
            return self._render_event(event)

    def delete_event(self, event_id: str) -> dict[str, Any]:
        """Cancel an event: ``is_deleted`` true (Recall never hard-deletes), its bot removed."""
        with self._lock:
            event = self._events[event_id]
            event.is_deleted = True
            event.sequence += 1
            self._detach_bot(event)
            event.updated_at = self._tick()
            return self._render_event(event)

    def event(self, event_id: str) -> dict[str, Any]:
        """An event as the API returns it."""
        with self._lock:
            return self._render_event(self._events[event_id])

    def events(self, calendar_id: str | None = None) -> list[dict[str, Any]]:
        """Every event (of one calendar), oldest first."""
        with self._lock:
            return [
                self._render_event(e)
                for e in self._sorted(self._events.values())
                if calendar_id is None or e.calendar_id == calendar_id
            ]

    # ---- test helpers: bots --------------------------------------------------------------------

    def bots(self) -> list[dict[str, Any]]:
        """Every scheduled bot: id, deduplication_key, meeting_url, start_time, bot_config, event_ids."""
        with self._lock:
            return [self._bot_view(bot) for bot in self._bots.values()]

    def bot_for_event(self, event_id: str) -> dict[str, Any] | None:
        """The bot scheduled for an event, or None."""
        with self._lock:
            event = self._events[event_id]
            bot = self._bots.get(event.bot_id) if event.bot_id else None
            return self._bot_view(bot) if bot else None

    def bot(self, bot_id: str) -> dict[str, Any]:
        """A bot as ``GET /api/v1/bot/{id}/`` returns it (mints fresh media URLs, like the API)."""
        with self._lock:
            return self._render_bot(self._bot(bot_id))

    # ---- test helpers: a bot's life (each returns the webhook payloads Recall would send) ------

    def bot_status(self, bot_id: str, code: str, sub_code: str | None = None) -> dict[str, Any]:
        """Record a status change and return its v1.11 ``bot.<code>`` payload.

        ``code`` is one of ``BOT_STATUS_CODES``. ``call_ended``, ``fatal`` and ``recording_permission_denied``
        always carry a sub_code (webhooks.json), so ``DEFAULT_SUB_CODES`` fills one in when none is given.
        ``in_call_recording`` starts a recording (``processing``) unless one is already running; nothing but
        ``finish_recording`` / ``fail_recording`` ends it.
        """
        with self._lock:
            bot = self._bot(bot_id)
            change = self._record_status(bot, code, sub_code)
            return self._status_payload(bot, change)

    def legacy_status(self, bot_id: str, code: str, sub_code: str | None = None) -> dict[str, Any]:
        """Record a status change like ``bot_status`` and return the v1.10 ``bot.status_change`` payload
        (``data.bot_id`` and ``data.status``; no metadata)."""
        with self._lock:
            bot = self._bot(bot_id)
            change = self._record_status(bot, code, sub_code)
            return self._legacy_payload(bot, change)

    def play(self, bot_id: str, *codes: str) -> list[dict[str, Any]]:
        """``bot_status`` for each code in turn (default sub_codes); the payloads in order."""
        return [self.bot_status(bot_id, code) for code in codes]

    def finish_recording(self, bot_id: str, *, transcript: bool = True) -> list[dict[str, Any]]:
        """Complete the bot's running recording (its video is then downloadable; ``expires_at`` is set from
        ``recording_config.retention``). With ``transcript`` its transcript is done too, even if none was
        configured (an async transcript). Returns ``[recording.done]`` plus ``transcript.done`` when ``transcript``.
        """
        with self._lock:
            bot = self._bot(bot_id)
            recording = self._running_recording(bot)
            now = self._tick()
            recording.status, recording.status_sub_code, recording.status_updated_at = "done", None, now
            recording.completed_at = now
            recording.expires_at = self._expiry(bot, now)
            payloads = [self._recording_payload("recording.done", bot, recording)]
            if transcript:
                recording.transcript_status, recording.transcript_updated_at = "done", now
                payloads.append(self._recording_payload("transcript.done", bot, recording, transcript=True))
            return payloads

    def fail_recording(self, bot_id: str, sub_code: str | None = None) -> dict[str, Any]:
        """Fail the bot's running recording (its video, and a transcript in progress, fail with it);
        returns the ``recording.failed`` payload (``data.data.error`` is required there)."""
        with self._lock:
            bot = self._bot(bot_id)
            recording = self._running_recording(bot)
            now = self._tick()
            recording.status, recording.status_sub_code, recording.status_updated_at = "failed", sub_code, now
            recording.completed_at = now
            if recording.transcript_status == "processing":
                recording.transcript_status, recording.transcript_updated_at = "failed", now
            error = {
                "code": (sub_code or "internal_error").upper(),
                "message": "The recording failed." if sub_code else "Internal server error occurred during recording",
            }
            return self._recording_payload("recording.failed", bot, recording, error=error)

    def fail_transcript(self, bot_id: str) -> dict[str, Any]:
        """Fail the transcript of the bot's latest recording whose transcript is not finished; returns the
        ``transcript.failed`` payload."""
        with self._lock:
            bot = self._bot(bot_id)
            pending = [r for r in bot.recordings if r.transcript_status in ("none", "processing")]
            if not pending:
                raise ValueError(f"bot {bot_id} has no recording with an unfinished transcript")
            recording = pending[-1]
            recording.transcript_status, recording.transcript_updated_at = "failed", self._tick()
            return self._recording_payload("transcript.failed", bot, recording, transcript=True)

    def expire_media(self, bot_id: str) -> list[dict[str, Any]]:
        """Retention ran out: every recording's media is deleted (statuses ``deleted``, download URLs null, links
        already handed out answer 403). Returns a ``recording.deleted`` payload per recording deleted."""
        with self._lock:
            bot = self._bot(bot_id)
            payloads = []
            for recording in bot.recordings:
                if recording.status == "deleted":
                    continue
                now = self._tick()
                recording.status, recording.status_sub_code, recording.status_updated_at = "deleted", None, now
                if recording.transcript_status != "none":
                    recording.transcript_status, recording.transcript_updated_at = "deleted", now
                payloads.append(self._recording_payload("recording.deleted", bot, recording))
            return payloads

    def take_webhooks(self) -> list[dict[str, Any]]:
        """Webhook payloads queued by API calls (``leave_call``), oldest first; the queue is emptied.

        Helpers such as ``bot_status`` return their payloads instead of queueing them.
        """
        with self._lock:
            queued, self._webhook_queue = self._webhook_queue, []
            return queued

    # ---- test helpers: webhook payloads --------------------------------------------------------

    def sync_events_payload(self, calendar_id: str, *, last_updated_ts: datetime | None = None) -> dict[str, Any]:
        """A ``calendar.sync_events`` payload; ``last_updated_ts`` defaults to the newest event change."""
        with self._lock:
            if last_updated_ts is None:
                stamps = [e.updated_at for e in self._events.values() if e.calendar_id == calendar_id]
                last_updated_ts = max(stamps) if stamps else self.now()
        return {
            "event": "calendar.sync_events",
            "data": {"calendar_id": calendar_id, "last_updated_ts": _aware(last_updated_ts).isoformat()},
        }

    @staticmethod
    def calendar_update_payload(calendar_id: str) -> dict[str, Any]:
        """A ``calendar.update`` payload."""
        return {"event": "calendar.update", "data": {"calendar_id": calendar_id}}

    # ---- state internals -----------------------------------------------------------------------

    @staticmethod
    def _sorted(items: Iterable[Any]) -> list[Any]:
        return sorted(items, key=lambda item: (item.created_at, item.id))

    def _new_calendar(
        self,
        *,
        platform: str,
        oauth_client_id: str,
        oauth_client_secret: str,
        oauth_refresh_token: str,
        oauth_email: str | None,
        webhook_url: str | None = None,
    ) -> _Calendar:
        now = self._tick()
        calendar = _Calendar(
            id=str(uuid.uuid4()),
            platform=platform,
            oauth_client_id=oauth_client_id,
            oauth_client_secret=oauth_client_secret,
            oauth_refresh_token=oauth_refresh_token,
            oauth_email=oauth_email,
            platform_email=None,
            status="connecting",
            status_changes=[{"status": "connecting", "created_at": _drf_time(now)}],
            created_at=now,
            updated_at=now,
            webhook_url=webhook_url,
        )
        self._calendars[calendar.id] = calendar
        return calendar

    def _set_status(self, calendar: _Calendar, status: str) -> None:
        now = self._tick()
        if calendar.status != status:
            calendar.status_changes.append({"status": status, "created_at": _drf_time(now)})
        calendar.status = status
        if status == "connected" and calendar.platform_email is None:
            calendar.platform_email = calendar.oauth_email or "member@example.com"
        calendar.updated_at = now

    def _detach_bot(self, event: _Event) -> None:
        """Take the event off its bot; the bot goes once no event shares it."""
        if event.bot_id is None:
            return
        bot = self._bots.get(event.bot_id)
        event.bot_id = None
        if bot is None:
            return
        bot.event_ids.discard(event.id)
        if not bot.event_ids:
            if self._dedup.get(bot.deduplication_key) == bot.id:
                del self._dedup[bot.deduplication_key]
            # Assumption: a bot that has started keeps its record (status history, recordings) at Recall.
            if not bot.status_changes:
                del self._bots[bot.id]

    @staticmethod
    def _platform_id(platform: str, series: str | None, start: datetime) -> str:
        if platform == GOOGLE:
            base = series or "".join(secrets.choice("0123456789abcdefghijklmnopqrstuv") for _ in range(26))
            return f"{base}_{start.strftime('%Y%m%dT%H%M%SZ')}" if series else base
        token = base64.urlsafe_b64encode(secrets.token_bytes(96)).decode().rstrip("=")
        return "AAMkA" + token.replace("_", "-")[:147] + "="

    @staticmethod
    def _ical_uid(platform: str, basis: str) -> str:
        if platform == GOOGLE:
            return f"{basis.split('_')[0]}@google.com"
        return "040000008200E00074C5B7101A82E00800000000" + secrets.token_hex(28).upper()

    def _bot_view(self, bot: _Bot) -> dict[str, Any]:
        return {
            "id": bot.id,
            "deduplication_key": bot.deduplication_key,
            "meeting_url": bot.meeting_url,
            "start_time": _short_time(bot.start_time),
            "bot_config": json.loads(json.dumps(bot.bot_config)),
            "event_ids": sorted(bot.event_ids),
        }

    def _bot(self, bot_id: str) -> _Bot:
        bot = self._bots.get(bot_id)
        if bot is None:
            raise KeyError(f"no bot {bot_id!r} in FakeRecall")
        return bot

    def _record_status(self, bot: _Bot, code: str, sub_code: str | None) -> dict[str, Any]:
        if code not in BOT_STATUS_CODES:
            raise ValueError(f"code must be one of {BOT_STATUS_CODES}")
        if sub_code is None:
            sub_code = DEFAULT_SUB_CODES.get(code)
        now = self._tick()
        change = {"code": code, "sub_code": sub_code, "message": None, "created_at": now}
        bot.status_changes.append(change)
        if code == "in_call_recording" and not any(r.status == "processing" for r in bot.recordings):
            config = bot.recording_config()
            transcript = config.get("transcript")
            transcript_config = transcript if isinstance(transcript, dict) else {}
            bot.recordings.append(
                _Recording(
                    id=str(uuid.uuid4()),
                    created_at=now,
                    started_at=now,
                    status="processing",
                    status_sub_code=None,
                    status_updated_at=now,
                    transcript_status="processing" if isinstance(transcript, dict) else "none",
                    transcript_updated_at=now,
                    metadata=_string_map(config.get("metadata")),
                    transcript_metadata=_string_map(transcript_config.get("metadata")),
                )
            )
        return change

    @staticmethod
    def _running_recording(bot: _Bot) -> _Recording:
        running = [r for r in bot.recordings if r.status == "processing"]
        if not running:
            raise ValueError(f"bot {bot.id} has no recording in progress (play in_call_recording first)")
        return running[-1]

    @staticmethod
    def _expiry(bot: _Bot, completed_at: datetime) -> datetime | None:
        retention = bot.recording_config().get("retention")
        if isinstance(retention, dict) and retention.get("type") == "forever":
            return None
        hours = retention.get("hours") if isinstance(retention, dict) else None
        if not isinstance(hours, int | float) or isinstance(hours, bool):
            hours = DEFAULT_RETENTION_HOURS
        return completed_at + timedelta(hours=hours)

    def _mint(self, bot: _Bot, recording: _Recording, kind: str) -> str:
        """A fresh pre-signed-style URL for one artifact, valid ``media_url_ttl`` seconds from now."""
        token = secrets.token_urlsafe(24)
        self._media[token] = _MediaLink(
            bot_id=bot.id,
            recording_id=recording.id,
            kind=kind,
            expires_at=self.now() + timedelta(seconds=self.media_url_ttl),
        )
        return f"{self.base_url}{MEDIA_PREFIX}{token}"

    # ---- webhook payloads (bots) ---------------------------------------------------------------

    @staticmethod
    def _bot_ref(bot: _Bot) -> dict[str, Any]:
        return {"id": bot.id, "metadata": json.loads(json.dumps(bot.metadata))}

    def _status_payload(self, bot: _Bot, change: dict[str, Any]) -> dict[str, Any]:
        return {
            "event": f"bot.{change['code']}",
            "data": {
                "data": {
                    "code": change["code"],
                    "sub_code": change["sub_code"],
                    "updated_at": change["created_at"].isoformat(),
                },
                "bot": self._bot_ref(bot),
            },
        }

    @staticmethod
    def _legacy_payload(bot: _Bot, change: dict[str, Any]) -> dict[str, Any]:
        return {
            "event": "bot.status_change",
            "data": {
                "bot_id": bot.id,
                "status": {
                    "code": change["code"],
                    "created_at": change["created_at"].isoformat(),
                    "sub_code": change["sub_code"],
                    "message": change["message"],
                },
            },
        }

    def _recording_payload(
        self,
        event: str,
        bot: _Bot,
        recording: _Recording,
        *,
        transcript: bool = False,
        error: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        if transcript:
            status: dict[str, Any] = {
                "code": recording.transcript_status,
                "sub_code": None,
                "updated_at": recording.transcript_updated_at.isoformat(),
            }
        else:
            status = {
                "code": recording.status,
                "sub_code": recording.status_sub_code,
                "updated_at": recording.status_updated_at.isoformat(),
            }
        if error is not None:
            status["error"] = dict(error)
        data: dict[str, Any] = {
            "data": status,
            "bot": self._bot_ref(bot),
            "recording": {"id": recording.id, "metadata": dict(recording.metadata)},
        }
        if transcript:
            data["transcript"] = {"id": recording.transcript_id, "metadata": dict(recording.transcript_metadata)}
        return {"event": event, "data": data}

    # ---- rendering -----------------------------------------------------------------------------

    def _render_calendar(self, calendar: _Calendar) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": calendar.id,
            "oauth_client_id": calendar.oauth_client_id,
            # Recall echoes these two back; the client must keep them out of logs and reprs.
            "oauth_client_secret": calendar.oauth_client_secret,
            "oauth_refresh_token": calendar.oauth_refresh_token,
            "platform": calendar.platform,
            "platform_email": calendar.platform_email,
            "status": calendar.status,
            "status_changes": [dict(change) for change in calendar.status_changes],
            "created_at": _drf_time(calendar.created_at),
            "updated_at": _drf_time(calendar.updated_at),
        }
        if calendar.oauth_email is not None:
            data["oauth_email"] = calendar.oauth_email
        if calendar.webhook_url is not None:
            data["webhook_url"] = calendar.webhook_url
        return data

    def _render_event(self, event: _Event) -> dict[str, Any]:
        bots = []
        bot = self._bots.get(event.bot_id) if event.bot_id else None
        if bot is not None:
            bots.append(
                {
                    "bot_id": bot.id,
                    "start_time": _short_time(bot.start_time),
                    "deduplication_key": bot.deduplication_key,
                    "meeting_url": bot.meeting_url,
                }
            )
        raw = _google_raw(event) if event.platform == GOOGLE else _outlook_raw(event)
        raw.update(json.loads(json.dumps(event.raw_extra)))
        return {
            "id": event.id,
            "start_time": _short_time(event.start_time),
            "end_time": _short_time(event.end_time),
            "calendar_id": event.calendar_id,
            "raw": raw,
            "platform": event.platform,
            "platform_id": event.platform_id,
            "ical_uid": event.ical_uid,
            "meeting_platform": event.meeting_platform,
            "meeting_url": event.meeting_url,
            "created_at": _drf_time(event.created_at),
            "updated_at": _drf_time(event.updated_at),
            "is_deleted": event.is_deleted,
            "bots": bots,
        }

    def _render_bot(self, bot: _Bot) -> dict[str, Any]:
        """The contract's ``Bot``; every call mints new download URLs for the media that is done."""
        config = bot.bot_config
        bot_name = config.get("bot_name")
        return {
            "id": bot.id,
            "meeting_url": meeting_url_object(bot.meeting_url),
            "bot_name": bot_name if isinstance(bot_name, str) else "Meeting Notetaker",
            # "Once a bot has joined a call, its join_at will be cleared" (the spec).
            "join_at": None if bot.status_changes else _drf_time(bot.start_time),
            "metadata": json.loads(json.dumps(bot.metadata)),
            "status_changes": [
                {
                    "code": change["code"],
                    "sub_code": change["sub_code"],
                    "message": change["message"],
                    "created_at": _drf_time(change["created_at"]),
                }
                for change in bot.status_changes
            ],
            "recordings": [self._render_recording(bot, recording) for recording in bot.recordings],
            "calendar_meetings": [],  # Calendar V1 only
            "slack_team": None,
        }

    def _render_recording(self, bot: _Bot, recording: _Recording) -> dict[str, Any]:
        done = recording.status == "done"

        def status(code: str, sub_code: str | None, updated_at: datetime) -> dict[str, Any]:
            return {"code": code, "sub_code": sub_code, "updated_at": _drf_time(updated_at)}

        def artifact(artifact_id: str, data: dict[str, Any]) -> dict[str, Any]:
            return {
                "id": artifact_id,
                "created_at": _drf_time(recording.created_at),
                "status": status(recording.status, None, recording.status_updated_at),
                "metadata": {},
                "data": data,
            }

        def url(kind: str, ready: bool) -> str | None:
            return self._mint(bot, recording, kind) if ready else None

        transcript: dict[str, Any] | None = None
        if recording.transcript_status != "none":
            ready = recording.transcript_status == "done"
            configured = bot.recording_config().get("transcript")
            configured = configured if isinstance(configured, dict) else {}
            provider: dict[str, Any] = dict.fromkeys(_ASYNC_PROVIDERS)
            chosen = configured.get("provider")
            # No transcript configured but one made: an async one, as after create_transcript.
            provider.update(json.loads(json.dumps(chosen)) if isinstance(chosen, dict) else {"recallai_async": {}})
            diarization = configured.get("diarization")
            transcript = {
                "id": recording.transcript_id,
                "created_at": _drf_time(recording.created_at),
                "status": status(recording.transcript_status, None, recording.transcript_updated_at),
                "metadata": dict(recording.transcript_metadata),
                "data": {
                    "download_url": url("transcript", ready),
                    "provider_data_download_url": url("transcript_provider", ready),
                },
                "diarization": (
                    json.loads(json.dumps(diarization))
                    if isinstance(diarization, dict)
                    else {"use_separate_streams_when_available": False}
                ),
                "provider": provider,
            }
        titles = [self._events[e].title for e in sorted(bot.event_ids) if e in self._events]
        return {
            "id": recording.id,
            "created_at": _drf_time(recording.created_at),
            "started_at": _drf_time(recording.started_at),
            "completed_at": _drf_time(recording.completed_at) if recording.completed_at else None,
            "expires_at": _drf_time(recording.expires_at) if recording.expires_at else None,
            "status": status(recording.status, recording.status_sub_code, recording.status_updated_at),
            "metadata": dict(recording.metadata),
            "media_shortcuts": {
                "video_mixed": {
                    **artifact(recording.video_mixed_id, {"download_url": url("video_mixed", done)}),
                    "format": "mp4",
                },
                "transcript": transcript,
                "participant_events": artifact(
                    recording.participant_events_id,
                    {
                        "participant_events_download_url": url("participant_events", done),
                        "speaker_timeline_download_url": url("speaker_timeline", done),
                        "participants_download_url": url("participants", done),
                    },
                ),
                "meeting_metadata": artifact(
                    recording.meeting_metadata_id, {"title": titles[0] if titles else None, "zoom": None}
                ),
                "audio_mixed": None,  # off unless recording_config.audio_mixed_* asks for it
            },
        }

    # ---- HTTP ----------------------------------------------------------------------------------

    def _handle(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        split = urlsplit(target)
        path = split.path
        query = parse_qs(split.query, keep_blank_values=True)
        lowered = {key.lower(): value for key, value in headers.items()}
        with self._lock:
            holds = [h for h in self._holds if h.method in ("*", method) and path.startswith(h.path_prefix)]
        for hold in holds:
            hold.wait()
        parsed: Any = None
        if body:
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
        with self._lock:
            call = RecordedCall(method=method, path=path, query=query, json=parsed, headers=lowered)
            self.calls.append(call)
            try:
                status, out_headers, payload = self._respond(method, path, query, lowered, body, parsed)
            except _ApiError as exc:
                status, out_headers, payload = exc.status, exc.headers, exc.body
            call.status = status
            return status, *_encode(status, out_headers, payload)

    def _respond(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
        parsed: Any,
    ) -> tuple[int, dict[str, str], Any]:
        if path.startswith(MEDIA_PREFIX):
            return self._serve_media(method, path, headers)
        if method == "GET" and body:
            # Recall's WAF: "a body (even null) on a GET" is answered 403 with an HTML page.
            self._violation("request", method, path, "GET request carries a body (Recall's WAF answers 403)")
            return 403, {"Content-Type": "text/html"}, "<html><body><h1>403 Forbidden</h1></body></html>"

        # DRF authenticates before it parses: a wrong key is a 401 whatever the body says. Both
        # "Token <key>" and the bare key are accepted (docs.recall.ai/reference/authentication).
        authorization = headers.get("authorization")
        if authorization is not None and authorization not in (f"Token {self.api_key}", self.api_key):
            return 401, {}, {"detail": "Invalid token."}

        if self.contract is not None:
            problem = self.contract.check_request(self, method, path, query, headers, body)
            if problem is not None:
                return problem
        elif authorization is None:
            return 401, {}, {"detail": "Authentication credentials were not provided."}

        failure = self._take_failure(method, path)
        if failure is not None:
            return failure
        fault = self._chaos_fault(path)
        if fault is not None:
            return fault

        template, params = _route(path)
        limited = self._rate_limit(method, template)
        if limited is not None:
            return limited

        status, payload = self._dispatch(method, template, params, query, parsed)
        if 200 <= status < 300 and self.contract is not None:
            self.contract.check_response(self, method, path, query, headers, body, status, payload)
        return status, {}, payload

    def _violation(self, kind: str, method: str, path: str, message: str) -> None:
        self.violations.append(Violation(kind=kind, method=method, path=path, message=message))

    def _take_failure(self, method: str, path: str) -> tuple[int, dict[str, str], Any] | None:
        for failure in self._failures:
            if failure.method in ("*", method) and path.startswith(failure.path_prefix):
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures.remove(failure)
                headers = failure.headers
                if headers is None:
                    headers = {"Retry-After": "1"} if failure.status == 429 else {}
                body = failure.body
                if body is _DEFAULT:
                    body = {"detail": _reason(failure.status)}
                    if failure.status == 429:
                        wait = headers.get("Retry-After", "1")
                        body = {"detail": f"Request was throttled. Expected available in {wait} seconds."}
                return failure.status, headers, body
        return None

    def _rate_limit(self, method: str, template: str) -> tuple[int, dict[str, str], Any] | None:
        if not self.rate_limits:
            return None
        throttles = self._throttles.get((method, template), [])
        now = self.now()
        for throttle in throttles:
            period = {"sec": 1, "second": 1, "min": 60, "minute": 60, "hour": 3600}.get(throttle.get("period"), 60)
            window = self._windows.setdefault((method, template), deque())
            while window and (now - window[0]).total_seconds() >= period:
                window.popleft()
            if len(window) >= int(throttle["limit"]):
                wait = max(1, math.ceil(period - (now - window[0]).total_seconds()))
                return (
                    429,
                    {"Retry-After": str(wait)},
                    {"detail": f"Request was throttled. Expected available in {wait} seconds."},
                )
        if throttles:
            self._windows.setdefault((method, template), deque()).append(now)
        return None

    def _dispatch(
        self, method: str, template: str, params: dict[str, str], query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        if template.startswith("/api/v1/bot/"):
            return self._dispatch_bot(method, template, params)
        if template == "/api/v2/calendars/":
            return self._list_calendars(query) if method == "GET" else self._create_calendar(body)
        if template == "/api/v2/calendars/{id}/":
            calendar = self._calendars.get(params["id"])
            if calendar is None:
                raise _not_found()
            if method == "GET":
                return 200, self._render_calendar(calendar)
            if method == "PATCH":
                return self._patch_calendar(calendar, body or {})
            self._delete_calendar(calendar)
            return 204, None
        if template == "/api/v2/calendar-events/":
            return self._list_events(query)
        event = self._events.get(params["id"])
        if event is None or event.calendar_id not in self._calendars:
            raise _not_found()
        if template == "/api/v2/calendar-events/{id}/":
            return 200, self._render_event(event)
        if method == "POST":
            return self._schedule_bot(event, body)
        self._detach_bot(event)
        return 200, self._render_event(event)

    def _dispatch_bot(self, method: str, template: str, params: dict[str, str]) -> tuple[int, Any]:
        bot = self._bots.get(params["id"])
        if bot is None:
            raise _not_found()
        if template == "/api/v1/bot/{id}/leave_call/":
            return self._leave_call(bot)
        if method == "GET":
            return 200, self._render_bot(bot)
        # PATCH / DELETE are in the contract but not modelled: say so rather than pretend.
        raise _ApiError(501, {"detail": f"FakeRecall does not model {method} {template}."})

    # ---- media (S3, not Recall: no contract, no API key) -----------------------------------------

    def _serve_media(self, method: str, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        self.media_fetch_count += 1
        failure = self._take_failure(method, path)
        if failure is not None:
            return failure
        if method != "GET":
            return _s3_error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
        if "authorization" in headers:
            # A pre-signed URL plus an Authorization header (say, the Recall API key) is refused by S3.
            return _s3_error(
                400,
                "InvalidArgument",
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string "
                "parameter or the Authorization header should be specified",
            )
        link = self._media.get(path[len(MEDIA_PREFIX) :])
        if link is None:
            return _s3_error(403, "AccessDenied", "Access Denied")
        now = self.now()
        if now >= link.expires_at:
            return _s3_error(
                403,
                "AccessDenied",
                "Request has expired",
                {
                    "X-Amz-Expires": str(int(self.media_url_ttl)),
                    "Expires": _short_time(link.expires_at),
                    "ServerTime": _short_time(now),
                },
            )
        bot = self._bots.get(link.bot_id)
        recording = next((r for r in bot.recordings if r.id == link.recording_id), None) if bot else None
        if recording is None or recording.status == "deleted":
            return _s3_error(403, "AccessDenied", "Access Denied")  # gone: S3 without ListBucket says 403
        if link.kind == "video_mixed":
            return 200, {"Content-Type": "video/mp4"}, _FAKE_MP4
        body = _FAKE_TRANSCRIPT if link.kind.startswith("transcript") else []
        return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()

    # ---- endpoint behaviour --------------------------------------------------------------------

    def _leave_call(self, bot: _Bot) -> tuple[int, Any]:
        """``leave_call``: only a bot in (or joining) the call can be told to leave; 200 with the Bot."""
        last = bot.last_code
        if last is None:
            raise _bad_command("cannot_command_unstarted_bot", UNSTARTED_BOT_MESSAGE)
        if last not in LEAVABLE_CODES:
            raise _bad_command("cannot_command_completed_bot", COMPLETED_BOT_MESSAGE)
        for code, sub_code in (("call_ended", LEAVE_CALL_SUB_CODE), ("done", None)):
            change = self._record_status(bot, code, sub_code)
            self._webhook_queue.append(self._status_payload(bot, change))
        return 200, self._render_bot(bot)

    def _create_calendar(self, body: dict[str, Any]) -> tuple[int, Any]:
        calendar = self._new_calendar(
            platform=body["platform"],
            oauth_client_id=body["oauth_client_id"],
            oauth_client_secret=body["oauth_client_secret"],
            oauth_refresh_token=body["oauth_refresh_token"],
            oauth_email=body.get("oauth_email"),
            webhook_url=body.get("webhook_url"),
        )
        if self.auto_connect:
            self._set_status(calendar, "connected")
        return 201, self._render_calendar(calendar)

    def _patch_calendar(self, calendar: _Calendar, body: dict[str, Any]) -> tuple[int, Any]:
        for key in ("oauth_client_id", "oauth_client_secret", "oauth_refresh_token", "oauth_email", "webhook_url"):
            if key in body:
                setattr(calendar, key, body[key])
        if "platform" in body:
            calendar.platform = body["platform"]
        credentials = {"oauth_client_id", "oauth_client_secret", "oauth_refresh_token"} & set(body)
        # New credentials kick off a reconnection (Recall FAQ); assumption: status goes connecting.
        if credentials and calendar.status == "disconnected":
            self._set_status(calendar, "connecting")
        if credentials and self.auto_connect:
            self._set_status(calendar, "connected")
        calendar.updated_at = self._tick()
        return 200, self._render_calendar(calendar)

    def _delete_calendar(self, calendar: _Calendar) -> None:
        # "Bots scheduled for the calendar's future events are cleaned up immediately."
        for event in [e for e in self._events.values() if e.calendar_id == calendar.id]:
            self._detach_bot(event)
            del self._events[event.id]
        del self._calendars[calendar.id]

    def _list_calendars(self, query: dict[str, list[str]]) -> tuple[int, Any]:
        items = self._sorted(self._calendars.values())
        platform = _first(query, "platform")
        status = _first(query, "status")
        email = _first(query, "email")
        created_gte = _first(query, "created_at__gte")
        if platform:
            items = [c for c in items if c.platform == platform]
        if status:
            items = [c for c in items if c.status == status]
        if email:
            items = [
                c for c in items if email.lower() in {(c.oauth_email or "").lower(), (c.platform_email or "").lower()}
            ]
        if created_gte:
            since = _parse_time(created_gte)
            items = [c for c in items if c.created_at >= since]
        return 200, self._page("/api/v2/calendars/", query, items, self._render_calendar)

    def _list_events(self, query: dict[str, list[str]]) -> tuple[int, Any]:
        items = [e for e in self._sorted(self._events.values()) if e.calendar_id in self._calendars]
        calendar_id = _first(query, "calendar_id")
        if calendar_id:
            items = [e for e in items if e.calendar_id == calendar_id]
        is_deleted = _first(query, "is_deleted")
        if is_deleted is not None:
            wanted = is_deleted.lower() in ("true", "1")
            items = [e for e in items if e.is_deleted is wanted]
        ical_uid = _first(query, "ical_uid")
        if ical_uid:
            items = [e for e in items if e.ical_uid.startswith(ical_uid)]
        for name, attr, compare in (
            ("start_time", "start_time", lambda a, b: a == b),
            ("start_time__gte", "start_time", lambda a, b: a >= b),
            ("start_time__lte", "start_time", lambda a, b: a <= b),
            ("updated_at__gte", "updated_at", lambda a, b: a >= b),
        ):
            value = _first(query, name)
            if value:
                bound = _parse_time(value)
                items = [e for e in items if compare(getattr(e, attr), bound)]
        return 200, self._page("/api/v2/calendar-events/", query, items, self._render_event)

    def _page(
        self, path: str, query: dict[str, list[str]], items: list[Any], render: Callable[[Any], dict[str, Any]]
    ) -> dict[str, Any]:
        """Cursor pagination like DRF's: absolute next/previous URLs carrying the filters."""
        keys = [(item.created_at, item.id) for item in items]
        start = 0
        cursor = _first(query, "cursor")
        if cursor:
            try:
                position = json.loads(base64.b64decode(cursor.encode(), validate=True))
                direction, stamp, item_id = position["d"], datetime.fromisoformat(position["t"]), position["i"]
            except (ValueError, KeyError, TypeError, binascii.Error):
                raise _ApiError(404, {"detail": "Invalid cursor"}) from None
            mark = (stamp, item_id)
            if direction == "next":
                start = next((i for i, key in enumerate(keys) if key > mark), len(keys))
            else:
                start = max(0, next((i for i, key in enumerate(keys) if key >= mark), len(keys)) - self.page_size)
        page = items[start : start + self.page_size]
        base = {key: values for key, values in query.items() if key != "cursor"}

        def link(direction: str, item: Any) -> str:
            token = json.dumps({"d": direction, "t": item.created_at.isoformat(), "i": item.id})
            params = [(k, v) for k, values in base.items() for v in values]
            params.append(("cursor", base64.b64encode(token.encode()).decode()))
            return f"{self.base_url}{path}?{urlencode(params)}"

        has_next = start + self.page_size < len(items)
        return {
            "next": link("next", page[-1]) if has_next and page else None,
            "previous": link("previous", page[0]) if start > 0 and page else None,
            "results": [render(item) for item in page],
        }

    def _schedule_bot(self, event: _Event, body: dict[str, Any]) -> tuple[int, Any]:
        now = self.now()
        if event.end_time <= now:
            raise _invalid({"non_field_errors": [ENDED_MESSAGE]})
        if event.is_deleted:
            # Assumption: Recall's docs do not say what a deleted event answers.
            raise _invalid({"non_field_errors": ["Cannot schedule bot as calendar event is deleted."]})
        config = dict(body["bot_config"])
        key = body["deduplication_key"]
        meeting_url = config.get("meeting_url") or event.meeting_url
        if not isinstance(meeting_url, str) or not meeting_url:
            # Assumption: a bot needs a link; the docs do not give this error's wording.
            raise _invalid({"non_field_errors": ["Calendar event does not have a meeting url."]})
        join_at = event.start_time
        if config.get("join_at") is not None:
            try:
                join_at = _parse_time(str(config["join_at"]))
            except ValueError:
                raise _invalid({"bot_config": {"join_at": ["Enter a valid date/time."]}}) from None
        current = self._bots.get(event.bot_id) if event.bot_id else None
        if current is not None and current.deduplication_key != key:
            self._detach_bot(event)
            current = None
        if current is None:
            shared_id = self._dedup.get(key)
            shared = self._bots.get(shared_id) if shared_id else None
            # Keys only deduplicate bots that have not joined yet.
            if shared is not None and shared.start_time > now and not shared.status_changes:
                current = shared
            else:
                current = _Bot(
                    id=str(uuid.uuid4()),
                    deduplication_key=key,
                    meeting_url=meeting_url,
                    start_time=join_at,
                    bot_config=config,
                    event_ids=set(),
                    created_at=now,
                )
                self._bots[current.id] = current
                self._dedup[key] = current.id
        # The most recent request wins: the whole config is replaced, never merged.
        current.bot_config = config
        current.meeting_url = meeting_url
        current.start_time = join_at
        current.event_ids.add(event.id)
        event.bot_id = current.id
        return 200, self._render_event(event)


class _Handler(BaseHTTPRequestHandler):
    recall: FakeRecall
    protocol_version = "HTTP/1.1"
    timeout = 10  # idle keep-alive connections close, so threads never linger
    # Headers and body in one buffered write, no Nagle: otherwise delayed ACKs cost ~40 ms a call.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, headers, payload = self.recall._handle(self.command, self.path, dict(self.headers.items()), body)
        if status == DROPPED:
            # Chaos "timeout": the client waits, then sees the connection closed without a reply.
            time.sleep(float(headers.get(_STALL_HEADER, "0")))
            self.close_connection = True
            return
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve

    def log_message(self, format: str, *args: Any) -> None:
        return


# ---- helpers -----------------------------------------------------------------------------------


def _route(path: str) -> tuple[str, dict[str, str]]:
    for template, pattern in _ROUTES:
        match = pattern.match(path)
        if match:
            return template, match.groupdict()
    raise _not_found()


def _string_map(value: Any) -> dict[str, Any]:
    return {str(key): item for key, item in value.items()} if isinstance(value, Mapping) else {}


def _s3_error(
    status: int, code: str, message: str, extra: Mapping[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """An S3-style XML error document."""
    fields = "".join(f"<{key}>{value}</{key}>" for key, value in (extra or {}).items())
    request_id = secrets.token_hex(8).upper()
    host_id = base64.b64encode(secrets.token_bytes(48)).decode()
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>{fields}"
        f"<RequestId>{request_id}</RequestId><HostId>{host_id}</HostId></Error>"
    )
    return status, {"Content-Type": "application/xml"}, body.encode()


# A few bytes that start like an MP4 (an ``ftyp`` box) and a transcript in Recall's download shape.
_FAKE_MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom\x00\x00\x00\x08free"
_FAKE_TRANSCRIPT: list[dict[str, Any]] = [
    {
        "participant": {"id": 100, "name": "Ada Lovelace", "is_host": True, "platform": "desktop", "extra_data": {}},
        "words": [
            {"text": "Hello", "start_timestamp": {"relative": 0.5}, "end_timestamp": {"relative": 0.9}},
            {"text": "everyone.", "start_timestamp": {"relative": 1.0}, "end_timestamp": {"relative": 1.6}},
        ],
    }
]


def _first(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _encode(status: int, headers: dict[str, str], payload: Any) -> tuple[dict[str, str], bytes]:
    out = dict(headers)
    if payload is None or status == 204:
        return out, b""
    if isinstance(payload, bytes):
        data = payload
    elif isinstance(payload, str):
        data = payload.encode()
        out.setdefault("Content-Type", "text/html" if payload.lstrip().startswith("<") else "text/plain")
    else:
        data = json.dumps(payload).encode()
        out.setdefault("Content-Type", "application/json")
    return out, data


def _attendee(value: Mapping[str, str] | str) -> dict[str, str]:
    if isinstance(value, str):
        value = {"email": value}
    email = value["email"]
    response = value.get("response", "needsAction")
    if response not in RESPONSES:
        raise ValueError(f"attendee response must be one of {RESPONSES}")
    return {
        "email": email,
        "name": value.get("name") or email.split("@")[0].replace(".", " ").title(),
        "response": response,
    }


_OUTLOOK_RESPONSE = {
    "accepted": "accepted",
    "declined": "declined",
    "tentative": "tentativelyAccepted",
    "needsAction": "notResponded",
}


def _google_raw(event: _Event) -> dict[str, Any]:
    """A Google Calendar v3 ``Event`` resource shaped like what Recall stores in ``raw``."""
    zone = ZoneInfo(event.time_zone)
    organizer: dict[str, Any] = {"email": event.organizer_email, "displayName": event.organizer_name}
    if event.is_organizer:
        organizer["self"] = True
    attendees: list[dict[str, Any]] = []
    if event.attendees or not event.is_organizer:
        me: dict[str, Any] = {"email": event.self_email, "self": True, "responseStatus": event.self_response}
        if event.is_organizer:
            me["organizer"] = True
        else:
            attendees.append(
                {
                    "email": event.organizer_email,
                    "displayName": event.organizer_name,
                    "organizer": True,
                    "responseStatus": "accepted",
                }
            )
        attendees.append(me)
        attendees.extend(
            {"email": a["email"], "displayName": a["name"], "responseStatus": a["response"]} for a in event.attendees
        )
    raw: dict[str, Any] = {
        "kind": "calendar#event",
        "etag": f'"{int(event.updated_at.timestamp() * 1000)}000"',
        "id": event.platform_id,
        "status": "cancelled" if event.is_deleted else "confirmed",
        "htmlLink": "https://www.google.com/calendar/event?eid="
        + base64.urlsafe_b64encode(f"{event.platform_id} {event.self_email}".encode()).decode().rstrip("="),
        "created": _google_time(event.made_at),
        "updated": _google_time(event.updated_at),
        "summary": event.title,
        "creator": dict(organizer),
        "organizer": organizer,
        "start": {"dateTime": event.start_time.astimezone(zone).isoformat(), "timeZone": event.time_zone},
        "end": {"dateTime": event.end_time.astimezone(zone).isoformat(), "timeZone": event.time_zone},
        "iCalUID": event.ical_uid,
        "sequence": event.sequence,
        "reminders": {"useDefault": True},
        "eventType": "default",
    }
    if event.description:
        raw["description"] = event.description
    if attendees:
        raw["attendees"] = attendees
    if event.meeting_url and event.meeting_platform == "google_meet":
        raw["hangoutLink"] = event.meeting_url
        code = event.meeting_url.rstrip("/").rsplit("/", 1)[-1]
        raw["conferenceData"] = {
            "entryPoints": [{"entryPointType": "video", "uri": event.meeting_url, "label": event.meeting_url[8:]}],
            "conferenceSolution": {"key": {"type": "hangoutsMeet"}, "name": "Google Meet"},
            "conferenceId": code,
        }
    elif event.meeting_url:
        raw["location"] = event.meeting_url
    if event.recurring_series_id:
        raw["recurringEventId"] = event.recurring_series_id
        raw["originalStartTime"] = dict(raw["start"])
    return raw


def _outlook_raw(event: _Event) -> dict[str, Any]:
    """A Microsoft Graph ``event`` resource shaped like what Recall stores in ``raw``."""
    response = "organizer" if event.is_organizer else _OUTLOOK_RESPONSE[event.self_response]
    never = "0001-01-01T00:00:00Z"
    teams = event.meeting_platform == "microsoft_teams" and bool(event.meeting_url)
    location_name = "Microsoft Teams Meeting" if teams else (event.meeting_url or "")
    location = {"displayName": location_name, "locationType": "default", "uniqueIdType": "unknown"}
    attendees = [
        {
            "type": "required",
            "status": {"response": _OUTLOOK_RESPONSE[a["response"]], "time": never},
            "emailAddress": {"name": a["name"], "address": a["email"]},
        }
        for a in event.attendees
    ]
    if not event.is_organizer:
        attendees.insert(
            0,
            {
                "type": "required",
                "status": {"response": response, "time": never},
                "emailAddress": {"name": event.self_email.split("@")[0], "address": event.self_email},
            },
        )
    link = f'<a href="{event.meeting_url}">Join the meeting now</a>' if event.meeting_url else ""
    change_key = base64.b64encode(f"{event.id}:{event.sequence}".encode()).decode()
    return {
        "@odata.etag": f'W/"{change_key}"',
        "id": event.platform_id,
        "createdDateTime": _graph_time(event.made_at),
        "lastModifiedDateTime": _graph_time(event.updated_at),
        "changeKey": change_key,
        "categories": [],
        "transactionId": None,
        "originalStartTimeZone": event.time_zone,
        "originalEndTimeZone": event.time_zone,
        "iCalUId": event.ical_uid,
        "uid": event.ical_uid,
        "reminderMinutesBeforeStart": 15,
        "isReminderOn": True,
        "hasAttachments": False,
        "subject": event.title,
        "bodyPreview": event.description[:255],
        "importance": "normal",
        "sensitivity": "normal",
        "isAllDay": False,
        "isCancelled": event.is_deleted,
        "isOrganizer": event.is_organizer,
        "responseRequested": True,
        "seriesMasterId": event.recurring_series_id,
        "showAs": "free" if event.self_response == "declined" else "busy",
        "type": "occurrence" if event.recurring_series_id else "singleInstance",
        "webLink": "https://outlook.office365.com/owa/?itemid="
        + event.platform_id.replace("=", "%3D")
        + "&exvsurl=1&path=/calendar/item",
        "onlineMeetingUrl": None,
        "isOnlineMeeting": teams,
        "onlineMeetingProvider": "teamsForBusiness" if teams else "unknown",
        "allowNewTimeProposals": True,
        "occurrenceId": None,
        "isDraft": False,
        "hideAttendees": False,
        "responseStatus": {
            "response": response,
            "time": never if response == "notResponded" else _graph_time(event.updated_at),
        },
        "body": {
            "contentType": "html",
            "content": f"<html><head></head><body><p>{event.description}</p>{link}</body></html>",
        },
        "start": {"dateTime": _graph_time(event.start_time)[:-1], "timeZone": "UTC"},
        "end": {"dateTime": _graph_time(event.end_time)[:-1], "timeZone": "UTC"},
        "location": location,
        "locations": [location] if location_name else [],
        "recurrence": None,
        "attendees": attendees,
        "organizer": {"emailAddress": {"name": event.organizer_name, "address": event.organizer_email}},
        "onlineMeeting": {"joinUrl": event.meeting_url} if teams else None,
    }
