"""A stateful fake Slack Web API ("twin") served on 127.0.0.1, held to Slack's own Web API spec in the tests.

Point the app at it with `AsyncWebClient(base_url=fake.base_url)`. Every `blocks` payload is checked against
slack_sdk's Block Kit models. Given a `contract` (the tests' `tests/twins/fake_slack.py` always gives one, read
from `contracts/slack/slack_web_openapi_v2.json` in lenient mode, see `tests/twins/slack_contract.py`), every
request is checked against Slack's Web API spec and every reply the twin sends against the spec's response schema.
Breaches land in `fake.violations` and are answered with a Slack error, so a test notices even when the app
swallows the error. The demo runs it without a contract.

Faults: `fail_next(...)` queues one-shot failures; `set_chaos(rate, seed=...)` fails that share of Web API
calls at random (5xx, 429, or a stalled connection dropped without a reply), always before any state changes
(unless asked for lost replies too: carried out, then dropped). `lose_next_reply`, `drop_next_request` and
`hold_reply` make one call's reply lost, its request dropped unseen, or its reply wait for a test.

Also here: the request builders and signing helper that scenario tests use to play Slack's side
(`slash_command_body`, `block_actions_body`, `event_body`, `sign_slack_request`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
import secrets
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, Protocol
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from slack_sdk.signature import SignatureVerifier

# Parameters whose value is JSON even in a form-encoded call.
JSON_VALUED_PARAMS = frozenset({"blocks", "attachments", "view", "metadata"})


class Operation(Protocol):
    @property
    def accepts_json(self) -> bool: ...

    @property
    def consumes(self) -> tuple[str, ...]: ...


class WebApiContract(Protocol):
    """Slack's Web API spec as the tests hold the twin to it (``tests/twins/slack_contract.py``)."""

    def operation(self, method: str) -> Operation | None: ...

    def validate_request(self, method: str, params: dict[str, Any]) -> list[str]: ...

    def validate_response(self, method: str, body: dict[str, Any]) -> list[str]: ...


class NoContract:
    """The demo's: every method the twin implements is taken as Slack documents it, nothing else is checked."""

    def operation(self, method: str) -> Operation | None:
        return None

    def validate_request(self, method: str, params: dict[str, Any]) -> list[str]:
        return []

    def validate_response(self, method: str, body: dict[str, Any]) -> list[str]:
        return []


# Block Kit limits (https://docs.slack.dev/reference/block-kit/blocks); slack_sdk checks the rest.
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_FIELD_CHARS = 2000
MAX_MESSAGE_TEXT_CHARS = 40_000
# A response_url takes at most 5 posts within 30 minutes (long-standing Slack docs; secondary source).
MAX_RESPONSE_URL_POSTS = 5

DEFAULT_APP_ID = "A0RECALL001"

# Slack's published per-workspace limits a minute (docs.slack.dev/apis/web-api/rate-limits and each method's page):
# Tier 3 = 50, Tier 4 = 100. A 60-second window: a burst up to the minute's budget is tolerated, as Slack does.
PUBLISHED_LIMITS: dict[str, int] = {
    "chat.update": 50,
    "conversations.open": 50,
    "views.publish": 100,
    "users.info": 100,
}
# chat.postMessage: Slack documents one message a second per channel (short bursts allowed) and an unpublished
# workspace-wide limit; the twin's default budget (a setting).
PUBLISHED_POST_BUDGET = 300
# Per channel: at most this many posts in any window of this many seconds (an average of one a second).
CHANNEL_WINDOW_SECONDS = 20
DEFAULT_CLIENT_ID = "1111111111.2222222222"
DEFAULT_CLIENT_SECRET = "fake-slack-client-secret"
DEFAULT_BOT_SCOPES: tuple[str, ...] = ("commands", "chat:write", "im:write", "im:history", "users:read")

# The scope each bot method needs (method docs on docs.slack.dev); `auth.test` and `views.publish` need none.
SCOPE_NEEDED: dict[str, str] = {
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "conversations.open": "im:write",
    "conversations.history": "im:history",  # the twin's channels are all DMs (`D...`)
    "users.info": "users:read",
}

# conversations.history: Tier 3 with up to 999 messages a page for internal (customer-built) and Marketplace
# apps; since 2025-05-29, commercially distributed apps outside the Marketplace get 1 call a minute and at most
# 15 messages a page (docs.slack.dev changelog 2025-05-29). `FakeSlack(history_limits=NON_MARKETPLACE_HISTORY)`.
INTERNAL_APP_HISTORY: tuple[int, int] = (50, 999)
NON_MARKETPLACE_HISTORY: tuple[int, int] = (1, 15)
DEFAULT_HISTORY_PAGE = 100
# Message metadata (docs.slack.dev/messaging/message-metadata): an event type of letters, digits and underscores.
METADATA_EVENT_TYPE_RE = re.compile(r"^[A-Za-z0-9_]{1,255}$")

# ID shapes the spec's own patterns demand of the replies (defs_workspace_id, defs_user_id, ...).
TEAM_ID_RE = re.compile(r"^T[A-Z0-9]{8,}$")
USER_ID_RE = re.compile(r"^[UW][A-Z0-9]{8,}$")
ENTERPRISE_ID_RE = re.compile(r"^E[A-Z0-9]{8,}$")

_TS_STEP_MICROS = 100


def _stable_id(prefix: str, *parts: str, length: int = 10) -> str:
    digest = hashlib.sha256(":".join(parts).encode()).hexdigest().upper()
    return prefix + digest[:length]


def dm_channel_id(team_id: str, user_id: str) -> str:
    """The stable DM channel id (`D...`) between the app and `user_id` in `team_id`."""
    return _stable_id("D", team_id, user_id)


def _check_id(kind: str, value: str, pattern: re.Pattern[str]) -> None:
    if not pattern.match(value):
        raise ValueError(
            f"{kind} {value!r} does not look like a Slack id ({pattern.pattern}); "
            "the spec's patterns would reject replies carrying it"
        )


# --------------------------------------------------------------------------- Block Kit checks


def _lost_in_round_trip(original: Any, parsed: Any, path: str) -> list[str]:
    """Fields of `original` that slack_sdk's models dropped or changed (typos, wrong types)."""
    if isinstance(original, dict):
        if not isinstance(parsed, dict):
            return [f"{path}: expected an object, slack_sdk read it as {parsed!r}"]
        problems = []
        for key, value in original.items():
            if key not in parsed:
                problems.append(f"{path}.{key}: unknown field (slack_sdk's Block Kit models drop it)")
            else:
                problems.extend(_lost_in_round_trip(value, parsed[key], f"{path}.{key}"))
        return problems
    if isinstance(original, list):
        if not isinstance(parsed, list) or len(parsed) != len(original):
            return [f"{path}: list not understood by slack_sdk's Block Kit models"]
        problems = []
        for i, (a, b) in enumerate(zip(original, parsed, strict=True)):
            problems.extend(_lost_in_round_trip(a, b, f"{path}[{i}]"))
        return problems
    if original != parsed:
        return [f"{path}: {original!r} is not valid here (slack_sdk reads it as {parsed!r})"]
    return []


def validate_blocks(blocks: Any, *, surface: Literal["message", "home", "modal"] = "message") -> list[str]:
    """Block Kit problems in `blocks` (empty list when valid), checked with slack_sdk's models."""
    if not isinstance(blocks, list):
        return [f"blocks must be a JSON array, got {type(blocks).__name__}"]
    limit = MAX_MESSAGE_BLOCKS if surface == "message" else MAX_VIEW_BLOCKS
    problems = []
    if len(blocks) > limit:
        problems.append(f"{len(blocks)} blocks; a {surface} takes at most {limit}")
    for i, raw in enumerate(blocks):
        where = f"blocks[{i}]"
        if not isinstance(raw, dict):
            problems.append(f"{where}: must be an object")
            continue
        try:
            block = Block.parse(raw)
            if block is None:
                problems.append(f"{where}: unknown block type {raw.get('type')!r}")
                continue
            parsed = block.to_dict()
        except Exception as exc:  # slack_sdk raises SlackObjectFormationError, sometimes others
            problems.append(f"{where} ({raw.get('type')}): {exc}")
            continue
        problems.extend(_lost_in_round_trip(raw, parsed, where))
        for j, item in enumerate(raw.get("fields") or []):
            if isinstance(item, dict) and len(str(item.get("text", ""))) > MAX_SECTION_FIELD_CHARS:
                problems.append(f"{where}.fields[{j}]: text longer than {MAX_SECTION_FIELD_CHARS} characters")
    return problems


def validate_view(view: Any, *, expected_type: str = "home") -> list[str]:
    """Problems with a view payload (type, blocks, slack_sdk's View limits)."""
    if not isinstance(view, dict):
        return [f"view must be a JSON object, got {type(view).__name__}"]
    problems = []
    if view.get("type") != expected_type:
        problems.append(f"view.type must be {expected_type!r}, got {view.get('type')!r}")
    blocks = view.get("blocks")
    if blocks is None:
        problems.append("view.blocks is required")
    else:
        problems.extend(f"view.{p}" for p in validate_blocks(blocks, surface="home"))
    if not problems:
        try:
            View(**view).to_dict()
        except Exception as exc:
            problems.append(f"view: {exc}")
    return problems


# --------------------------------------------------------------------------- state


@dataclass
class Workspace:
    """An installation of the app in one team: its bot token and bot user."""

    team_id: str
    team_name: str
    bot_token: str
    bot_user_id: str
    bot_id: str
    app_id: str
    scopes: tuple[str, ...]
    domain: str
    bot_name: str = "recall"
    enterprise_id: str | None = None


@dataclass
class User:
    """A member of a team, as `users.info` describes them."""

    team_id: str
    id: str
    name: str
    real_name: str
    display_name: str
    tz: str
    email: str | None = None
    is_bot: bool = False
    deleted: bool = False
    is_admin: bool = False
    is_owner: bool = False


@dataclass
class Call:
    """One Web API request the app made."""

    method: str
    params: dict[str, Any]
    token: str | None
    http_verb: str
    content_type: str
    fault: str | None = None  # the chaos fault it got ("5xx", "429", "timeout"), None if answered normally


@dataclass
class Message:
    """A message as it stands now in a channel (after any `chat.update`)."""

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]] | None
    team_id: str
    user: str
    bot_id: str
    app_id: str
    thread_ts: str | None = None
    edits: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] | None = None  # message metadata (event_type, event_payload), if the app set it

    def to_slack(self, *, with_metadata: bool = False) -> dict[str, Any]:
        """The message object as Slack returns it (and as it appears in `block_actions` payloads); metadata only
        where the caller asked for it (`conversations.history` with `include_all_metadata`)."""
        msg: dict[str, Any] = {
            "type": "message",
            "text": self.text,
            "user": self.user,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "ts": self.ts,
            "team": self.team_id,
        }
        if self.blocks is not None:
            msg["blocks"] = self.blocks
        if self.thread_ts:
            msg["thread_ts"] = self.thread_ts
        if with_metadata and self.metadata is not None:
            msg["metadata"] = self.metadata
        return msg


@dataclass
class Ephemeral:
    """An ephemeral message shown to one user (`chat.postEphemeral`)."""

    channel: str
    user: str
    text: str
    blocks: list[dict[str, Any]] | None
    team_id: str
    message_ts: str


@dataclass
class ResponsePost:
    """A POST the app made to a response_url."""

    name: str
    payload: dict[str, Any]

    @property
    def text(self) -> str | None:
        """The `text` field."""
        return self.payload.get("text")

    @property
    def blocks(self) -> list[dict[str, Any]] | None:
        """The `blocks` field."""
        return self.payload.get("blocks")

    @property
    def replace_original(self) -> bool:
        """Whether the post replaces the message holding the clicked button."""
        return _truthy(self.payload.get("replace_original"))

    @property
    def delete_original(self) -> bool:
        """Whether the post deletes the original message."""
        return _truthy(self.payload.get("delete_original"))

    @property
    def response_type(self) -> str | None:
        """`ephemeral` or `in_channel` (Slack treats absent as ephemeral)."""
        return self.payload.get("response_type")


@dataclass
class Violation:
    """A breach of Slack's contract by the app (or, for `kind == "reply"`, by the twin itself)."""

    method: str
    kind: str  # "request", "blocks", "reply" (the twin's own reply broke the spec) or "unsupported"
    message: str
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"[{self.kind}] {self.method}: {self.message}"


@dataclass
class _Failure:
    error: str
    status: int
    retry_after: int | None
    # The call is carried out, then the connection is closed without a reply (the client cannot tell).
    reply_lost: bool = False
    # The call is not carried out, and the connection is closed without a reply (nor can it tell this one).
    dropped: bool = False


# Chaos faults (`FakeSlack.set_chaos`): what kinds there are, and how Slack answers its server errors.
CHAOS_KINDS: tuple[str, ...] = ("5xx", "429", "timeout")
# Opt-in: the call is carried out and its reply lost (the only fault that changes state; see `set_chaos`).
LOST_REPLY = "lost_reply"
SERVER_ERRORS: tuple[tuple[int, str], ...] = ((500, "internal_error"), (503, "service_unavailable"))


@dataclass
class _Chaos:
    rate: float
    rng: random.Random
    stall_seconds: float
    kinds: tuple[str, ...] = CHAOS_KINDS


@dataclass
class _OAuthCode:
    team_id: str
    team_name: str
    user_id: str
    scopes: tuple[str, ...]
    redirect_uri: str | None
    enterprise_id: str | None


@dataclass
class _Installer:
    team_id: str
    team_name: str
    user_id: str
    deny: bool


@dataclass
class ReplyHold:
    """A gate between carrying out a call and replying to it (see `FakeSlack.hold_reply`)."""

    method: str
    timeout: float
    entered: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    taken: bool = False  # a call has been carried out under it (one call per hold)

    def wait(self) -> None:
        self.entered.set()
        self.released.wait(self.timeout)

    def release(self) -> None:
        self.released.set()


@dataclass
class _Reply:
    status: int
    body: bytes
    headers: dict[str, str]
    # Chaos "timeout": hold the request this many seconds, then close the connection without any reply.
    drop_after: float | None = None
    # Carried out already; the reply waits for this gate (a test kills the caller meanwhile).
    hold: ReplyHold | None = None


class _ApiError(Exception):
    """Raised inside handlers to answer `{"ok": false, "error": ...}`."""

    def __init__(self, error: str, *, violation: str | None = None, kind: str = "request", **extra: Any):
        super().__init__(error)
        self.error = error
        self.violation = violation
        self.kind = kind
        self.extra = extra


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in {"true", "1"}
    return bool(value)


def _json_reply(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> _Reply:
    return _Reply(
        status=status,
        body=json.dumps(body).encode(),
        headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})},
    )


# --------------------------------------------------------------------------- the twin


class FakeSlack:
    """Stateful fake Slack Web API on 127.0.0.1 (see the module docstring); use as a context manager."""

    def __init__(
        self,
        *,
        app_id: str = DEFAULT_APP_ID,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        contract: WebApiContract | None = None,
        published_limits: bool = True,
        post_budget_per_minute: int = PUBLISHED_POST_BUDGET,
        history_limits: tuple[int, int] = INTERNAL_APP_HISTORY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``published_limits``: answer 429 with Retry-After past Slack's published per-workspace limits (Tier 3
        `chat.update`, `conversations.open`; Tier 4 `views.publish`, `users.info`; `chat.postMessage` one a
        second per channel after a short burst, and ``post_budget_per_minute`` across the workspace: Slack
        publishes no number for that one, so it is a setting)."""
        self.app_id = app_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.contract: WebApiContract = contract or NoContract()
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._workspaces: dict[str, Workspace] = {}  # by team_id (latest installation)
        self._tokens: dict[str, Workspace] = {}
        self._revoked: set[str] = set()
        self._users: dict[tuple[str, str], User] = {}
        self._dms: dict[tuple[str, str], str] = {}  # (team, user) -> D...
        self._dm_owner: dict[str, tuple[str, str]] = {}  # D... -> (team, user)
        self._opened: set[str] = set()
        self._messages: dict[tuple[str, str], Message] = {}
        self._ephemerals: list[Ephemeral] = []
        self._home_views: dict[tuple[str, str], dict[str, Any]] = {}
        self._view_hashes: dict[tuple[str, str], str] = {}
        self._codes: dict[str, _OAuthCode] = {}
        self._installer: _Installer | None = None
        self._response_urls: dict[str, list[ResponsePost]] = {}
        self._calls: list[Call] = []
        self._failures: dict[str, deque[_Failure]] = defaultdict(deque)
        self._reply_holds: list[ReplyHold] = []
        self._rate_limits: dict[str, int] = dict(PUBLISHED_LIMITS) if published_limits else {}
        if published_limits:
            self._rate_limits["chat.postMessage"] = post_budget_per_minute
            self._rate_limits["conversations.history"] = history_limits[0]
        self._history_page_max = history_limits[1]
        self._clock = clock
        self._per_channel = published_limits
        self._rate_windows: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._channel_windows: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self.rate_limited: list[tuple[str, str]] = []  # (team, method) of every 429 the limits caused
        self._ts_micros = 0
        self.violations: list[Violation] = []
        self._chaos: _Chaos | None = None
        self.chaos_counts: Counter[str] = Counter()  # faults injected by `set_chaos`, by kind (CHAOS_KINDS)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeSlack:
        """Bind a free port on 127.0.0.1 and serve in a background thread."""
        if self._server is not None:
            return self
        handler = _make_handler(self)
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-slack", daemon=True
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving; waits at most `timeout` seconds for the server thread."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        stopper = threading.Thread(target=server.shutdown, daemon=True)
        stopper.start()
        stopper.join(timeout)
        server.server_close()
        thread.join(timeout)
        self._server = self._thread = None
        if thread.is_alive():
            raise RuntimeError(f"FakeSlack server thread did not stop within {timeout}s")

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Root URL of the twin, e.g. `http://127.0.0.1:PORT/`."""
        if self._server is None:
            raise RuntimeError("FakeSlack is not running; call start() or use it as a context manager")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    @property
    def base_url(self) -> str:
        """Web API base for `AsyncWebClient(base_url=...)` / `SLACK_API_URL`; ends with `/api/`."""
        return self.url + "api/"

    @property
    def authorize_url(self) -> str:
        """Stand-in for `https://slack.com/oauth/v2/authorize` (OAuthSettings.authorization_url)."""
        return self.url + "oauth/v2/authorize"

    # ------------------------------------------------------------------ setup helpers

    def add_workspace(
        self,
        team_id: str,
        team_name: str,
        *,
        bot_token: str | None = None,
        bot_user_id: str | None = None,
        scopes: Iterable[str] = DEFAULT_BOT_SCOPES,
        enterprise_id: str | None = None,
    ) -> Workspace:
        """Register an installation (single-workspace bot token); returns it with its token."""
        _check_id("team_id", team_id, TEAM_ID_RE)
        if bot_user_id is not None:
            _check_id("bot_user_id", bot_user_id, USER_ID_RE)
        if enterprise_id is not None:
            _check_id("enterprise_id", enterprise_id, ENTERPRISE_ID_RE)
        with self._lock:
            existing = self._workspaces.get(team_id)
            ws = Workspace(
                team_id=team_id,
                team_name=team_name,
                bot_token=bot_token or self._new_token(team_id),
                bot_user_id=bot_user_id or (existing.bot_user_id if existing else _stable_id("U", "bot", team_id)),
                bot_id=existing.bot_id if existing else _stable_id("B", "bot", team_id),
                app_id=self.app_id,
                scopes=tuple(scopes),
                domain=re.sub(r"[^a-z0-9-]", "-", team_name.lower()).strip("-") or team_id.lower(),
                enterprise_id=enterprise_id,
            )
            self._workspaces[team_id] = ws
            self._tokens[ws.bot_token] = ws
            self._revoked.discard(ws.bot_token)
            return ws

    def workspace(self, team_id: str) -> Workspace:
        """The latest installation in `team_id`."""
        with self._lock:
            return self._workspaces[team_id]

    def deactivate_user(self, team_id: str, user_id: str) -> None:
        """The member left or was deactivated: `users.info` then says `deleted: true`."""
        with self._lock:
            self._users[(team_id, user_id)].deleted = True

    def add_user(
        self,
        team_id: str,
        user_id: str,
        *,
        name: str,
        tz: str = "America/New_York",
        email: str | None = None,
        real_name: str | None = None,
        display_name: str | None = None,
        is_bot: bool = False,
        is_admin: bool = False,
        is_owner: bool = False,
    ) -> User:
        """Register a member so `users.info`, `conversations.open` and DMs know them."""
        _check_id("team_id", team_id, TEAM_ID_RE)
        _check_id("user_id", user_id, USER_ID_RE)
        ZoneInfo(tz)  # fail fast on a typo
        user = User(
            team_id=team_id,
            id=user_id,
            name=name,
            real_name=real_name or name.replace(".", " ").title(),
            display_name=display_name if display_name is not None else name,
            tz=tz,
            email=email if email is not None else f"{name}@example.com",
            is_bot=is_bot,
            is_admin=is_admin or is_owner,  # Slack reports owners as admins too
            is_owner=is_owner,
        )
        with self._lock:
            self._users[(team_id, user_id)] = user
        return user

    def issue_oauth_code(
        self,
        *,
        team_id: str,
        team_name: str,
        user_id: str,
        scopes: Iterable[str] = DEFAULT_BOT_SCOPES,
        redirect_uri: str | None = None,
        enterprise_id: str | None = None,
    ) -> str:
        """A single-use code that `oauth.v2.access` exchanges for a new bot token in `team_id`."""
        _check_id("team_id", team_id, TEAM_ID_RE)
        _check_id("user_id", user_id, USER_ID_RE)
        code = f"{secrets.randbelow(10**12)}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"
        with self._lock:
            self._codes[code] = _OAuthCode(team_id, team_name, user_id, tuple(scopes), redirect_uri, enterprise_id)
        return code

    def set_installer(self, *, team_id: str, team_name: str, user_id: str, deny: bool = False) -> None:
        """Who "clicks Allow" (or Cancel, with `deny=True`) on the next `authorize_url` visit."""
        _check_id("team_id", team_id, TEAM_ID_RE)
        _check_id("user_id", user_id, USER_ID_RE)
        with self._lock:
            self._installer = _Installer(team_id, team_name, user_id, deny)

    def revoke(self, token: str) -> None:
        """Revoke a token; later calls with it get `token_revoked`."""
        with self._lock:
            self._revoked.add(token)

    def uninstall(self, team_id: str) -> None:
        """Revoke every token issued for `team_id` (the app was uninstalled)."""
        with self._lock:
            self._revoked.update(t for t, ws in self._tokens.items() if ws.team_id == team_id)

    def dm_channel(self, team_id: str, user_id: str) -> str:
        """The stable DM channel id for (team, user), as `conversations.open` returns it."""
        with self._lock:
            key = (team_id, user_id)
            if key not in self._dms:
                channel = dm_channel_id(team_id, user_id)
                self._dms[key] = channel
                self._dm_owner[channel] = key
            return self._dms[key]

    def response_url(self, name: str) -> str:
        """A response_url on the twin that records what the app POSTs to it (see `response_posts`)."""
        with self._lock:
            self._response_urls.setdefault(name, [])
        return f"{self.url}response/{quote(name, safe='')}"

    def fail_next(
        self, method: str, error: str = "ratelimited", status: int = 429, retry_after: int | None = 1
    ) -> None:
        """Make the next call to `method` fail with `error` (HTTP `status`, `Retry-After` on 429)."""
        with self._lock:
            self._failures[method].append(_Failure(error, status, retry_after if status == 429 else None))

    def lose_next_reply(self, method: str) -> None:
        """Carry out the next call to `method`, then close the connection without replying: the caller cannot
        tell whether it happened (a reply lost on the network, or a proxy timing out after Slack acted)."""
        with self._lock:
            self._failures[method].append(_Failure("", 200, None, reply_lost=True))

    def hold_reply(self, method: str, *, timeout: float = 30.0) -> ReplyHold:
        """Carry out the next call to `method`, then keep its reply until ``release()`` (or ``timeout``):
        ``hold.entered`` tells a test that Slack has acted and the caller is still waiting to hear it."""
        hold = ReplyHold(method, timeout)
        with self._lock:
            self._reply_holds.append(hold)
        return hold

    def release_holds(self) -> None:
        with self._lock:
            holds, self._reply_holds = self._reply_holds, []
        for hold in holds:
            hold.release()

    def drop_next_request(self, method: str) -> None:
        """Close the connection of the next call to `method` without carrying it out or replying."""
        with self._lock:
            self._failures[method].append(_Failure("", 200, None, dropped=True))

    def set_chaos(
        self,
        rate: float,
        *,
        seed: int | None = None,
        stall_seconds: float = 2.0,
        kinds: tuple[str, ...] = CHAOS_KINDS,
    ) -> None:
        """Fail a share ``rate`` (0..1) of Web API calls at random, before they change anything; 0 switches it off.

        Each faulted call gets one kind, drawn at random: "5xx" (HTTP 500 `internal_error` or 503
        `service_unavailable`, Slack's JSON error envelope), "429" (`ratelimited`, `Retry-After: 1`) or "timeout"
        (the request is held ``stall_seconds``, then the connection is closed without any reply). ``seed`` makes the
        sequence of draws reproducible (for the same sequence of calls). Only `/api/` methods are affected, never
        response_urls or the consent page. `chaos_counts` counts the faults by kind; it is never reset here.
        ``kinds`` may add `LOST_REPLY`: the call is carried out, then the connection closes without a reply (the one
        fault after which the caller cannot know what happened)."""
        if not 0 <= rate <= 1:
            raise ValueError("rate must be between 0 and 1")
        if stall_seconds < 0:
            raise ValueError("stall_seconds must not be negative")
        with self._lock:
            unknown = set(kinds) - {*CHAOS_KINDS, LOST_REPLY}
            if unknown or not kinds:
                raise ValueError(f"unknown chaos kinds: {sorted(unknown)}")
            self._chaos = _Chaos(rate, random.Random(seed), stall_seconds, tuple(kinds)) if rate > 0 else None

    def _chaos_reply(self, method: str, params: dict[str, Any]) -> tuple[str, _Reply | None] | None:
        """A fault for this call if chaos picks one (called under the lock, before any state changes)."""
        chaos = self._chaos
        if chaos is None or chaos.rng.random() >= chaos.rate:
            return None
        kind = chaos.rng.choice(chaos.kinds)
        self.chaos_counts[kind] += 1
        if kind == LOST_REPLY:
            return kind, None
        if kind == "timeout":
            return kind, _Reply(0, b"", {}, drop_after=chaos.stall_seconds)
        if kind == "429":
            body = {"ok": False, "error": "ratelimited"}
            return kind, self._finish(method, params, body, status=429, headers={"Retry-After": "1"})
        status, error = chaos.rng.choice(SERVER_ERRORS)
        return kind, self._finish(method, params, {"ok": False, "error": error}, status=status)

    def set_rate_limit(self, method: str, per_minute: int | None) -> None:
        """Rate-limit `method` per workspace (off by default); None switches it off again."""
        with self._lock:
            if per_minute is None:
                self._rate_limits.pop(method, None)
            else:
                self._rate_limits[method] = per_minute

    # ------------------------------------------------------------------ inspection helpers

    @property
    def calls(self) -> list[Call]:
        """Every Web API call so far, oldest first."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        """Calls to one method, e.g. `calls_to("chat.postMessage")`."""
        return [c for c in self.calls if c.method == method]

    def reset_calls(self) -> None:
        """Forget recorded calls and response_url posts (state such as messages is kept)."""
        with self._lock:
            self._calls.clear()
            for posts in self._response_urls.values():
                posts.clear()

    def messages(self, channel: str | None = None) -> list[Message]:
        """Messages as they stand now, in posting order, optionally in one channel."""
        with self._lock:
            return [m for m in self._messages.values() if channel is None or m.channel == channel]

    def message(self, channel: str, ts: str) -> Message:
        """One message by channel and ts."""
        with self._lock:
            return self._messages[(channel, ts)]

    def ephemerals(self, channel: str | None = None) -> list[Ephemeral]:
        """Ephemeral messages posted with `chat.postEphemeral`."""
        with self._lock:
            return [e for e in self._ephemerals if channel is None or e.channel == channel]

    def home_view(self, user_id: str, team_id: str | None = None) -> dict[str, Any] | None:
        """The Home view last published for the user (as the app sent it), or None."""
        with self._lock:
            found = [v for (t, u), v in self._home_views.items() if u == user_id and team_id in (None, t)]
        if len(found) > 1:
            raise ValueError(f"user {user_id} has Home views in several teams; pass team_id")
        return found[0] if found else None

    def response_posts(self, name: str | None = None) -> list[ResponsePost]:
        """What the app POSTed to response_urls, optionally to one of them."""
        with self._lock:
            if name is not None:
                return list(self._response_urls.get(name, []))
            return [p for posts in self._response_urls.values() for p in posts]

    def assert_no_violations(self) -> None:
        """Fail with every recorded contract violation listed."""
        with self._lock:
            found = list(self.violations)
        if found:
            raise AssertionError("Slack contract violations:\n" + "\n".join(f"  {v}" for v in found))

    # ------------------------------------------------------------------ request handling

    def _new_token(self, team_id: str) -> str:
        return f"xoxb-{int(hashlib.sha256(team_id.encode()).hexdigest()[:10], 16)}-{secrets.token_hex(12)}"

    def _next_ts(self) -> str:
        """The time of posting, as Slack's ts is, made unique within the twin."""
        self._ts_micros = max(self._ts_micros + _TS_STEP_MICROS, int(self._clock() * 1_000_000))
        return f"{self._ts_micros // 1_000_000}.{self._ts_micros % 1_000_000:06d}"

    def _violate(self, method: str, kind: str, message: str, params: dict[str, Any]) -> None:
        self.violations.append(Violation(method=method, kind=kind, message=message, params=params))

    def handle_api(self, method: str, *, http_verb: str, headers: dict[str, str], query: str, body: bytes) -> _Reply:
        """Answer one Web API request (called by the HTTP handler; usable directly in unit tests)."""
        with self._lock:
            content_type = headers.get("content-type", "").split(";")[0].strip().lower()
            is_json = content_type == "application/json"
            params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
            if is_json:
                try:
                    decoded = json.loads(body or b"{}")
                except ValueError:
                    return self._finish(method, params, {"ok": False, "error": "invalid_json"})
                if not isinstance(decoded, dict):
                    return self._finish(method, params, {"ok": False, "error": "json_not_object"})
                # Slack ignores a token inside a JSON body: it must come as a Bearer header.
                decoded.pop("token", None)
                params.update({k: v for k, v in decoded.items() if v is not None})
            else:
                params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            token = _bearer(headers.get("authorization", "")) or (None if is_json else params.get("token"))
            params.pop("token", None)
            decode_error: _ApiError | None = None
            try:
                self._decode_json_params(params)
            except _ApiError as err:
                decode_error = err
            call = Call(method, dict(params), token, http_verb, content_type)
            self._calls.append(call)

            failures = self._failures.get(method)
            reply_lost = bool(failures) and failures[0].reply_lost
            if reply_lost:
                failures.popleft()
            if failures and not reply_lost:
                failure = failures.popleft()
                if failure.dropped:
                    return _Reply(0, b"", {}, drop_after=0.0)
                extra = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
                return self._finish(
                    method, params, {"ok": False, "error": failure.error}, status=failure.status, headers=extra
                )
            chaotic = self._chaos_reply(method, params)
            if chaotic is not None:
                call.fault, chaos_reply = chaotic
                if chaos_reply is None:
                    reply_lost = True  # carried out below, then the reply is lost
                else:
                    return chaos_reply

            op = self.contract.operation(method)
            handler = self._handlers().get(method)
            if handler is None:
                if op is not None:
                    self._violate(method, "unsupported", "the twin does not implement this method yet", params)
                return self._finish(method, params, {"ok": False, "error": "unknown_method"}, validate=False)
            if is_json and op is not None and not op.accepts_json:
                self._violate(method, "request", f"sent as JSON, but the spec accepts only {list(op.consumes)}", params)
                return self._finish(method, params, {"ok": False, "error": "invalid_form_data"})

            try:
                ws = None if method == "oauth.v2.access" else self._authenticate(token)
                if ws is not None:
                    self._check_scope(method, ws)
                    limited = self._rate_limited(method, ws, str(params.get("channel") or "") or None)
                    if limited is not None:
                        return self._finish(
                            method,
                            params,
                            {"ok": False, "error": "ratelimited"},
                            status=429,
                            headers={"Retry-After": str(limited)},
                        )
                if decode_error is not None:
                    raise decode_error
                problems = self.contract.validate_request(method, params)
                if problems:
                    raise _ApiError(
                        "invalid_arguments",
                        violation="; ".join(problems),
                        response_metadata={"messages": [f"[ERROR] {p}" for p in problems]},
                    )
                body_out = handler(ws, params, headers)
            except _ApiError as err:
                if err.violation:
                    self._violate(method, err.kind, err.violation, params)
                return self._finish(method, params, {"ok": False, "error": err.error, **err.extra})
            # Slack names the token's granted scopes on every Web API reply (docs.slack.dev: "x-oauth-scopes").
            granted = {"x-oauth-scopes": ",".join(ws.scopes)} if ws is not None else None
            reply = self._finish(method, params, body_out, headers=granted)
            if reply_lost:
                return _Reply(0, b"", {}, drop_after=0.0)
            hold = next((h for h in self._reply_holds if h.method == method and not h.taken), None)
            if hold is not None:
                hold.taken, reply.hold = True, hold
            return reply

    def _finish(
        self,
        method: str,
        params: dict[str, Any],
        body: dict[str, Any],
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        validate: bool = True,
    ) -> _Reply:
        if validate:
            for problem in self.contract.validate_response(method, body):
                self._violate(method, "reply", f"twin reply breaks the spec: {problem}", params)
        return _json_reply(body, status, headers)

    def _authenticate(self, token: str | None) -> Workspace:
        if not token:
            raise _ApiError("not_authed")
        if token in self._revoked:
            raise _ApiError("token_revoked")
        ws = self._tokens.get(token)
        if ws is None:
            raise _ApiError("invalid_auth")
        return ws

    def _check_scope(self, method: str, ws: Workspace) -> None:
        needed = SCOPE_NEEDED.get(method)
        if needed and needed not in ws.scopes:
            raise _ApiError("missing_scope", needed=needed, provided=",".join(ws.scopes))

    def _rate_limited(self, method: str, ws: Workspace, channel: str | None = None) -> int | None:
        """Seconds to wait (Retry-After) if this call is over a limit, else None (and the call is counted)."""
        now = time.monotonic()
        if method == "chat.postMessage" and channel and self._per_channel:
            # One a second per channel on average, with a short burst tolerated.
            seen = self._channel_windows[(ws.team_id, channel)]
            while seen and now - seen[0] >= CHANNEL_WINDOW_SECONDS:
                seen.popleft()
            if len(seen) >= CHANNEL_WINDOW_SECONDS:
                self.rate_limited.append((ws.team_id, method))
                return max(1, int(CHANNEL_WINDOW_SECONDS - (now - seen[0])) + 1)
        per_minute = self._rate_limits.get(method)
        if per_minute is not None:
            window = self._rate_windows[(ws.team_id, method)]
            while window and now - window[0] >= 60:
                window.popleft()
            if len(window) >= per_minute:
                self.rate_limited.append((ws.team_id, method))
                return max(1, int(60 - (now - window[0])) + 1)
            window.append(now)
        if method == "chat.postMessage" and channel and self._per_channel:
            self._channel_windows[(ws.team_id, channel)].append(now)
        return None

    def _decode_json_params(self, params: dict[str, Any]) -> None:
        for name in JSON_VALUED_PARAMS & params.keys():
            value = params[name]
            if isinstance(value, str):
                try:
                    params[name] = json.loads(value) if value.strip() else None
                except ValueError as exc:
                    error = "invalid_blocks_format" if name == "blocks" else "invalid_arguments"
                    raise _ApiError(error, violation=f"`{name}` is not valid JSON: {exc}") from exc

    def _handlers(self) -> dict[str, Callable[[Any, dict[str, Any], dict[str, str]], dict[str, Any]]]:
        return {
            "auth.test": self._auth_test,
            "oauth.v2.access": self._oauth_v2_access,
            "conversations.open": self._conversations_open,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "conversations.history": self._conversations_history,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "views.publish": self._views_publish,
            "users.info": self._users_info,
        }

    # ------------------------------------------------------------------ methods

    def _auth_test(self, ws: Workspace, params: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{ws.domain}.slack.com/",
            "team": ws.team_name,
            "user": ws.bot_name,
            "team_id": ws.team_id,
            "user_id": ws.bot_user_id,
            "bot_id": ws.bot_id,
            "is_enterprise_install": False,
        }

    def _oauth_v2_access(self, _: None, params: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        client_id, client_secret = _basic_auth(headers.get("authorization", ""))
        client_id = client_id or params.get("client_id")
        client_secret = client_secret or params.get("client_secret")
        if client_id != self.client_id:
            raise _ApiError("invalid_client_id")
        if client_secret != self.client_secret:
            raise _ApiError("bad_client_secret")
        grant = self._codes.pop(str(params.get("code")), None)
        if grant is None:
            raise _ApiError("invalid_code")
        redirect_uri = params.get("redirect_uri")
        if grant.redirect_uri and redirect_uri and redirect_uri != grant.redirect_uri:
            raise _ApiError("bad_redirect_uri")
        existing = self._workspaces.get(grant.team_id)
        ws = self.add_workspace(
            grant.team_id,
            grant.team_name,
            bot_user_id=existing.bot_user_id if existing else None,
            scopes=grant.scopes,
            enterprise_id=grant.enterprise_id,
        )
        return {
            "ok": True,
            "access_token": ws.bot_token,
            "token_type": "bot",
            "scope": ",".join(ws.scopes),
            "bot_user_id": ws.bot_user_id,
            "app_id": ws.app_id,
            "team": {"id": ws.team_id, "name": ws.team_name},
            "enterprise": {"id": ws.enterprise_id, "name": "Enterprise"} if ws.enterprise_id else None,
            "authed_user": {"id": grant.user_id},
            "is_enterprise_install": False,
        }

    def _user_in(self, ws: Workspace, user_id: str) -> User | None:
        return self._users.get((ws.team_id, user_id))

    def _conversations_open(self, ws: Workspace, params: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        channel = params.get("channel")
        users = [u.strip() for u in str(params.get("users") or "").split(",") if u.strip()]
        if channel:
            owner = self._dm_owner.get(str(channel))
            if owner is None or owner[0] != ws.team_id:
                raise _ApiError("channel_not_found")
            user_id = owner[1]
        elif not users:
            raise _ApiError("users_list_not_supplied")
        elif len(users) > 1:
            raise _ApiError(
                "invalid_arguments",
                violation="multi-person DMs (mpim) are not supported by the twin",
                kind="unsupported",
            )
        else:
            user_id = users[0]
            user = self._user_in(ws, user_id)
            if user is None:
                raise _ApiError("user_not_found")
            if user.deleted:
                raise _ApiError("user_disabled")
        channel_id = self.dm_channel(ws.team_id, user_id)
        already = channel_id in self._opened
        self._opened.add(channel_id)
        payload: dict[str, Any] = {"id": channel_id}
        if _truthy(params.get("return_im")):
            payload.update(
                {
                    "is_im": True,
                    "is_open": True,
                    "user": user_id,
                    "last_read": "0000000000.000000",
                    "unread_count": 0,
                    "unread_count_display": 0,
                }
            )
        reply: dict[str, Any] = {"ok": True, "channel": payload}
        if already:
            reply.update({"no_op": True, "already_open": True})
        return reply

    def _resolve_channel(self, ws: Workspace, channel: str) -> str:
        """A DM channel id for `channel` (a D... id, or a user id, which Slack maps to the app DM)."""
        if USER_ID_RE.match(channel):
            if self._user_in(ws, channel) is None:
                raise _ApiError("channel_not_found")
            return self.dm_channel(ws.team_id, channel)
        owner = self._dm_owner.get(channel)
        if owner is None or owner[0] != ws.team_id:
            raise _ApiError("channel_not_found")
        return channel

    def _check_message_content(
        self, params: dict[str, Any], *, surface_method: str, require_content: bool = True
    ) -> list[dict[str, Any]] | None:
        blocks = params.get("blocks")
        text = params.get("text")
        if blocks is not None:
            problems = validate_blocks(blocks)
            if problems:
                raise _ApiError(
                    "invalid_blocks",
                    violation="; ".join(problems),
                    kind="blocks",
                    response_metadata={"messages": [f"[ERROR] {p}" for p in problems]},
                )
            if blocks and not (isinstance(text, str) and text.strip()):
                raise _ApiError("no_text", violation="blocks sent without a `text` fallback")
        elif require_content and not (isinstance(text, str) and text.strip()) and not params.get("attachments"):
            raise _ApiError("no_text", violation=f"{surface_method} without text, blocks or attachments")
        if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT_CHARS:
            raise _ApiError("msg_too_long", violation=f"text longer than {MAX_MESSAGE_TEXT_CHARS} characters")
        return blocks

    def _check_metadata(self, params: dict[str, Any]) -> dict[str, Any] | None:
        """Message metadata as Slack takes it: `{"event_type": "...", "event_payload": {...}}`, or absent."""
        metadata = params.get("metadata")
        if metadata is None:
            return None
        if (
            not isinstance(metadata, dict)
            or not isinstance(metadata.get("event_type"), str)
            or not METADATA_EVENT_TYPE_RE.match(metadata["event_type"])
            or not isinstance(metadata.get("event_payload"), dict)
        ):
            raise _ApiError(
                "invalid_metadata_format",
                violation="`metadata` must be {event_type: [A-Za-z0-9_]+, event_payload: object}",
            )
        return {"event_type": metadata["event_type"], "event_payload": metadata["event_payload"]}

    def _conversations_history(self, ws: Workspace, params: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        """A channel's messages, newest first, between `oldest` and `latest` (exclusive unless `inclusive`),
        `limit` a page (Slack's default 100, capped by the app's kind), `cursor` for the next page."""
        channel = self._resolve_channel(ws, str(params.get("channel") or ""))

        def number(name: str, default: float) -> float:
            value = params.get(name)
            if value in (None, ""):
                return default
            try:
                return float(value)
            except (TypeError, ValueError) as exc:
                raise _ApiError("invalid_arguments", violation=f"`{name}` is not a number") from exc

        oldest, latest = number("oldest", 0.0), number("latest", float("inf"))
        inclusive = _truthy(params.get("inclusive"))
        limit = int(number("limit", DEFAULT_HISTORY_PAGE))
        limit = max(1, min(limit, self._history_page_max))
        with_metadata = _truthy(params.get("include_all_metadata"))
        found = sorted(
            (
                m
                for (c, _), m in self._messages.items()
                if c == channel
                and m.thread_ts is None
                and (oldest <= float(m.ts) <= latest if inclusive else oldest < float(m.ts) < latest)
            ),
            key=lambda m: float(m.ts),
            reverse=True,
        )
        cursor = str(params.get("cursor") or "")
        start = 0
        if cursor:
            try:
                start = int(base64.b64decode(cursor).decode().removeprefix("next:"))
            except ValueError as exc:
                raise _ApiError("invalid_cursor") from exc
        page = found[start : start + limit]
        has_more = start + limit < len(found)
        body: dict[str, Any] = {
            "ok": True,
            "messages": [m.to_slack(with_metadata=with_metadata) for m in page],
            "has_more": has_more,
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
        }
        if has_more:
            body["response_metadata"] = {"next_cursor": base64.b64encode(f"next:{start + limit}".encode()).decode()}
        return body

    def _chat_post_message(self, ws: Workspace, params: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        channel = self._resolve_channel(ws, str(params["channel"]))
        blocks = self._check_message_content(params, surface_method="chat.postMessage")
        thread_ts = params.get("thread_ts") or None
        if thread_ts and (channel, thread_ts) not in self._messages:
            raise _ApiError("thread_not_found")
        msg = Message(
            channel=channel,
            ts=self._next_ts(),
            text=str(params.get("text") or ""),
            blocks=blocks,
            team_id=ws.team_id,
            user=ws.bot_user_id,
            bot_id=ws.bot_id,
            app_id=ws.app_id,
            thread_ts=thread_ts,
            metadata=self._check_metadata(params),
        )
        self._messages[(channel, msg.ts)] = msg
        return {"ok": True, "channel": channel, "ts": msg.ts, "message": msg.to_slack()}

    def _chat_update(self, ws: Workspace, params: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        channel = self._resolve_channel(ws, str(params["channel"]))
        msg = self._messages.get((channel, str(params["ts"])))
        if msg is None:
            raise _ApiError("message_not_found")
        if msg.bot_id != ws.bot_id:
            raise _ApiError("cant_update_message")
        # Omitted blocks keep the old ones; an empty list removes them (chat.update docs).
        has_blocks = "blocks" in params and params["blocks"] is not None
        text = params.get("text")
        if not has_blocks and msg.blocks and not (isinstance(text, str) and text.strip()):
            params = {**params, "text": msg.text}
        blocks = self._check_message_content(params, surface_method="chat.update")
        metadata = self._check_metadata(params)
        msg.history.append(msg.to_slack())
        if metadata is not None:
            msg.metadata = metadata
        if text is not None:
            msg.text = str(text)
        if has_blocks:
            msg.blocks = blocks or None
        msg.edits += 1
        body = msg.to_slack()
        body.pop("thread_ts", None)
        return {"ok": True, "channel": channel, "ts": msg.ts, "text": msg.text, "message": body}

    def _chat_post_ephemeral(self, ws: Workspace, params: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        channel = self._resolve_channel(ws, str(params["channel"]))
        user_id = str(params["user"])
        owner = self._dm_owner.get(channel)
        if self._user_in(ws, user_id) is None or (owner is not None and owner[1] != user_id):
            raise _ApiError("user_not_in_channel")
        blocks = self._check_message_content(params, surface_method="chat.postEphemeral")
        ts = self._next_ts()
        self._ephemerals.append(Ephemeral(channel, user_id, str(params.get("text") or ""), blocks, ws.team_id, ts))
        return {"ok": True, "message_ts": ts}

    def _views_publish(self, ws: Workspace, params: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        user_id = str(params["user_id"])
        view = params["view"]
        problems = validate_view(view)
        if problems:
            raise _ApiError(
                "invalid_arguments",
                violation="; ".join(problems),
                kind="blocks",
                response_metadata={"messages": [f"[ERROR] {p}" for p in problems]},
            )
        if self._user_in(ws, user_id) is None:
            raise _ApiError("user_not_found")
        key = (ws.team_id, user_id)
        given_hash = params.get("hash")
        if given_hash and given_hash != self._view_hashes.get(key):
            raise _ApiError("hash_conflict")
        self._home_views[key] = view
        view_hash = f"{int(time.time())}.{secrets.token_hex(6)}"
        self._view_hashes[key] = view_hash
        view_id = _stable_id("V", ws.team_id, user_id)
        return {
            "ok": True,
            "view": {
                "id": view_id,
                "team_id": ws.team_id,
                "type": view["type"],
                "blocks": view["blocks"],
                "private_metadata": view.get("private_metadata", ""),
                "callback_id": view.get("callback_id", ""),
                "external_id": view.get("external_id", ""),
                "state": {"values": {}},
                "hash": view_hash,
                "clear_on_close": False,
                "notify_on_close": False,
                "root_view_id": view_id,
                "previous_view_id": None,
                "app_id": ws.app_id,
                "app_installed_team_id": ws.team_id,
                "bot_id": ws.bot_id,
            },
        }

    def _users_info(self, ws: Workspace, params: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        user = self._user_in(ws, str(params.get("user") or ""))
        if user is None:
            raise _ApiError("user_not_found")
        now = datetime.now(UTC).astimezone(ZoneInfo(user.tz))
        offset = now.utcoffset()
        first, _, last = user.real_name.partition(" ")
        profile: dict[str, Any] = {
            "title": "",
            "phone": "",
            "skype": "",
            "real_name": user.real_name,
            "real_name_normalized": user.real_name,
            "display_name": user.display_name,
            "display_name_normalized": user.display_name,
            "fields": None,
            "status_text": "",
            "status_emoji": "",
            "status_expiration": 0,
            "avatar_hash": "g" + _stable_id("", user.id, length=11).lower(),
            "first_name": first,
            "last_name": last,
            "team": user.team_id,
        }
        # Slack includes the email only when the token has users:read.email.
        if "users:read.email" in ws.scopes and user.email:
            profile["email"] = user.email
        body: dict[str, Any] = {
            "id": user.id,
            "team_id": user.team_id,
            "name": user.name,
            "deleted": user.deleted,
            "color": "9f69e7",
            "real_name": user.real_name,
            "tz": user.tz,
            "tz_label": now.tzname() or user.tz,
            "tz_offset": int(offset.total_seconds()) if offset else 0,
            "profile": profile,
            "is_admin": user.is_admin,
            "is_owner": user.is_owner,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": user.is_bot,
            "is_app_user": False,
            "updated": 1_700_000_000,
        }
        if _truthy(params.get("include_locale")):
            body["locale"] = "en-US"
        return {"ok": True, "user": body}

    # ------------------------------------------------------------------ response_url and authorize

    def handle_response_url(self, name: str, *, headers: dict[str, str], body: bytes) -> _Reply:
        """Record a POST to a response_url after checking it like Slack would."""
        with self._lock:
            posts = self._response_urls.get(name)
            if posts is None:
                return _Reply(404, b"no_service", {"Content-Type": "text/plain"})
            content_type = headers.get("content-type", "").split(";")[0].strip().lower()
            try:
                if content_type == "application/json":
                    payload = json.loads(body or b"{}")
                else:
                    payload = json.loads(dict(parse_qsl(body.decode())).get("payload", "{}"))
            except ValueError:
                self._violate("response_url", "request", "body is not valid JSON", {})
                return _Reply(400, b"invalid_payload", {"Content-Type": "text/plain"})
            if not isinstance(payload, dict):
                self._violate("response_url", "request", "body is not a JSON object", {})
                return _Reply(400, b"invalid_payload", {"Content-Type": "text/plain"})
            if len(posts) >= MAX_RESPONSE_URL_POSTS:
                self._violate("response_url", "request", f"more than {MAX_RESPONSE_URL_POSTS} posts", payload)
                return _Reply(404, b"used_url", {"Content-Type": "text/plain"})
            problems = []
            if payload.get("response_type") not in (None, "ephemeral", "in_channel"):
                problems.append(f"response_type {payload.get('response_type')!r}")
            if not _truthy(payload.get("delete_original")):
                blocks = payload.get("blocks")
                text = payload.get("text")
                if blocks is not None:
                    problems.extend(validate_blocks(blocks))
                    if blocks and not (isinstance(text, str) and text.strip()):
                        problems.append("blocks sent without a `text` fallback")
                elif not (isinstance(text, str) and text.strip()):
                    problems.append("no text, blocks or delete_original")
            if problems:
                self._violate("response_url", "blocks", "; ".join(problems), payload)
                return _Reply(400, b"invalid_blocks", {"Content-Type": "text/plain"})
            posts.append(ResponsePost(name=name, payload=payload))
            return _Reply(200, b"ok", {"Content-Type": "text/plain"})

    def handle_authorize(self, query: str) -> _Reply:
        """The consent screen: redirects to `redirect_uri` with a code (or `error=access_denied`)."""
        params = dict(parse_qsl(query))
        with self._lock:
            installer = self._installer
            if params.get("client_id") != self.client_id:
                return _Reply(400, b"Invalid client_id parameter", {"Content-Type": "text/plain"})
            redirect_uri = params.get("redirect_uri")
            if not redirect_uri:
                return _Reply(400, b"redirect_uri is required by the twin", {"Content-Type": "text/plain"})
            if installer is None:
                return _Reply(400, b"call fake.set_installer(...) first", {"Content-Type": "text/plain"})
            state = params.get("state", "")
            if installer.deny:
                query_out = urlencode({"error": "access_denied", "state": state})
            else:
                scopes = [s for s in params.get("scope", "").split(",") if s]
                code = self.issue_oauth_code(
                    team_id=installer.team_id,
                    team_name=installer.team_name,
                    user_id=installer.user_id,
                    scopes=scopes,
                    redirect_uri=redirect_uri,
                )
                query_out = urlencode({"code": code, "state": state})
        sep = "&" if urlsplit(redirect_uri).query else "?"
        return _Reply(302, b"", {"Location": f"{redirect_uri}{sep}{query_out}"})


def _bearer(header: str) -> str | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def _basic_auth(header: str) -> tuple[str | None, str | None]:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        user, _, password = base64.b64decode(value.strip()).decode().partition(":")
    except ValueError:
        return None, None
    return user, password


def _make_handler(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "FakeSlack/1.0"

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            return

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _dispatch(self, verb: str) -> None:
            parts = urlsplit(self.path)
            headers = {k.lower(): v for k, v in self.headers.items()}
            body = self._body()
            try:
                if parts.path.startswith("/api/"):
                    method = parts.path.removeprefix("/api/").strip("/")
                    reply = fake.handle_api(method, http_verb=verb, headers=headers, query=parts.query, body=body)
                elif parts.path.startswith("/response/") and verb == "POST":
                    name = parts.path.removeprefix("/response/")
                    reply = fake.handle_response_url(unquote(name), headers=headers, body=body)
                elif parts.path == "/oauth/v2/authorize" and verb == "GET":
                    reply = fake.handle_authorize(parts.query)
                else:
                    reply = _Reply(404, b"not found", {"Content-Type": "text/plain"})
            except Exception as exc:  # a twin bug must surface, not hang the client
                with fake._lock:
                    fake._violate(parts.path, "reply", f"twin crashed: {exc!r}", {})
                reply = _Reply(500, json.dumps({"ok": False, "error": "fatal_error"}).encode(), {})
            if reply.hold is not None:
                reply.hold.wait()
            if reply.drop_after is not None:
                # Chaos "timeout": the client waits, then sees the connection closed without a reply.
                time.sleep(reply.drop_after)
                self.close_connection = True
                return
            self.send_response(reply.status, HTTPStatus(reply.status).phrase)
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

    return Handler


# --------------------------------------------------------------------------- playing Slack's side


def sign_slack_request(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack sends with a signed request (v0 HMAC-SHA256, made by slack_sdk's SignatureVerifier)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    assert signature is not None
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}


def _trigger_id() -> str:
    return f"{secrets.randbelow(10**13)}.{secrets.randbelow(10**11)}.{secrets.token_hex(16)}"


def slash_command_body(
    *,
    command: str = "/recall",
    text: str = "",
    team_id: str,
    user_id: str,
    response_url: str,
    channel_id: str | None = None,
    channel_name: str = "directmessage",
    user_name: str = "member",
    team_domain: str = "example",
    trigger_id: str | None = None,
    api_app_id: str = DEFAULT_APP_ID,
    enterprise_id: str | None = None,
) -> bytes:
    """A slash command body as Slack POSTs it (form-encoded); the channel defaults to the app DM."""
    fields = {
        "token": "verification-token-unused",
        "team_id": team_id,
        "team_domain": team_domain,
        "channel_id": channel_id or dm_channel_id(team_id, user_id),
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or _trigger_id(),
    }
    if enterprise_id:
        fields["enterprise_id"] = enterprise_id
        fields["enterprise_name"] = "Enterprise"
    return urlencode(fields).encode()


def select_action(*, action_id: str, block_id: str, value: str, label: str = "Option") -> dict[str, Any]:
    """A `static_select` choice as Slack reports it in `actions[]`."""
    return {
        "type": "static_select",
        "action_id": action_id,
        "block_id": block_id,
        "selected_option": {"text": {"type": "plain_text", "text": label, "emoji": True}, "value": value},
        "placeholder": {"type": "plain_text", "text": "Select", "emoji": True},
        "action_ts": f"{time.time():.6f}",
    }


def checkboxes_action(*, action_id: str, block_id: str, values: list[str]) -> dict[str, Any]:
    """A `checkboxes` change as Slack reports it: every option now ticked."""
    return {
        "type": "checkboxes",
        "action_id": action_id,
        "block_id": block_id,
        "selected_options": [{"text": {"type": "plain_text", "text": v, "emoji": True}, "value": v} for v in values],
        "action_ts": f"{time.time():.6f}",
    }


def block_actions_body(
    *,
    team_id: str,
    user_id: str,
    action_id: str,
    value: str,
    response_url: str | None = None,
    block_id: str = "actions",
    button_text: str = "Button",
    channel_id: str | None = None,
    message: dict[str, Any] | None = None,
    message_ts: str = "1700000000.000100",
    view: dict[str, Any] | None = None,
    user_name: str = "member",
    team_domain: str = "example",
    api_app_id: str = DEFAULT_APP_ID,
    trigger_id: str | None = None,
    action: dict[str, Any] | None = None,
) -> bytes:
    """A button click as Slack POSTs it: `payload=` + url-quoted block_actions JSON.

    ``action`` replaces the button action for other interactive elements (a select's `selected_option`, a
    checkbox group's `selected_options`); see `select_action` and `checkboxes_action`.

    Pass `message` (e.g. `fake.message(ch, ts).to_slack()`) and `response_url` for a click in a
    DM message, or `view` for a click in the App Home (Slack then sends no channel, message or
    response_url).
    """
    action_ts = f"{time.time():.6f}"
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id},
        "api_app_id": api_app_id,
        "token": "verification-token-unused",
        "trigger_id": trigger_id or _trigger_id(),
        "team": {"id": team_id, "domain": team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
        "state": {"values": {}},
        "actions": [
            action
            or {
                "action_id": action_id,
                "block_id": block_id,
                "text": {"type": "plain_text", "text": button_text, "emoji": True},
                "value": value,
                "type": "button",
                "action_ts": action_ts,
            }
        ],
    }
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view.get("id", "V0000000001")}
        payload["view"] = view
    else:
        if not response_url:
            raise ValueError("a click in a message carries a response_url; pass fake.response_url(name)")
        channel = channel_id or dm_channel_id(team_id, user_id)
        msg = message or {"type": "message", "text": "", "ts": message_ts}
        payload["container"] = {
            "type": "message",
            "message_ts": msg.get("ts", message_ts),
            "channel_id": channel,
            "is_ephemeral": False,
        }
        payload["channel"] = {"id": channel, "name": "directmessage"}
        payload["message"] = msg
        payload["response_url"] = response_url
    return ("payload=" + quote(json.dumps(payload), safe="")).encode()


def event_body(
    *,
    team_id: str,
    event: dict[str, Any],
    bot_user_id: str | None = None,
    api_app_id: str = DEFAULT_APP_ID,
    event_id: str | None = None,
    event_time: int | None = None,
    enterprise_id: str | None = None,
) -> bytes:
    """An Events API `event_callback` envelope as Slack POSTs it (JSON)."""
    envelope = {
        "token": "verification-token-unused",
        "team_id": team_id,
        "enterprise_id": enterprise_id,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or "Ev" + secrets.token_hex(5).upper(),
        "event_time": event_time if event_time is not None else int(time.time()),
        "authorizations": [
            {
                "enterprise_id": enterprise_id,
                "team_id": team_id,
                "user_id": bot_user_id or _stable_id("U", "bot", team_id),
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-" + secrets.token_urlsafe(24),
    }
    return json.dumps(envelope).encode()


def _event_ts() -> str:
    return f"{time.time():.6f}"


def app_home_opened_event(
    *, team_id: str, user_id: str, tab: str = "home", view: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The `app_home_opened` event (its `channel` is the app DM)."""
    event: dict[str, Any] = {
        "type": "app_home_opened",
        "user": user_id,
        "channel": dm_channel_id(team_id, user_id),
        "tab": tab,
        "event_ts": _event_ts(),
    }
    if view is not None:
        event["view"] = view
    return event


def app_uninstalled_event() -> dict[str, Any]:
    """The `app_uninstalled` event."""
    return {"type": "app_uninstalled", "event_ts": _event_ts()}


def tokens_revoked_event(*, bot_user_ids: Iterable[str] = (), oauth_user_ids: Iterable[str] = ()) -> dict[str, Any]:
    """The `tokens_revoked` event (bot and user token owners)."""
    return {
        "type": "tokens_revoked",
        "tokens": {"oauth": list(oauth_user_ids), "bot": list(bot_user_ids)},
        "event_ts": _event_ts(),
    }


def url_verification_body(challenge: str = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P") -> bytes:
    """The Events API URL check Slack sends when the request URL is saved."""
    body = {"token": "verification-token-unused", "challenge": challenge, "type": "url_verification"}
    return json.dumps(body).encode()
