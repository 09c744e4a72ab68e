"""The "Google" stand-in: PyPI ``oidc-provider-mock`` 0.3.x, a Flask app served by werkzeug on a thread, on
127.0.0.1. Real consent form (Authorize / Deny), registered clients with exact redirect URIs and
``client_secret_basic``, refresh-scope checks. Does NOT verify PKCE (accepts and ignores ``code_challenge``).

The tests (``tests/twins/oauth_providers.py``) and the demo run this same class. ``oidc-provider-mock`` is in the
``demo`` and ``test`` extras, imported only when the stand-in starts.
"""

from __future__ import annotations

import hashlib
import html
import re
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import httpx

GOOGLE_CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar.events.readonly"
GOOGLE_SCOPES: tuple[str, ...] = (
    "openid",
    "email",
    GOOGLE_CALENDAR_SCOPE,
    "https://www.googleapis.com/auth/userinfo.email",
)
GOOGLE_AUTHORIZE_PARAMS: Mapping[str, str] = {"access_type": "offline", "prompt": "consent"}

DEFAULT_EMAIL = "ada@example.com"
DISCOVERY_PATH = "/.well-known/openid-configuration"
MAX_BROWSER_HOPS = 5
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class StandInError(RuntimeError):
    """A stand-in did not start, or answered something a browser could not go on with."""


def default_sub(email: str) -> str:
    """A stable, Google-looking numeric ``sub`` for an email (Google subs are 21 digits)."""
    digest = int.from_bytes(hashlib.sha256(email.lower().encode()).digest()[:9], "big")
    return "1" + str(digest).zfill(20)[:20]


def _require_loopback(url: str) -> None:
    host = urlsplit(url).hostname
    if host not in LOOPBACK_HOSTS:
        raise StandInError(f"refusing to browse to non-loopback URL {url!r}")


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host == "localhost":
        host = "127.0.0.1"  # same listener, two names
    return parts.scheme, host, parts.port


def _wait_for_discovery(base_url: str, timeout: float, describe: Any = None) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    last: Exception | str = "no attempt"
    with httpx.Client(timeout=2, trust_env=False) as client:
        while time.monotonic() < deadline:
            try:
                response = client.get(base_url + DISCOVERY_PATH)
                if response.status_code == 200:
                    return response.json()
                last = f"HTTP {response.status_code}"
            except (httpx.HTTPError, ValueError) as exc:
                last = exc
            time.sleep(0.05)
    extra = f"\n{describe()}" if describe else ""
    raise StandInError(f"{base_url}{DISCOVERY_PATH} not ready after {timeout}s: {last!r}{extra}")


@dataclass(frozen=True)
class OAuthClientCredentials:
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    scope: str
    token_endpoint_auth_method: str


# --------------------------------------------------------------------------------------------
# "Google": oidc-provider-mock on a thread
# --------------------------------------------------------------------------------------------


class _StateOnDenyMiddleware:
    """Adds the request's ``state`` to oidc-provider-mock's ``error=access_denied`` redirect.

    oidc-provider-mock 0.3.4 builds the deny redirect from ``redirect_uri`` alone, so the client
    gets no ``state``; RFC 6749 §4.1.2.1 requires it, and Google sends it. Without this repair a
    correct client cannot tell whose flow was declined. Only that one response is touched.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("REQUEST_METHOD") != "POST" or environ.get("PATH_INFO") != "/oauth2/authorize":
            return self.app(environ, start_response)
        request_state = dict(parse_qsl(environ.get("QUERY_STRING", ""))).get("state")

        def patched_start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if request_state and status.startswith("302"):
                headers = [
                    (name, _add_state(value, request_state) if name.lower() == "location" else value)
                    for name, value in headers
                ]
            return start_response(status, headers, exc_info)

        return self.app(environ, patched_start_response)


def _add_state(location: str, state: str) -> str:
    parts = urlsplit(location)
    query = parse_qsl(parts.query, keep_blank_values=True)
    keys = {k for k, _ in query}
    if "error" not in keys or "state" in keys:
        return location
    return urlunsplit(parts._replace(query=urlencode([*query, ("state", state)])))


class _DiscoveredEndpoints:
    """Endpoints read from the stand-in's discovery document (``self.metadata``)."""

    metadata: dict[str, Any]

    @property
    def authorization_endpoint(self) -> str:
        return self.metadata["authorization_endpoint"]

    @property
    def token_endpoint(self) -> str:
        return self.metadata["token_endpoint"]

    @property
    def userinfo_endpoint(self) -> str:
        return self.metadata["userinfo_endpoint"]

    @property
    def jwks_uri(self) -> str:
        return self.metadata["jwks_uri"]


# oidc-provider-mock's pages pull pico.css from a CDN; offline, a few inline rules stand in for it.
_CDN_STYLESHEET = re.compile(rb"<link[^>]*cdn\.jsdelivr\.net[^>]*>", re.IGNORECASE)
_OFFLINE_STYLE = (
    b"<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#1d1c1d}"
    b"button{font:inherit;padding:.5rem 1rem;margin:.25rem;border-radius:6px;border:1px solid #888;cursor:pointer}"
    b"button[type=submit]{background:#1a73e8;color:#fff;border-color:#1a73e8}"
    b"button.contrast,button.outline{background:#fff;color:#1d1c1d}"
    b"input{font:inherit;padding:.4rem;width:100%;box-sizing:border-box}code{background:#eee;padding:0 .2rem}</style>"
)


_ACCOUNT_BUTTON = re.compile(rb'<button[^>]*name="sub" value="(?P<sub>[^"]*)"[^>]*>[^<]*</button>')


def _offline(body: bytes) -> bytes:
    return _CDN_STYLESHEET.sub(_OFFLINE_STYLE, body)


def _only_account(sub: str) -> Callable[[bytes], bytes]:
    """Keep only ``sub``'s one-click button on the consent page (the others are someone else's accounts)."""
    wanted = html.escape(sub).encode()

    def rewrite(body: bytes) -> bytes:
        return _ACCOUNT_BUTTON.sub(lambda m: m.group(0) if m.group("sub") == wanted else b"", body)

    return rewrite


class _HtmlPagesMiddleware:
    """Rewrites the provider's HTML pages: without their CDN stylesheet, so a browser opens nothing it cannot
    reach offline, and offering only the account ``offer()`` names, when it names one. Only ``text/html``
    responses are touched."""

    def __init__(self, app: Any, *, offline: bool, offer: Callable[[], str | None] | None) -> None:
        self.app = app
        self.offline = offline
        self.offer = offer

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured.update(status=status, headers=headers, exc_info=exc_info)
            return lambda _data: None  # the legacy write() callable: unused by Flask

        chunks = self.app(environ, capture)
        try:
            body = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        headers = captured["headers"]
        if any(k.lower() == "content-type" and v.startswith("text/html") for k, v in headers):
            if self.offline:
                body = _offline(body)
            account = self.offer() if self.offer is not None else None
            if account is not None:
                body = _only_account(account)(body)
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers.append(("Content-Length", str(len(body))))
        start_response(captured["status"], headers, captured["exc_info"])
        return [body]


class OidcProviderMock(_DiscoveredEndpoints):
    """The "Google" stand-in: ``oidc_provider_mock.app()`` served by werkzeug on 127.0.0.1.

    ``users`` (``{sub: claims}``) are offered as one-click buttons on the consent page (only the one ``offer()``
    names, when it names one: the demo offers the account of the member signing in); ``offline_pages`` drops the
    pages' CDN stylesheet (the demo: nothing is fetched from outside the machine).
    """

    def __init__(
        self,
        *,
        issue_refresh_token: bool = True,
        host: str = "127.0.0.1",
        state_on_deny: bool = True,
        users: Mapping[str, Mapping[str, Any]] | None = None,
        offline_pages: bool = False,
        offer: Callable[[], str | None] | None = None,
        port: int = 0,
    ) -> None:
        self.issue_refresh_token = issue_refresh_token
        self.host = host
        self.state_on_deny = state_on_deny
        self.users = dict(users or {})
        self.offline_pages = offline_pages
        self.offer = offer
        self._bind_port = port
        self.port: int | None = None
        self.metadata: dict[str, Any] = {}
        self._server: Any = None
        self._thread: threading.Thread | None = None

    # -- lifecycle
    def start(self, timeout: float = 10.0) -> OidcProviderMock:
        import werkzeug.serving

        with warnings.catch_warnings():
            # 0.3.4 imports authlib.jose, which authlib 1.9 deprecates (an AuthlibDeprecationWarning); not ours to fix.
            warnings.simplefilter("ignore")
            import oidc_provider_mock

        predefined = [oidc_provider_mock.User(sub=sub, claims=dict(claims)) for sub, claims in self.users.items()]
        app: Any = oidc_provider_mock.app(issue_refresh_token=self.issue_refresh_token, user_claims=predefined)
        if self.state_on_deny:
            app.wsgi_app = _StateOnDenyMiddleware(app.wsgi_app)
        if self.offline_pages or self.offer is not None:
            app.wsgi_app = _HtmlPagesMiddleware(app.wsgi_app, offline=self.offline_pages, offer=self.offer)
        self._server = werkzeug.serving.make_server(self.host, self._bind_port, app, threaded=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"oidc-provider-mock:{self.port}",
            daemon=True,
        )
        self._thread.start()
        self.metadata = _wait_for_discovery(self.base_url, timeout)
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
        self._server = None

    def reset(self) -> None:
        """Nothing to undo between tests: isolation comes from a fresh client per test."""

    # -- addresses
    @property
    def base_url(self) -> str:
        if self.port is None:
            raise StandInError("oidc-provider-mock is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def metadata_url(self) -> str:
        return self.base_url + DISCOVERY_PATH

    @property
    def issuer(self) -> str:
        return self.metadata["issuer"]

    # -- setup helpers (synchronous: usable from sync fixtures; the server runs on its own thread)
    def register_client(
        self,
        redirect_uris: Sequence[str],
        *,
        scope: str | Sequence[str] = GOOGLE_SCOPES,
        token_endpoint_auth_method: str = "client_secret_basic",
    ) -> OAuthClientCredentials:
        """Register a client (RFC 7591). Only a registered client can be granted non-OIDC scopes.

        The mock keeps ``scope`` as one string and allows a requested scope when it is a
        *substring* of it; unregistered client ids get only openid/profile/email/address/phone.
        """
        scope_str = scope if isinstance(scope, str) else " ".join(scope)
        response = httpx.post(
            self.metadata["registration_endpoint"],
            json={
                "redirect_uris": list(redirect_uris),
                "scope": scope_str,
                "token_endpoint_auth_method": token_endpoint_auth_method,
            },
            timeout=10,
            trust_env=False,
        )
        if response.status_code != 201:
            raise StandInError(f"client registration failed: {response.status_code} {response.text}")
        body = response.json()
        return OAuthClientCredentials(
            client_id=body["client_id"],
            client_secret=body["client_secret"],
            redirect_uris=tuple(body["redirect_uris"]),
            scope=scope_str,
            token_endpoint_auth_method=body["token_endpoint_auth_method"],
        )

    def set_user(self, sub: str, claims: Mapping[str, Any]) -> None:
        """Create or replace the user ``sub`` with these claims (``email`` etc.; ``sub`` is implied)."""
        response = httpx.put(f"{self.base_url}/users/{sub}", json=dict(claims), timeout=10, trust_env=False)
        if response.status_code != 204:
            raise StandInError(f"PUT /users/{sub} failed: {response.status_code} {response.text}")

    def revoke_user_tokens(self, sub: str) -> None:
        """Invalidate every access and refresh token of ``sub`` (a refresh then gets invalid_grant)."""
        response = httpx.post(f"{self.base_url}/users/{sub}/revoke-tokens", timeout=10, trust_env=False)
        if response.status_code != 204:
            raise StandInError(f"revoke-tokens failed: {response.status_code} {response.text}")

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
        """Open ``authorize_url``, submit the consent form, return the redirect to the client.

        Approve posts the form's ``sub`` field; deny posts ``action=deny``. Before approving, the
        user ``sub`` (default: :func:`default_sub` of ``email``) is given ``email``,
        ``email_verified: true`` and ``claims``.
        """
        _require_loopback(authorize_url)
        if approve:
            sub = sub or default_sub(email)
            self.set_user(sub, {"email": email, "email_verified": True, **(claims or {})})
        provider = _origin(self.base_url)
        async with httpx.AsyncClient(follow_redirects=False, timeout=10, trust_env=False) as client:
            url = authorize_url
            for _ in range(MAX_BROWSER_HOPS):
                response = await client.get(url)
                if response.is_redirect:
                    target = urljoin(url, response.headers["location"])
                    if _origin(target) != provider:
                        return target  # an error redirect straight back to the client
                    _require_loopback(target)
                    url = target
                    continue
                if response.status_code == 200 and 'name="sub"' in response.text:
                    break
                raise StandInError(f"authorize page {url} answered {response.status_code}: {response.text[:800]}")
            else:
                raise StandInError(f"more than {MAX_BROWSER_HOPS} redirects from {authorize_url}")
            form = {"sub": sub} if approve else {"action": "deny"}
            response = await client.post(url, data=form)
            if not response.is_redirect:
                raise StandInError(f"consent POST answered {response.status_code}: {response.text[:800]}")
            return urljoin(url, response.headers["location"])
