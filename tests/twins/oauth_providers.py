"""OAuth 2.0 / OIDC stand-ins for Google and Microsoft, as pytest fixtures.

Two independent servers (see ../shared/contracts/README.md), both on 127.0.0.1:

* "Google": PyPI ``oidc-provider-mock`` 0.3.x, a Flask app served by werkzeug on a thread of the
  test process (``slackbot/demo/twins/google.py``: the demo runs the same class). Real consent form
  (Authorize / Deny), registered clients with exact redirect URIs and ``client_secret_basic``, refresh-scope
  checks. Does NOT verify PKCE (accepts and ignores ``code_challenge``).
* "Microsoft": npm ``oauth2-mock-server`` 8.x in a Node subprocess, wrapped by
  ``oauth2_mock_server.mjs`` (control endpoint + code/token bookkeeping; see that file). Auto-approves
  ``/authorize``; verifies PKCE; codes are single-use.

Fixtures (register with ``pytest_plugins = ["tests.twins.oauth_providers"]``):

* ``oidc_provider`` (function scope, server shared per session) -> :class:`OidcProviderMock`
* ``oidc_provider_no_refresh_token`` (session) -> :class:`OidcProviderMock` that never issues one
* ``oauth2_mock_server`` (function scope, reset before each test; process shared per session)
  -> :class:`OAuth2MockServer`

Both classes offer ``async authorize(authorize_url, *, approve=True, email=..., sub=None)``, which
plays the browser on loopback only and returns the redirect to the client's callback (with
``code`` & ``state`` or ``error=access_denied``) without following it.

PYTEST_DONT_REWRITE (a test module may import this before pytest loads it as a plugin)
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import subprocess
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest

from slackbot.demo.twins.google import (
    DEFAULT_EMAIL,
    DISCOVERY_PATH,
    GOOGLE_AUTHORIZE_PARAMS,
    GOOGLE_CALENDAR_SCOPE,
    GOOGLE_SCOPES,
    LOOPBACK_HOSTS,
    MAX_BROWSER_HOPS,
    OAuthClientCredentials,
    OidcProviderMock,
    StandInError,
    _DiscoveredEndpoints,
    _origin,
    _require_loopback,
    _wait_for_discovery,
    default_sub,
)

__all__ = [
    "DEFAULT_EMAIL",
    "GOOGLE_AUTHORIZE_PARAMS",
    "GOOGLE_CALENDAR_SCOPE",
    "GOOGLE_SCOPES",
    "LOOPBACK_HOSTS",
    "MICROSOFT_CALENDAR_SCOPE",
    "MICROSOFT_SCOPES",
    "OAuth2MockServer",
    "OAuthClientCredentials",
    "OidcProviderMock",
    "StandInError",
    "default_sub",
]

TESTS_DIR = Path(__file__).resolve().parents[1]
NODE_MODULES = TESTS_DIR / "node_modules"
WRAPPER = Path(__file__).resolve().with_name("oauth2_mock_server.mjs")

MICROSOFT_CALENDAR_SCOPE = "https://graph.microsoft.com/Calendars.Read"
MICROSOFT_SCOPES: tuple[str, ...] = ("offline_access", "openid", "email", MICROSOFT_CALENDAR_SCOPE)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


# --------------------------------------------------------------------------------------------
# "Microsoft": oauth2-mock-server in a Node subprocess
# --------------------------------------------------------------------------------------------


def node_executable() -> str | None:
    return shutil.which("node")


def require_oauth2_mock_server_installed() -> str:
    """Return the node binary, or skip (laptop without node) / fail (CI, or missing node_modules)."""
    node = node_executable()
    if node is None:
        message = "node is not installed: the Microsoft OAuth stand-in (npm oauth2-mock-server) needs Node 20+"
        if in_ci():
            pytest.fail(message + " (CI=true: failing instead of skipping)", pytrace=False)
        pytest.skip(message)
    if not (NODE_MODULES / "oauth2-mock-server" / "package.json").is_file():
        pytest.fail(
            f"{NODE_MODULES}/oauth2-mock-server is missing: run `npm ci --prefix tests` "
            "(installs the pinned tests/package-lock.json)",
            pytrace=False,
        )
    return node


class OAuth2MockServer(_DiscoveredEndpoints):
    """The "Microsoft" stand-in: ``oauth2_mock_server.mjs`` (npm oauth2-mock-server) on 127.0.0.1."""

    def __init__(
        self,
        *,
        node: str = "node",
        host: str = "127.0.0.1",
        advertise_host: str | None = "127.0.0.1",
        log_path: Path | None = None,
    ) -> None:
        """``advertise_host=None`` keeps the package's own choice: ``http://localhost:PORT``."""
        self.node = node
        self.host = host
        self.advertise_host = advertise_host
        self.log_path = log_path
        self.port: int | None = None
        self.issuer: str = ""
        self.metadata: dict[str, Any] = {}
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_file: Any = None

    # -- lifecycle
    def start(self, timeout: float = 15.0) -> OAuth2MockServer:
        if self.log_path is None:
            import tempfile

            self.log_path = Path(tempfile.mkstemp(prefix="oauth2-mock-server-", suffix=".log")[1])
        self._log_file = self.log_path.open("wb")
        cmd = [self.node, str(WRAPPER), "--host", self.host, "--port", "0"]
        if self.advertise_host:
            cmd += ["--advertise-host", self.advertise_host]
        self._proc = subprocess.Popen(
            cmd,
            cwd=TESTS_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log_file,
        )
        lines: queue.Queue[bytes] = queue.Queue()
        stdout = self._proc.stdout
        assert stdout is not None
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            self.stop()
            raise StandInError(f"oauth2-mock-server did not start within {timeout}s\n{self.log_tail()}") from None
        try:
            ready = json.loads(line)
            self.port = int(ready["port"])
            self.issuer = ready["issuer"]
        except (ValueError, KeyError, TypeError):
            self.stop()
            raise StandInError(f"oauth2-mock-server failed to start: {line!r}\n{self.log_tail()}") from None
        self.metadata = _wait_for_discovery(self.base_url, timeout, self.log_tail)
        return self

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            with contextlib.suppress(OSError):
                if proc.stdin:
                    proc.stdin.close()  # the wrapper exits when stdin closes
            try:
                proc.wait(3)
            except subprocess.TimeoutExpired:
                proc.terminate()
                try:
                    proc.wait(3)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(3)
            if proc.stdout:
                proc.stdout.close()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def log_tail(self, lines: int = 40) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "(no log)"
        text = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        return "oauth2-mock-server log:\n" + "\n".join(text)

    # -- addresses
    @property
    def base_url(self) -> str:
        """Where the process listens (always 127.0.0.1); the issuer may name it ``localhost``."""
        if self.port is None:
            raise StandInError("oauth2-mock-server is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def metadata_url(self) -> str:
        return self.issuer + DISCOVERY_PATH

    # -- control
    def control(self, **command: Any) -> dict[str, Any]:
        """POST /__control with ``command`` (keys: reset, user, clients, next_authorize, next_token)."""
        response = httpx.post(f"{self.base_url}/__control", json=command, timeout=10, trust_env=False)
        if response.status_code != 200:
            raise StandInError(f"/__control refused {command!r}: {response.status_code} {response.text}")
        return response.json()

    def reset(self) -> None:
        """Forget users, codes, tokens, armed behaviours and the request log; user back to default."""
        self.control(reset=True)
        self.set_user()

    def set_user(self, *, email: str = DEFAULT_EMAIL, sub: str | None = None, **claims: Any) -> None:
        """Who consents from now on (persistent until reset): id_token and userinfo claims."""
        self.control(
            user={
                "sub": sub or default_sub(email),
                "email": email,
                "preferred_username": email,
                "name": email.split("@")[0].title(),
                **claims,
            }
        )

    def arm(
        self,
        *,
        authorize_error: str | None = None,
        authorize_error_description: str | None = None,
        drop_refresh_token: bool = False,
        token_scope: str | None = None,
        token_error: str | None = None,
        token_error_status: int = 400,
        id_token_claims: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Arm one-shot behaviours: the next /authorize and/or the next authorization_code or
        refresh_token response at /token. Unarmed, the server behaves normally."""
        command: dict[str, Any] = {}
        if authorize_error:
            command["next_authorize"] = {"error": authorize_error}
            if authorize_error_description:
                command["next_authorize"]["error_description"] = authorize_error_description
        next_token: dict[str, Any] = {}
        if drop_refresh_token:
            next_token["drop_refresh_token"] = True
        if token_scope is not None:
            next_token["scope"] = token_scope
        if token_error:
            next_token["error"] = token_error
            next_token["status"] = token_error_status
        if id_token_claims:
            next_token["id_token_claims"] = dict(id_token_claims)
        if next_token:
            command["next_token"] = next_token
        if not command:
            raise ValueError("arm() needs at least one behaviour")
        return self.control(**command)

    def require_client_secret(self, client_id: str, client_secret: str) -> None:
        """From now on /token answers 401 invalid_client (AADSTS7000215) to any other credentials."""
        self.control(clients={client_id: client_secret})

    def requests(self) -> list[dict[str, Any]]:
        """What reached /authorize, /token and /userinfo since the last reset (for assertions)."""
        response = httpx.get(f"{self.base_url}/__control", timeout=10, trust_env=False)
        response.raise_for_status()
        return response.json()["log"]

    # -- the browser's part
    async def authorize(
        self,
        authorize_url: str,
        *,
        approve: bool = True,
        email: str = DEFAULT_EMAIL,
        sub: str | None = None,
        claims: Mapping[str, Any] | None = None,
    ) -> str:
        """Follow ``authorize_url`` (the server auto-approves) and return the redirect to the client.

        ``approve=True`` first makes ``email``/``sub``/``claims`` the consenting user;
        ``approve=False`` arms ``error=access_denied`` for this authorization.
        """
        _require_loopback(authorize_url)
        if approve:
            self.set_user(email=email, sub=sub, **dict(claims or {}))
        else:
            self.arm(authorize_error="access_denied")
        provider = _origin(self.base_url)
        async with httpx.AsyncClient(follow_redirects=False, timeout=10, trust_env=False) as client:
            url = authorize_url
            for _ in range(MAX_BROWSER_HOPS):
                response = await client.get(url)
                if not response.is_redirect:
                    raise StandInError(f"authorize {url} answered {response.status_code}: {response.text[:800]}")
                target = urljoin(url, response.headers["location"])
                if _origin(target) != provider:
                    return target
                _require_loopback(target)
                url = target
        raise StandInError(f"more than {MAX_BROWSER_HOPS} redirects from {authorize_url}")


# --------------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def oidc_provider_session() -> Iterator[OidcProviderMock]:
    provider = OidcProviderMock().start()
    try:
        yield provider
    finally:
        provider.stop()


@pytest.fixture
def oidc_provider(oidc_provider_session: OidcProviderMock) -> OidcProviderMock:
    """The "Google" stand-in. Register a client per test with ``register_client(...)``."""
    oidc_provider_session.reset()
    return oidc_provider_session


@pytest.fixture(scope="session")
def oidc_provider_no_refresh_token() -> Iterator[OidcProviderMock]:
    """A second "Google" that never returns ``refresh_token`` (like the CLI's ``--no-refresh-token``)."""
    provider = OidcProviderMock(issue_refresh_token=False).start()
    try:
        yield provider
    finally:
        provider.stop()


@pytest.fixture(scope="session")
def oauth2_mock_server_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OAuth2MockServer]:
    node = require_oauth2_mock_server_installed()
    server = OAuth2MockServer(node=node, log_path=tmp_path_factory.mktemp("oauth2-mock-server") / "server.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def oauth2_mock_server(oauth2_mock_server_session: OAuth2MockServer) -> OAuth2MockServer:
    """The "Microsoft" stand-in, reset (no armed behaviours, default user) for this test."""
    oauth2_mock_server_session.reset()
    return oauth2_mock_server_session
