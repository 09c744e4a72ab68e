"""The provider half of connecting a calendar (authlib): the authorize URL, and the code exchanged for lasting
access and the account's email. Knows nothing of links, members or Recall."""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client

from slackbot.calendar_oauth.failures import ConnectFailure
from slackbot.calendar_oauth.links import callback_path
from slackbot.calendar_oauth.providers import MetadataError, ProviderCredentials, ProviderMetadata

logger = logging.getLogger(__name__)


class ProviderRefused(Exception):
    """The provider did not give what connecting needs; ``failure`` says which part."""

    def __init__(self, failure: ConnectFailure) -> None:
        super().__init__(failure.value)
        self.failure = failure


@dataclass(frozen=True)
class Grant:
    refresh_token: str
    email: str


class ProviderOAuth:
    def __init__(
        self, *, providers: dict[str, ProviderCredentials], metadata: ProviderMetadata, public_url: str
    ) -> None:
        self._providers = providers
        self._metadata = metadata
        self._public_url = public_url.rstrip("/")

    @property
    def providers(self) -> dict[str, ProviderCredentials]:
        return self._providers

    def redirect_uri(self, provider: str) -> str:
        return f"{self._public_url}{callback_path(provider)}"

    async def authorize_url(self, provider: str, *, state: str, code_verifier: str) -> str:
        """The provider's consent page for ``provider`` (PKCE S256, read-only scopes, offline access)."""
        creds = self._providers[provider]
        metadata = await self._discover(creds)
        async with self._client(creds, metadata) as client:
            url, _ = client.create_authorization_url(
                metadata["authorization_endpoint"],
                state=state,
                code_verifier=code_verifier,
                **creds.spec.authorize_params,
            )
        return str(url)

    async def exchange(self, provider: str, *, params: dict[str, str], code_verifier: str) -> Grant:
        """Turn the provider's redirect (``code``, or ``error``) into lasting access and the account's email."""
        creds = self._providers[provider]
        if params.get("error"):
            logger.info("calendar.connect.provider_error", extra={"provider": provider, "error": params["error"][:64]})
            denied = params["error"] == "access_denied"
            raise ProviderRefused(ConnectFailure.DENIED if denied else ConnectFailure.PROVIDER_ERROR)
        code = params.get("code")
        if not code:
            raise ProviderRefused(ConnectFailure.PROVIDER_ERROR)
        metadata = await self._discover(creds)
        async with self._client(creds, metadata) as client:
            try:
                token = await client.fetch_token(
                    metadata["token_endpoint"], code=code, code_verifier=code_verifier, grant_type="authorization_code"
                )
            except (OAuthError, httpx.HTTPError, ValueError) as exc:
                logger.warning(
                    "calendar.connect.token_exchange_failed", extra={"provider": provider, "reason": type(exc).__name__}
                )
                raise ProviderRefused(ConnectFailure.TOKEN_EXCHANGE_FAILED) from None
            refresh_token = token.get("refresh_token")
            if not refresh_token:
                raise ProviderRefused(ConnectFailure.NO_REFRESH_TOKEN)
            if not calendar_scope_granted(token, creds):
                raise ProviderRefused(ConnectFailure.SCOPE_MISSING)
            email = await _member_email(client, metadata, token)
        if not email:
            raise ProviderRefused(ConnectFailure.NO_EMAIL)
        return Grant(refresh_token=refresh_token, email=email)

    async def _discover(self, creds: ProviderCredentials) -> dict[str, Any]:
        try:
            return await self._metadata.get(creds.metadata_url)
        except MetadataError:
            logger.exception("calendar.connect.metadata_failed", extra={"provider": creds.spec.name})
            raise ProviderRefused(ConnectFailure.PROVIDER_UNAVAILABLE) from None

    def _client(self, creds: ProviderCredentials, metadata: dict[str, Any]) -> AsyncOAuth2Client:
        supported = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        auth_method = "client_secret_basic" if "client_secret_basic" in supported else "client_secret_post"
        return AsyncOAuth2Client(
            client_id=creds.client_id,
            client_secret=creds.client_secret,
            scope=" ".join(creds.spec.scopes),
            redirect_uri=self.redirect_uri(creds.spec.name),
            code_challenge_method="S256",
            token_endpoint_auth_method=auth_method,
            timeout=15,
        )


def calendar_scope_granted(token: dict[str, Any], creds: ProviderCredentials) -> bool:
    """Google lets members untick the calendar box; the token's `scope` then lacks it (RFC 6749 §5.1)."""
    scope = token.get("scope")
    if scope is None:
        return True  # omitted means "as requested"
    granted = set(scope.split()) if isinstance(scope, str) else set(scope)
    return bool(granted & creds.spec.calendar_scopes)


async def _member_email(client: AsyncOAuth2Client, metadata: dict[str, Any], token: dict[str, Any]) -> str | None:
    """The account's email: the userinfo endpoint when there is one, else the id_token's claims."""
    userinfo_endpoint = metadata.get("userinfo_endpoint")
    if userinfo_endpoint:
        try:
            response = await client.get(userinfo_endpoint)
            if response.status_code == 200:
                email = _email_from_claims(response.json())
                if email:
                    return email
        except (httpx.HTTPError, ValueError):
            logger.warning("calendar.connect.userinfo_failed")
    id_token = token.get("id_token")
    if isinstance(id_token, str):
        # Received straight from the token endpoint over TLS: OIDC Core §3.1.3.7 allows
        # relying on TLS instead of checking the signature here.
        return _email_from_claims(_jwt_claims(id_token))
    return None


def _email_from_claims(claims: object) -> str | None:
    if not isinstance(claims, dict):
        return None
    for key in ("email", "preferred_username", "upn"):
        value = claims.get(key)
        if isinstance(value, str) and "@" in value:
            return value.strip()
    return None


def _jwt_claims(jwt: str) -> dict[str, Any]:
    try:
        payload = jwt.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}
