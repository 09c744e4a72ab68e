"""What the two OAuth stand-ins do, proven with the client the app uses (authlib + PKCE S256).

Each test pins one behaviour the app's tests rely on; a failure after a version bump of
oidc-provider-mock or oauth2-mock-server means the stand-in changed, not the app.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.twins.oauth_providers import (
    GOOGLE_AUTHORIZE_PARAMS,
    GOOGLE_CALENDAR_SCOPE,
    GOOGLE_SCOPES,
    MICROSOFT_CALENDAR_SCOPE,
    MICROSOFT_SCOPES,
    OAuth2MockServer,
    OidcProviderMock,
    StandInError,
    default_sub,
    require_oauth2_mock_server_installed,
)

pytest_plugins = ["tests.twins.oauth_providers"]
# oidc-provider-mock 0.3.4 calls authlib APIs that authlib 1.9 deprecates; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib.oidc.core.grants._legacy")

GOOGLE_REDIRECT = "http://127.0.0.1:9/calendar/oauth/google/callback"
MICROSOFT_REDIRECT = "http://127.0.0.1:9/calendar/oauth/microsoft/callback"


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@asynccontextmanager
async def oauth_client(
    client_id: str,
    client_secret: str,
    scopes: tuple[str, ...] | str,
    redirect_uri: str,
    auth_method: str = "client_secret_basic",
) -> AsyncIterator[AsyncOAuth2Client]:
    client = AsyncOAuth2Client(
        client_id=client_id,
        client_secret=client_secret,
        scope=scopes if isinstance(scopes, str) else " ".join(scopes),
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method=auth_method,
        timeout=10,
        trust_env=False,
    )
    async with client:
        yield client


def authorize_url(client: AsyncOAuth2Client, endpoint: str, **params: str) -> tuple[str, str, str]:
    verifier = generate_token(64)
    state = generate_token(32)
    url, _ = client.create_authorization_url(endpoint, state=state, code_verifier=verifier, **params)
    return url, state, verifier


def verified_claims(id_token: str, jwks: dict[str, Any]) -> dict[str, Any]:
    return jwt.decode(id_token, KeySet.import_key_set(jwks)).claims


async def get_json(url: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=10, trust_env=False) as http:
        response = await http.get(url)
        response.raise_for_status()
        return response.json()


# ------------------------------------------------------------------------------------------------
# "Google": oidc-provider-mock
# ------------------------------------------------------------------------------------------------


async def test_google_discovery(oidc_provider: OidcProviderMock) -> None:
    md = await get_json(oidc_provider.metadata_url)
    base = oidc_provider.base_url
    assert base.startswith("http://127.0.0.1:")
    assert md["issuer"] == base  # taken from the Host header: whatever name the client used
    assert md["authorization_endpoint"] == f"{base}/oauth2/authorize"
    assert md["token_endpoint"] == f"{base}/oauth2/token"
    assert md["userinfo_endpoint"] == f"{base}/userinfo"
    assert md["registration_endpoint"] == f"{base}/oauth2/clients"
    assert md["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert "token_endpoint_auth_methods_supported" not in md  # app then picks client_secret_basic
    assert "code_challenge_methods_supported" not in md
    assert GOOGLE_CALENDAR_SCOPE not in md["scopes_supported"]


async def test_google_consent_code_exchange_refresh_token_and_email(oidc_provider: OidcProviderMock) -> None:
    creds = oidc_provider.register_client([GOOGLE_REDIRECT])
    assert creds.token_endpoint_auth_method == "client_secret_basic"
    async with oauth_client(creds.client_id, creds.client_secret, GOOGLE_SCOPES, GOOGLE_REDIRECT) as client:
        url, state, verifier = authorize_url(client, oidc_provider.authorization_endpoint, **GOOGLE_AUTHORIZE_PARAMS)
        callback = await oidc_provider.authorize(url, email="ada@example.com")
        assert callback.startswith(GOOGLE_REDIRECT + "?")
        params = query(callback)
        assert params["state"] == state and params["code"]

        token = await client.fetch_token(oidc_provider.token_endpoint, code=params["code"], code_verifier=verifier)
        assert token["refresh_token"]
        assert set(token["scope"].split()) == set(GOOGLE_SCOPES)
        claims = verified_claims(token["id_token"], await get_json(oidc_provider.jwks_uri))
        assert claims["iss"] == oidc_provider.issuer
        assert claims["aud"] == [creds.client_id]  # a list
        assert claims["sub"] == default_sub("ada@example.com")
        assert claims["email"] == "ada@example.com" and claims["email_verified"] is True

        userinfo = (await client.get(oidc_provider.userinfo_endpoint)).json()
        assert userinfo == {"sub": default_sub("ada@example.com"), "email": "ada@example.com", "email_verified": True}

        # Refresh with the same scope works; the raw answer carries no new refresh_token.
        async with httpx.AsyncClient(trust_env=False) as http:
            raw = await http.post(
                oidc_provider.token_endpoint,
                data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
                auth=(creds.client_id, creds.client_secret),
            )
        assert raw.status_code == 200
        assert "refresh_token" not in raw.json() and raw.json()["access_token"]


async def test_google_deny_redirects_access_denied_with_state(oidc_provider: OidcProviderMock) -> None:
    creds = oidc_provider.register_client([GOOGLE_REDIRECT])
    async with oauth_client(creds.client_id, creds.client_secret, GOOGLE_SCOPES, GOOGLE_REDIRECT) as client:
        url, state, _ = authorize_url(client, oidc_provider.authorization_endpoint, **GOOGLE_AUTHORIZE_PARAMS)
    callback = await oidc_provider.authorize(url, approve=False)
    assert callback.startswith(GOOGLE_REDIRECT + "?")
    params = query(callback)
    assert params["error"] == "access_denied"
    assert params["state"] == state  # added by the fixture's repair, see next test
    assert "code" not in params


async def test_google_raw_deny_omits_state() -> None:
    """oidc-provider-mock 0.3.x drops `state` on deny; OidcProviderMock(state_on_deny=True) repairs it."""
    raw = OidcProviderMock(state_on_deny=False).start()
    try:
        async with oauth_client("any-client", "any-secret", GOOGLE_SCOPES, GOOGLE_REDIRECT) as client:
            url, _, _ = authorize_url(client, raw.authorization_endpoint)
        params = query(await raw.authorize(url, approve=False))
        assert params["error"] == "access_denied"
        assert "state" not in params
    finally:
        raw.stop()


async def test_google_code_is_single_use(oidc_provider: OidcProviderMock) -> None:
    creds = oidc_provider.register_client([GOOGLE_REDIRECT])
    async with oauth_client(creds.client_id, creds.client_secret, GOOGLE_SCOPES, GOOGLE_REDIRECT) as client:
        url, _, verifier = authorize_url(client, oidc_provider.authorization_endpoint, **GOOGLE_AUTHORIZE_PARAMS)
        code = query(await oidc_provider.authorize(url))["code"]
        await client.fetch_token(oidc_provider.token_endpoint, code=code, code_verifier=verifier)
        with pytest.raises(OAuthError) as replay:
            await client.fetch_token(oidc_provider.token_endpoint, code=code, code_verifier=verifier)
        assert replay.value.error == "invalid_grant"


async def test_google_does_not_verify_pkce(oidc_provider: OidcProviderMock) -> None:
    """Fact, not a wish: oidc-provider-mock ignores code_challenge, so a wrong verifier passes.
    PKCE correctness is proven against the Microsoft stand-in."""
    creds = oidc_provider.register_client([GOOGLE_REDIRECT])
    async with oauth_client(creds.client_id, creds.client_secret, GOOGLE_SCOPES, GOOGLE_REDIRECT) as client:
        url, _, _ = authorize_url(client, oidc_provider.authorization_endpoint, **GOOGLE_AUTHORIZE_PARAMS)
        code = query(await oidc_provider.authorize(url))["code"]
        token = await client.fetch_token(oidc_provider.token_endpoint, code=code, code_verifier=generate_token(64))
        assert token["access_token"]


async def test_google_registered_client_auth_and_redirect_uri(oidc_provider: OidcProviderMock) -> None:
    creds = oidc_provider.register_client([GOOGLE_REDIRECT])
    for secret, method in ((creds.client_secret, "client_secret_post"), ("wrong", "client_secret_basic")):
        async with oauth_client(creds.client_id, secret, GOOGLE_SCOPES, GOOGLE_REDIRECT, method) as client:
            url, _, verifier = authorize_url(client, oidc_provider.authorization_endpoint)
            code = query(await oidc_provider.authorize(url))["code"]
            with pytest.raises(OAuthError) as refused:
                await client.fetch_token(oidc_provider.token_endpoint, code=code, code_verifier=verifier)
            assert refused.value.error == "invalid_client"
    # A redirect URI that was not registered: a 400 page, no redirect at all.
    async with oauth_client(creds.client_id, creds.client_secret, GOOGLE_SCOPES, "http://127.0.0.1:9/other") as client:
        url, _, _ = authorize_url(client, oidc_provider.authorization_endpoint)
    with pytest.raises(StandInError, match="400"):
        await oidc_provider.authorize(url)


async def test_google_no_refresh_token_mode(oidc_provider_no_refresh_token: OidcProviderMock) -> None:
    provider = oidc_provider_no_refresh_token
    creds = provider.register_client([GOOGLE_REDIRECT])
    async with oauth_client(creds.client_id, creds.client_secret, GOOGLE_SCOPES, GOOGLE_REDIRECT) as client:
        url, _, verifier = authorize_url(client, provider.authorization_endpoint, **GOOGLE_AUTHORIZE_PARAMS)
        code = query(await provider.authorize(url))["code"]
        token = await client.fetch_token(provider.token_endpoint, code=code, code_verifier=verifier)
    assert "refresh_token" not in token
    assert GOOGLE_CALENDAR_SCOPE in token["scope"].split()


async def test_google_scope_stripped_and_refresh_cannot_widen(oidc_provider: OidcProviderMock) -> None:
    """The member unticks the calendar box: register the client without that scope."""
    without_calendar = [s for s in GOOGLE_SCOPES if s != GOOGLE_CALENDAR_SCOPE]
    creds = oidc_provider.register_client([GOOGLE_REDIRECT], scope=without_calendar)
    async with oauth_client(creds.client_id, creds.client_secret, GOOGLE_SCOPES, GOOGLE_REDIRECT) as client:
        url, _, verifier = authorize_url(client, oidc_provider.authorization_endpoint, **GOOGLE_AUTHORIZE_PARAMS)
        code = query(await oidc_provider.authorize(url))["code"]
        token = await client.fetch_token(oidc_provider.token_endpoint, code=code, code_verifier=verifier)
        assert GOOGLE_CALENDAR_SCOPE not in token["scope"].split()
        assert token["refresh_token"]
        # authlib's refresh_token() re-sends the client's full `scope`: more than granted.
        with pytest.raises(OAuthError) as widened:
            await client.refresh_token(oidc_provider.token_endpoint, refresh_token=token["refresh_token"])
        assert widened.value.error == "invalid_scope"
        narrowed = await client.refresh_token(
            oidc_provider.token_endpoint, refresh_token=token["refresh_token"], scope="openid"
        )
        assert narrowed["scope"] == "openid"


async def test_google_unregistered_client_gets_only_oidc_scopes(oidc_provider: OidcProviderMock) -> None:
    async with oauth_client("never-registered", "anything", GOOGLE_SCOPES, GOOGLE_REDIRECT) as client:
        url, _, verifier = authorize_url(client, oidc_provider.authorization_endpoint, **GOOGLE_AUTHORIZE_PARAMS)
        code = query(await oidc_provider.authorize(url))["code"]
        token = await client.fetch_token(oidc_provider.token_endpoint, code=code, code_verifier=verifier)
    assert token["scope"] == "openid email"


async def test_google_revoked_and_unknown_refresh_tokens_fail(oidc_provider: OidcProviderMock) -> None:
    creds = oidc_provider.register_client([GOOGLE_REDIRECT])
    async with oauth_client(creds.client_id, creds.client_secret, GOOGLE_SCOPES, GOOGLE_REDIRECT) as client:
        url, _, verifier = authorize_url(client, oidc_provider.authorization_endpoint, **GOOGLE_AUTHORIZE_PARAMS)
        code = query(await oidc_provider.authorize(url, email="bob@example.com", sub="bob-sub"))["code"]
        token = await client.fetch_token(oidc_provider.token_endpoint, code=code, code_verifier=verifier)
        with pytest.raises(OAuthError) as unknown:
            await client.refresh_token(oidc_provider.token_endpoint, refresh_token="not-a-token")
        assert unknown.value.error == "invalid_grant"
        oidc_provider.revoke_user_tokens("bob-sub")
        with pytest.raises(OAuthError) as revoked:
            await client.refresh_token(oidc_provider.token_endpoint, refresh_token=token["refresh_token"])
        assert revoked.value.error == "invalid_grant"


# ------------------------------------------------------------------------------------------------
# "Microsoft": oauth2-mock-server
# ------------------------------------------------------------------------------------------------

MS_ID, MS_SECRET = "ms-client-id", "ms-client-secret"


async def ms_code(server: OAuth2MockServer, client: AsyncOAuth2Client, **kw: Any) -> tuple[str, str, str]:
    url, state, verifier = authorize_url(client, server.authorization_endpoint)
    params = query(await server.authorize(url, **kw))
    assert params["state"] == state
    return params["code"], state, verifier


async def test_microsoft_discovery(oauth2_mock_server: OAuth2MockServer) -> None:
    md = await get_json(oauth2_mock_server.metadata_url)
    base = oauth2_mock_server.base_url
    assert md["issuer"] == base == oauth2_mock_server.issuer
    assert md["authorization_endpoint"] == f"{base}/authorize"
    assert md["token_endpoint"] == f"{base}/token"
    assert md["userinfo_endpoint"] == f"{base}/userinfo"
    assert md["code_challenge_methods_supported"] == ["plain", "S256"]
    # Quirks: Microsoft advertises client_secret_post/basic and refresh_token; this does not.
    assert md["token_endpoint_auth_methods_supported"] == ["none"]
    assert "refresh_token" not in md["grant_types_supported"]


async def test_microsoft_package_advertises_localhost_by_default() -> None:
    node = require_oauth2_mock_server_installed()
    server = OAuth2MockServer(node=node, advertise_host=None).start()
    try:
        assert server.issuer == f"http://localhost:{server.port}"
        md = await get_json(server.metadata_url)  # reachable by that name too
        assert md["token_endpoint"] == f"http://localhost:{server.port}/token"
    finally:
        server.stop()


async def test_microsoft_consent_code_exchange_refresh_and_email(oauth2_mock_server: OAuth2MockServer) -> None:
    server = oauth2_mock_server
    # client_secret_post: what the app picks when discovery lists no client_secret_basic.
    async with oauth_client(MS_ID, MS_SECRET, MICROSOFT_SCOPES, MICROSOFT_REDIRECT, "client_secret_post") as client:
        code, _, verifier = await ms_code(server, client, email="grace@example.com", sub="grace-oid")
        token = await client.fetch_token(server.token_endpoint, code=code, code_verifier=verifier)
        assert token["refresh_token"]
        assert token["scope"] == " ".join(MICROSOFT_SCOPES)
        claims = verified_claims(token["id_token"], await get_json(server.jwks_uri))
        assert claims["iss"] == server.issuer and claims["aud"] == MS_ID
        assert claims["sub"] == "grace-oid"
        assert claims["email"] == "grace@example.com" == claims["preferred_username"]
        userinfo = (await client.get(server.userinfo_endpoint)).json()
        assert userinfo["sub"] == "grace-oid" and userinfo["email"] == "grace@example.com"

        refreshed = await client.refresh_token(server.token_endpoint, refresh_token=token["refresh_token"])
        assert refreshed["refresh_token"] != token["refresh_token"]  # rotated, like Microsoft
        with pytest.raises(OAuthError) as unknown:
            await client.refresh_token(server.token_endpoint, refresh_token="not-a-token")
        assert unknown.value.error == "invalid_grant"

    log = server.requests()
    authorize = next(r for r in log if r["endpoint"] == "authorize")
    exchange = next(r for r in log if r["endpoint"] == "token")
    assert authorize["code_challenge_method"] == "S256" and authorize["client_id"] == MS_ID
    assert exchange["auth_method"] == "client_secret_post" and exchange["has_code_verifier"] is True
    assert exchange["redirect_uri"] == MICROSOFT_REDIRECT


async def test_microsoft_deny(oauth2_mock_server: OAuth2MockServer) -> None:
    async with oauth_client(MS_ID, MS_SECRET, MICROSOFT_SCOPES, MICROSOFT_REDIRECT) as client:
        url, state, _ = authorize_url(client, oauth2_mock_server.authorization_endpoint, prompt="consent")
        params = query(await oauth2_mock_server.authorize(url, approve=False))
        assert params["error"] == "access_denied" and params["state"] == state and "code" not in params
        # One-shot: the next authorization is approved again.
        code, _, verifier = await ms_code(oauth2_mock_server, client)
        assert (await client.fetch_token(oauth2_mock_server.token_endpoint, code=code, code_verifier=verifier))[
            "access_token"
        ]


async def test_microsoft_code_is_single_use(oauth2_mock_server: OAuth2MockServer) -> None:
    async with oauth_client(MS_ID, MS_SECRET, MICROSOFT_SCOPES, MICROSOFT_REDIRECT) as client:
        code, _, verifier = await ms_code(oauth2_mock_server, client)
        await client.fetch_token(oauth2_mock_server.token_endpoint, code=code, code_verifier=verifier)
        with pytest.raises(OAuthError) as with_verifier:  # refused by the package itself
            await client.fetch_token(oauth2_mock_server.token_endpoint, code=code, code_verifier=verifier)
        assert with_verifier.value.error == "invalid_request"
        with pytest.raises(OAuthError) as without_verifier:  # refused by the wrapper
            await client.fetch_token(oauth2_mock_server.token_endpoint, code=code)
        assert without_verifier.value.error == "invalid_grant"


async def test_microsoft_pkce_is_verified(oauth2_mock_server: OAuth2MockServer) -> None:
    async with oauth_client(MS_ID, MS_SECRET, MICROSOFT_SCOPES, MICROSOFT_REDIRECT) as client:
        code, _, _ = await ms_code(oauth2_mock_server, client)
        with pytest.raises(OAuthError) as wrong:
            await client.fetch_token(oauth2_mock_server.token_endpoint, code=code, code_verifier=generate_token(64))
        assert wrong.value.error == "invalid_request"
        assert "does not match" in (wrong.value.description or "")
        code, _, _ = await ms_code(oauth2_mock_server, client)
        with pytest.raises(OAuthError) as missing:
            await client.fetch_token(oauth2_mock_server.token_endpoint, code=code)
        assert missing.value.error == "invalid_grant"


async def test_microsoft_no_refresh_token(oauth2_mock_server: OAuth2MockServer) -> None:
    server = oauth2_mock_server
    async with oauth_client(MS_ID, MS_SECRET, MICROSOFT_SCOPES, MICROSOFT_REDIRECT) as client:
        server.arm(drop_refresh_token=True)
        code, _, verifier = await ms_code(server, client)
        token = await client.fetch_token(server.token_endpoint, code=code, code_verifier=verifier)
        assert "refresh_token" not in token and token["access_token"]
    without_offline = tuple(s for s in MICROSOFT_SCOPES if s != "offline_access")
    async with oauth_client(MS_ID, MS_SECRET, without_offline, MICROSOFT_REDIRECT) as client:
        code, _, verifier = await ms_code(server, client)
        token = await client.fetch_token(server.token_endpoint, code=code, code_verifier=verifier)
        assert "refresh_token" not in token


async def test_microsoft_scope_stripped(oauth2_mock_server: OAuth2MockServer) -> None:
    server = oauth2_mock_server
    async with oauth_client(MS_ID, MS_SECRET, MICROSOFT_SCOPES, MICROSOFT_REDIRECT) as client:
        server.arm(token_scope="offline_access openid email")
        code, _, verifier = await ms_code(server, client)
        token = await client.fetch_token(server.token_endpoint, code=code, code_verifier=verifier)
    assert MICROSOFT_CALENDAR_SCOPE not in token["scope"].split()
    assert token["refresh_token"]


async def test_microsoft_token_error_and_client_secret(oauth2_mock_server: OAuth2MockServer) -> None:
    server = oauth2_mock_server
    server.require_client_secret(MS_ID, MS_SECRET)
    async with oauth_client(MS_ID, "expired-secret", MICROSOFT_SCOPES, MICROSOFT_REDIRECT) as client:
        code, _, verifier = await ms_code(server, client)
        with pytest.raises(OAuthError) as refused:
            await client.fetch_token(server.token_endpoint, code=code, code_verifier=verifier)
        assert refused.value.error == "invalid_client"
        assert "AADSTS7000215" in (refused.value.description or "")
    async with oauth_client(MS_ID, MS_SECRET, MICROSOFT_SCOPES, MICROSOFT_REDIRECT) as client:
        server.arm(token_error="invalid_grant")
        code, _, verifier = await ms_code(server, client)
        with pytest.raises(OAuthError) as armed:
            await client.fetch_token(server.token_endpoint, code=code, code_verifier=verifier)
        assert armed.value.error == "invalid_grant"


async def test_microsoft_userinfo_needs_a_known_token(oauth2_mock_server: OAuth2MockServer) -> None:
    async with httpx.AsyncClient(trust_env=False) as http:
        anonymous = await http.get(oauth2_mock_server.userinfo_endpoint)
        forged = await http.get(oauth2_mock_server.userinfo_endpoint, headers={"Authorization": "Bearer forged"})
    assert anonymous.status_code == forged.status_code == 401
