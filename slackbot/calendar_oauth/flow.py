"""The connect flow: single-use links, the provider round trip (authlib, PKCE), the Recall calendar.

A link token (in the DM) opens the flow once; a separate OAuth `state` and a browser cookie bind the
provider's redirect to the browser that opened the link. Only hashes of all three are stored.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from sqlalchemy.exc import IntegrityError

from recall.client import RecallClient
from recall.errors import RecallError, RecallNotFound
from slackbot.calendar_oauth.providers import (
    MetadataError,
    ProviderCredentials,
    ProviderMetadata,
)
from storage import deliveries as deliveries_repo
from storage import repositories as repo
from storage.crypto import TokenCipher, lookup_hash
from storage.db import Database
from storage.models import CalendarConnection, CalendarOAuthState, utcnow

logger = logging.getLogger(__name__)

LINK_TTL = timedelta(minutes=10)
BROWSER_COOKIE = "recall_connect"


class ConnectFailure(StrEnum):
    PROVIDER_DISABLED = "provider_disabled"
    PROVIDER_UNAVAILABLE = "provider_unavailable"
    LINK_UNKNOWN = "link_unknown"
    LINK_EXPIRED = "link_expired"
    LINK_USED = "link_used"
    STATE_UNKNOWN = "state_unknown"
    STATE_EXPIRED = "state_expired"
    STATE_USED = "state_used"
    WRONG_BROWSER = "wrong_browser"
    DENIED = "denied"
    PROVIDER_ERROR = "provider_error"
    TOKEN_EXCHANGE_FAILED = "token_exchange_failed"
    NO_REFRESH_TOKEN = "no_refresh_token"
    SCOPE_MISSING = "scope_missing"
    NO_EMAIL = "no_email"
    RECALL_FAILED = "recall_failed"


@dataclass(frozen=True)
class Requester:
    """The Slack member a link was issued to."""

    team_id: str
    user_id: str
    enterprise_id: str | None = None


class ConnectError(Exception):
    """The flow stopped; ``requester`` is known once the state was matched, so the member can be told."""

    def __init__(self, failure: ConnectFailure, *, provider: str, requester: Requester | None = None) -> None:
        super().__init__(failure.value)
        self.failure = failure
        self.provider = provider
        self.requester = requester


@dataclass(frozen=True)
class ConnectStart:
    authorize_url: str
    browser_nonce: str


@dataclass(frozen=True)
class ConnectResult:
    requester: Requester
    provider: str
    email: str
    recall_calendar_id: str
    status: str
    reconnected: bool  # an existing Recall calendar was PATCHed
    replaced_email: str | None  # a different account replaced this one


class ConnectFlow:
    """Issues connect links and runs the provider OAuth round trip into a Recall calendar."""

    def __init__(
        self,
        *,
        db: Database,
        cipher: TokenCipher,
        recall: RecallClient,
        providers: dict[str, ProviderCredentials],
        metadata: ProviderMetadata,
        public_url: str,
    ) -> None:
        self._db = db
        self._cipher = cipher
        self._recall = recall
        self._providers = providers
        self._metadata = metadata
        self._public_url = public_url.rstrip("/")

    @property
    def providers(self) -> dict[str, ProviderCredentials]:
        return self._providers

    def redirect_uri(self, provider: str) -> str:
        return f"{self._public_url}/calendar/oauth/{provider}/callback"

    async def issue_link(self, *, requester: Requester, provider: str) -> str:
        """A fresh single-use link to start connecting ``provider``; valid for LINK_TTL."""
        if provider not in self._providers:
            raise ConnectError(ConnectFailure.PROVIDER_DISABLED, provider=provider, requester=requester)
        token = secrets.token_urlsafe(32)
        async with self._db.transaction() as session:
            session.add(
                CalendarOAuthState(
                    link_token_hash=lookup_hash(token),
                    team_id=requester.team_id,
                    enterprise_id=requester.enterprise_id,
                    slack_user_id=requester.user_id,
                    provider=provider,
                    expires_at=utcnow() + LINK_TTL,
                )
            )
        return f"{self._public_url}/calendar/connect/{provider}?state={token}"

    async def begin(self, *, provider: str, link_token: str | None) -> ConnectStart:
        """Open a link (once) and build the provider's authorize URL."""
        creds = self._providers.get(provider)
        if creds is None:
            raise ConnectError(ConnectFailure.PROVIDER_DISABLED, provider=provider)
        if not link_token:
            raise ConnectError(ConnectFailure.LINK_UNKNOWN, provider=provider)
        async with self._db.transaction() as session:
            state = await repo.find_state_by_link(session, lookup_hash(link_token))
            if state is None or state.provider != provider:
                raise ConnectError(ConnectFailure.LINK_UNKNOWN, provider=provider)
            requester = _requester(state)
            if state.opened_at is not None:
                raise ConnectError(ConnectFailure.LINK_USED, provider=provider, requester=requester)
            if state.expires_at <= utcnow():
                raise ConnectError(ConnectFailure.LINK_EXPIRED, provider=provider, requester=requester)
            state_id = state.id
        try:
            # Outside the transaction: no database lock is held across a network call.
            metadata = await self._metadata.get(creds.metadata_url)
        except MetadataError:
            logger.exception("calendar.connect.metadata_failed", extra={"provider": provider})
            raise ConnectError(ConnectFailure.PROVIDER_UNAVAILABLE, provider=provider, requester=requester) from None
        oauth_state = secrets.token_urlsafe(32)
        nonce = secrets.token_urlsafe(32)
        verifier = generate_token(64)
        async with self._db.transaction() as session:
            claimed = await repo.claim_link(
                session,
                state_id=state_id,
                oauth_state_hash=lookup_hash(oauth_state),
                browser_nonce_hash=lookup_hash(nonce),
                code_verifier_encrypted=self._cipher.encrypt(verifier),
            )
        if not claimed:
            raise ConnectError(ConnectFailure.LINK_USED, provider=provider, requester=requester)
        async with self._oauth_client(creds, metadata) as client:
            url, _ = client.create_authorization_url(
                metadata["authorization_endpoint"],
                state=oauth_state,
                code_verifier=verifier,
                **creds.spec.authorize_params,
            )
        logger.info("calendar.connect.started", extra={"provider": provider, "team_id": requester.team_id})
        return ConnectStart(authorize_url=url, browser_nonce=nonce)

    async def complete(self, *, provider: str, params: dict[str, str], browser_nonce: str | None) -> ConnectResult:
        """Handle the provider's redirect: check state, exchange the code, create or PATCH the Recall calendar."""
        creds = self._providers.get(provider)
        if creds is None:
            raise ConnectError(ConnectFailure.PROVIDER_DISABLED, provider=provider)
        oauth_state = params.get("state") or ""
        async with self._db.transaction() as session:
            state = await repo.find_state_by_oauth_state(session, lookup_hash(oauth_state)) if oauth_state else None
            if state is None or state.provider != provider or state.code_verifier_encrypted is None:
                raise ConnectError(ConnectFailure.STATE_UNKNOWN, provider=provider)
            requester = _requester(state)
            if state.used_at is not None:
                raise ConnectError(ConnectFailure.STATE_USED, provider=provider, requester=requester)
            if state.expires_at <= utcnow():
                raise ConnectError(ConnectFailure.STATE_EXPIRED, provider=provider, requester=requester)
            if not browser_nonce or state.browser_nonce_hash != lookup_hash(browser_nonce):
                # Not consumed: the member's own browser can still finish.
                raise ConnectError(ConnectFailure.WRONG_BROWSER, provider=provider, requester=requester)
            if not await repo.consume_state(session, state_id=state.id):
                raise ConnectError(ConnectFailure.STATE_USED, provider=provider, requester=requester)
            verifier = self._cipher.decrypt(state.code_verifier_encrypted)

        def fail(failure: ConnectFailure) -> ConnectError:
            return ConnectError(failure, provider=provider, requester=requester)

        if params.get("error"):
            logger.info(
                "calendar.connect.provider_error",
                extra={"provider": provider, "error": params["error"][:64]},
            )
            raise fail(ConnectFailure.DENIED if params["error"] == "access_denied" else ConnectFailure.PROVIDER_ERROR)
        code = params.get("code")
        if not code:
            raise fail(ConnectFailure.PROVIDER_ERROR)
        try:
            metadata = await self._metadata.get(creds.metadata_url)
        except MetadataError:
            raise fail(ConnectFailure.PROVIDER_UNAVAILABLE) from None

        async with self._oauth_client(creds, metadata) as client:
            try:
                token = await client.fetch_token(
                    metadata["token_endpoint"], code=code, code_verifier=verifier, grant_type="authorization_code"
                )
            except (OAuthError, httpx.HTTPError, ValueError) as exc:
                logger.warning(
                    "calendar.connect.token_exchange_failed",
                    extra={"provider": provider, "reason": type(exc).__name__},
                )
                raise fail(ConnectFailure.TOKEN_EXCHANGE_FAILED) from None
            refresh_token = token.get("refresh_token")
            if not refresh_token:
                raise fail(ConnectFailure.NO_REFRESH_TOKEN)
            if not _calendar_scope_granted(token, creds):
                raise fail(ConnectFailure.SCOPE_MISSING)
            email = await _member_email(client, metadata, token)
        if not email:
            raise fail(ConnectFailure.NO_EMAIL)

        return await self._store_calendar(
            requester=requester, creds=creds, email=email, refresh_token=refresh_token, fail=fail
        )

    async def _store_calendar(
        self,
        *,
        requester: Requester,
        creds: ProviderCredentials,
        email: str,
        refresh_token: str,
        fail: Any,
    ) -> ConnectResult:
        provider = creds.spec.name
        async with self._db.transaction() as session:
            member = await repo.find_member(session, team_id=requester.team_id, slack_user_id=requester.user_id)
            existing = await repo.find_connection(session, member_id=member.id, provider=provider) if member else None
            existing_id = existing.recall_calendar_id if existing else None
            existing_email = existing.email if existing else None

        reconnected = False
        calendar = None
        try:
            if existing_id and existing_email and existing_email.lower() == email.lower():
                try:
                    calendar = await self._recall.update_calendar(
                        existing_id,
                        oauth_refresh_token=refresh_token,
                        oauth_client_id=creds.client_id,
                        oauth_client_secret=creds.client_secret,
                    )
                    reconnected = True
                except RecallNotFound:
                    calendar = None  # deleted at Recall's side: make a new one below
            if calendar is None:
                calendar = await self._recall.create_calendar(
                    platform=creds.spec.recall_platform,
                    oauth_client_id=creds.client_id,
                    oauth_client_secret=creds.client_secret,
                    oauth_refresh_token=refresh_token,
                    oauth_email=email,
                )
        except RecallError as exc:
            logger.warning(
                "calendar.connect.recall_failed",
                extra={"provider": provider, "error": type(exc).__name__, "status": getattr(exc, "status", None)},
            )
            raise fail(ConnectFailure.RECALL_FAILED) from None

        replaced_calendar = existing_id if existing_id and existing_id != calendar.id else None
        try:
            async with self._db.transaction() as session:
                member = await repo.get_or_create_member(
                    session,
                    team_id=requester.team_id,
                    slack_user_id=requester.user_id,
                    enterprise_id=requester.enterprise_id,
                )
                connection = await repo.find_connection(session, member_id=member.id, provider=provider)
                if connection is None:
                    connection = CalendarConnection(member_id=member.id, provider=provider)
                    session.add(connection)
                connection.email = email
                connection.recall_calendar_id = calendar.id
                connection.status = calendar.status
                connection.status_notified = None
                connection.refresh_token_encrypted = self._cipher.encrypt(refresh_token)
                # List the calendar soon even if Recall's first webhook is missed; Recall creates the
                # calendar's events after the calendar, so its creation time bounds the first listing.
                await deliveries_repo.request_sync(
                    session,
                    recall_calendar_id=calendar.id,
                    until=None,
                    since=calendar.created_at - timedelta(minutes=2),
                )
        except IntegrityError:
            logger.warning("calendar.connect.race", extra={"provider": provider})
            if not reconnected:
                await self._delete_quietly(calendar.id)
            raise fail(ConnectFailure.RECALL_FAILED) from None

        if replaced_calendar:
            await self._delete_quietly(replaced_calendar)
        logger.info(
            "calendar.connect.completed",
            extra={"provider": provider, "team_id": requester.team_id, "recall_calendar_id": calendar.id},
        )
        return ConnectResult(
            requester=requester,
            provider=provider,
            email=email,
            recall_calendar_id=calendar.id,
            status=calendar.status,
            reconnected=reconnected,
            # Only another account replaces one; the same account on a new calendar (Recall lost the old) doesn't.
            replaced_email=existing_email
            if replaced_calendar and existing_email and existing_email.lower() != email.lower()
            else None,
        )

    async def _delete_quietly(self, calendar_id: str) -> None:
        try:
            await self._recall.delete_calendar(calendar_id)
        except RecallError:
            logger.exception("calendar.connect.cleanup_failed", extra={"recall_calendar_id": calendar_id})

    def _oauth_client(self, creds: ProviderCredentials, metadata: dict[str, Any]) -> AsyncOAuth2Client:
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


def _requester(state: CalendarOAuthState) -> Requester:
    return Requester(team_id=state.team_id, user_id=state.slack_user_id, enterprise_id=state.enterprise_id)


def _calendar_scope_granted(token: dict[str, Any], creds: ProviderCredentials) -> bool:
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


def _email_from_claims(claims: dict[str, Any]) -> str | None:
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
