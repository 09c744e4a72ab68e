"""Connecting a member's calendar: single-use links, the provider round trip, the Recall calendar.

A link token (in the DM) opens the flow once; a separate OAuth `state` and a browser cookie bind the provider's
redirect to the browser that opened the link. Only hashes of all three are stored. The provider half (authlib)
lives in `calendar_oauth.exchange`; the HTTP routes in `web.calendar`.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from authlib.common.security import generate_token
from sqlalchemy.exc import IntegrityError

from recall.client import RecallClient
from recall.errors import RecallError, RecallNotFound
from recall.models import Calendar
from slackbot.blocks import connect as blocks
from slackbot.calendar_oauth.exchange import Grant, ProviderOAuth, ProviderRefused
from slackbot.calendar_oauth.failures import ConnectError, ConnectFailure
from slackbot.calendar_oauth.links import LINK_TTL, connect_path
from slackbot.calendar_oauth.providers import ProviderCredentials
from slackbot.requester import Requester
from slackbot.slack.gateway import PostedMessage, SlackGateway
from slackbot.words import provider_label
from storage import calendar_deletions, connections, meetings, members, oauth_states, syncs
from storage.crypto import TokenCipher, lookup_hash
from storage.db import Database
from storage.models import CalendarConnection, CalendarOAuthState, utcnow

logger = logging.getLogger(__name__)

# Recall creates a calendar's events after the calendar; its creation time (less our clocks' difference) bounds
# the first listing.
FIRST_LISTING_MARGIN = timedelta(minutes=2)


class _Stage(Enum):
    """Which half of the round trip a state is checked for: the link opened, or the provider's redirect."""

    LINK = "link"
    REDIRECT = "redirect"


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


class ConnectService:
    def __init__(
        self,
        *,
        db: Database,
        cipher: TokenCipher,
        recall: RecallClient,
        oauth: ProviderOAuth,
        gateway: SlackGateway,
        public_url: str,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._db = db
        self._cipher = cipher
        self._recall = recall
        self._oauth = oauth
        self._gateway = gateway
        self._public_url = public_url.rstrip("/")
        self._clock = clock

    @property
    def providers(self) -> dict[str, ProviderCredentials]:
        return self._oauth.providers

    # ---- links ------------------------------------------------------------------------------------------------

    async def issue_link(self, *, requester: Requester, provider: str) -> str:
        """A fresh single-use link to start connecting ``provider``; valid for LINK_TTL."""
        if provider not in self.providers:
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
                    expires_at=self._clock() + LINK_TTL,
                )
            )
        return f"{self._public_url}{connect_path(provider)}?state={token}"

    async def send_links(
        self, *, requester: Requester, providers: Sequence[str], reconnect: bool = False
    ) -> PostedMessage:
        """DM the member one fresh link per provider. Raises what the gateway raises if Slack refuses."""
        links = [
            blocks.ConnectLink(
                provider=name,
                label=self.providers[name].spec.label,
                url=await self.issue_link(requester=requester, provider=name),
            )
            for name in providers
        ]
        return await self._gateway.post_dm(requester, blocks.connect_links(links, reconnect=reconnect))

    async def retry_link(self, error: ConnectError) -> blocks.ConnectLink | None:
        """A fresh link for a member whose connect failed, when another go can work."""
        if error.requester is None or error.provider not in self.providers:
            return None
        url = await self.issue_link(requester=error.requester, provider=error.provider)
        return blocks.ConnectLink(provider=error.provider, label=provider_label(error.provider), url=url)

    # ---- the round trip ---------------------------------------------------------------------------------------

    async def begin(self, *, provider: str, link_token: str | None) -> ConnectStart:
        """Open a link (once) and build the provider's authorize URL."""
        if provider not in self.providers:
            raise ConnectError(ConnectFailure.PROVIDER_DISABLED, provider=provider)
        async with self._db.transaction() as session:
            state = await oauth_states.find_state_by_link(session, lookup_hash(link_token)) if link_token else None
            requester = self._check(state, provider=provider, stage=_Stage.LINK)
            state_id = state.id if state else 0
        oauth_state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), generate_token(64)
        try:
            # Before the link is used up: an unreachable provider leaves the link working.
            url = await self._oauth.authorize_url(provider, state=oauth_state, code_verifier=verifier)
        except ProviderRefused as refused:
            raise ConnectError(refused.failure, provider=provider, requester=requester) from None
        async with self._db.transaction() as session:
            claimed = await oauth_states.claim_link(
                session,
                state_id=state_id,
                oauth_state_hash=lookup_hash(oauth_state),
                browser_nonce_hash=lookup_hash(nonce),
                code_verifier_encrypted=self._cipher.encrypt(verifier),
                now=self._clock(),
            )
        if not claimed:
            raise ConnectError(ConnectFailure.LINK_USED, provider=provider, requester=requester)
        logger.info("calendar.connect.started", extra={"provider": provider, "team_id": requester.team_id})
        return ConnectStart(authorize_url=url, browser_nonce=nonce)

    async def complete(self, *, provider: str, params: dict[str, str], browser_nonce: str | None) -> ConnectResult:
        """Handle the provider's redirect: check state, exchange the code, create or PATCH the Recall calendar."""
        if provider not in self.providers:
            raise ConnectError(ConnectFailure.PROVIDER_DISABLED, provider=provider)
        oauth_state = params.get("state") or ""
        async with self._db.transaction() as session:
            state = (
                await oauth_states.find_state_by_oauth_state(session, lookup_hash(oauth_state)) if oauth_state else None
            )
            requester = self._check(state, provider=provider, stage=_Stage.REDIRECT)
            assert state is not None and state.code_verifier_encrypted is not None  # checked above
            if not browser_nonce or state.browser_nonce_hash != lookup_hash(browser_nonce):
                # Not consumed: the member's own browser can still finish.
                raise ConnectError(ConnectFailure.WRONG_BROWSER, provider=provider, requester=requester)
            if not await oauth_states.consume_state(session, state_id=state.id, now=self._clock()):
                raise ConnectError(ConnectFailure.STATE_USED, provider=provider, requester=requester)
            verifier = self._cipher.decrypt(state.code_verifier_encrypted)
        try:
            grant = await self._oauth.exchange(provider, params=params, code_verifier=verifier)
        except ProviderRefused as refused:
            raise ConnectError(refused.failure, provider=provider, requester=requester) from None
        return await self._store_calendar(requester=requester, creds=self.providers[provider], grant=grant)

    def _check(self, state: CalendarOAuthState | None, *, provider: str, stage: _Stage) -> Requester:
        """The one check of a link or a redirect's state: known, for this provider, unused, unexpired."""
        opened = stage is _Stage.REDIRECT
        unknown = ConnectFailure.STATE_UNKNOWN if opened else ConnectFailure.LINK_UNKNOWN
        if state is None or state.provider != provider or (opened and state.code_verifier_encrypted is None):
            raise ConnectError(unknown, provider=provider)
        requester = Requester(team_id=state.team_id, user_id=state.slack_user_id, enterprise_id=state.enterprise_id)
        used_at = state.used_at if opened else state.opened_at
        if used_at is not None:
            used = ConnectFailure.STATE_USED if opened else ConnectFailure.LINK_USED
            raise ConnectError(used, provider=provider, requester=requester)
        if state.expires_at <= self._clock():
            expired = ConnectFailure.STATE_EXPIRED if opened else ConnectFailure.LINK_EXPIRED
            raise ConnectError(expired, provider=provider, requester=requester)
        return requester

    # ---- the Recall calendar ----------------------------------------------------------------------------------

    async def _store_calendar(self, *, requester: Requester, creds: ProviderCredentials, grant: Grant) -> ConnectResult:
        provider, email = creds.spec.name, grant.email
        async with self._db.transaction() as session:
            member = await members.find_member(session, team_id=requester.team_id, slack_user_id=requester.user_id)
            existing = (
                await connections.find_connection(session, member_id=member.id, provider=provider) if member else None
            )
            existing_id = existing.recall_calendar_id if existing else None
            existing_email = existing.email if existing else None

        same_account = bool(existing_email and existing_email.lower() == email.lower())
        try:
            calendar = await self._recall_calendar(creds, grant, reuse=existing_id if same_account else None)
        except RecallError as exc:
            logger.warning(
                "calendar.connect.recall_failed",
                extra={"provider": provider, "error": type(exc).__name__, "status": getattr(exc, "status", None)},
            )
            raise ConnectError(ConnectFailure.RECALL_FAILED, provider=provider, requester=requester) from None
        reconnected = calendar.id == existing_id

        try:
            async with self._db.transaction() as session:
                now = self._clock()
                member = await members.get_or_create_member(
                    session,
                    team_id=requester.team_id,
                    slack_user_id=requester.user_id,
                    enterprise_id=requester.enterprise_id,
                )
                connection = await connections.find_connection(session, member_id=member.id, provider=provider)
                if connection is None:
                    connection = CalendarConnection(
                        member_id=member.id,
                        provider=provider,
                        email=email,
                        recall_calendar_id=calendar.id,
                        status=calendar.status,
                        refresh_token_encrypted="",
                    )
                    session.add(connection)
                    await session.flush()
                elif connection.recall_calendar_id != calendar.id:
                    # Another account, or Recall lost the old calendar: what we knew of the old one goes with it.
                    await meetings.forget_connection_meetings(session, connection_id=connection.id)
                    await syncs.forget_syncs(session, [connection.recall_calendar_id])
                connection.email = email
                connection.recall_calendar_id = calendar.id
                await connections.set_status(session, connection, calendar.status, now=now)
                connection.status_notified = None
                connection.refresh_token_encrypted = self._cipher.encrypt(grant.refresh_token)
                # List the calendar soon even if Recall's first webhook is missed.
                await syncs.request_sync(
                    session,
                    recall_calendar_id=calendar.id,
                    until=None,
                    since=calendar.created_at - FIRST_LISTING_MARGIN,
                )
        except IntegrityError:
            logger.warning("calendar.connect.race", extra={"provider": provider})
            if not reconnected:
                await self._delete_later(calendar.id)
            raise ConnectError(ConnectFailure.RECALL_FAILED, provider=provider, requester=requester) from None

        replaced_calendar = existing_id if existing_id and existing_id != calendar.id else None
        if replaced_calendar:
            await self._delete_later(replaced_calendar)
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
            replaced_email=existing_email if replaced_calendar and not same_account else None,
        )

    async def _recall_calendar(self, creds: ProviderCredentials, grant: Grant, *, reuse: str | None) -> Calendar:
        """PATCH the member's existing Recall calendar (same id, history kept), else create one."""
        if reuse is not None:
            try:
                return await self._recall.update_calendar(
                    reuse,
                    oauth_refresh_token=grant.refresh_token,
                    oauth_client_id=creds.client_id,
                    oauth_client_secret=creds.client_secret,
                )
            except RecallNotFound:
                pass  # deleted at Recall's side: make a new one
        return await self._recall.create_calendar(
            platform=creds.spec.recall_platform,
            oauth_client_id=creds.client_id,
            oauth_client_secret=creds.client_secret,
            oauth_refresh_token=grant.refresh_token,
            oauth_email=grant.email,
        )

    async def _delete_later(self, calendar_id: str) -> None:
        """Delete a Recall calendar we no longer use, now or (if Recall does not answer) by the retry job."""
        try:
            await self._recall.delete_calendar(calendar_id)
        except RecallError:
            logger.warning("calendar.connect.cleanup_failed", extra={"recall_calendar_id": calendar_id})
            async with self._db.transaction() as session:
                await calendar_deletions.schedule_calendar_deletion(session, calendar_id, now=self._clock())
