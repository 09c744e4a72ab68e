"""The composition root: builds every collaborator once from the settings (tests pass the twins' URLs) and
closes them at the end."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore

from recall.client import RecallClient
from slackbot.calendar_oauth.exchange import ProviderOAuth
from slackbot.calendar_oauth.providers import ProviderMetadata, configured_providers
from slackbot.services.attention import AttentionService
from slackbot.services.bot_actions import BotActions
from slackbot.services.bot_webhooks import BotWebhooks
from slackbot.services.calendar_status import CalendarStatusService
from slackbot.services.calendar_sync import CalendarSyncer
from slackbot.services.connect import ConnectService
from slackbot.services.connections import ConnectionService
from slackbot.services.digests import DigestService
from slackbot.services.home import HomeService
from slackbot.services.intake_lull import IntakeLull
from slackbot.services.meetings import MeetingService
from slackbot.services.policy import PolicyService
from slackbot.services.profiles import ProfileService
from slackbot.services.reconciler import Reconciler
from slackbot.services.reminders import ReminderService
from slackbot.services.webhook_processor import DeliveryProcessor
from slackbot.settings import Settings
from slackbot.slack.gateway import SlackGateway
from slackbot.slack.installation_store import EncryptedInstallationStore
from slackbot.slack.pacing import SlackPacer, method_limits
from storage.crypto import TokenCipher
from storage.db import Database
from storage.models import utcnow

RECALL_INLINE_WAIT = 5.0


@dataclass
class Services:
    settings: Settings
    db: Database
    cipher: TokenCipher
    http: httpx.AsyncClient
    recall: RecallClient
    installation_store: AsyncInstallationStore | None
    gateway: SlackGateway
    connect: ConnectService
    connections: ConnectionService
    meetings: MeetingService
    bots: BotActions
    policy: PolicyService
    attention: AttentionService
    home: HomeService
    digests: DigestService
    reminders: ReminderService
    profiles: ProfileService
    syncer: CalendarSyncer
    processor: DeliveryProcessor
    lull: IntakeLull

    async def aclose(self) -> None:
        await self.recall.aclose()
        await self.gateway.aclose()
        await self.http.aclose()
        await self.db.dispose()


def build_services(
    settings: Settings,
    *,
    db: Database | None = None,
    recall: RecallClient | None = None,
    lull: IntakeLull | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Services:
    """``db``, ``recall``, ``lull`` and ``clock`` may be injected (tests use a Recall client with short back-offs,
    hold the intake busy, and move the clock instead of sleeping)."""
    db = db or Database.from_url(settings.database_url)
    cipher = TokenCipher(settings.secret_keys)
    http = httpx.AsyncClient(timeout=15)
    # A Retry-After longer than a few seconds is not slept inside a call (a meeting may be held): the caller tries
    # again after it.
    recall = recall or RecallClient(
        api_key=settings.recall_api_key, base_url=settings.recall_base_url, max_retry_after=RECALL_INLINE_WAIT
    )
    store = (
        EncryptedInstallationStore(client_id=settings.slack_client_id, engine=db.engine, cipher=cipher)
        if settings.multi_workspace
        else None
    )
    pacer = SlackPacer(limits=method_limits(posts_per_minute=settings.slack_posts_per_minute))
    gateway = SlackGateway(
        api_url=settings.slack_api_url,
        db=db,
        bot_token=None if settings.multi_workspace else settings.slack_bot_token,
        installation_store=store,
        pacer=pacer if settings.slack_pacing else None,
    )
    oauth = ProviderOAuth(
        providers=configured_providers(settings), metadata=ProviderMetadata(http), public_url=settings.public_base_url
    )
    connect = ConnectService(
        db=db,
        cipher=cipher,
        recall=recall,
        oauth=oauth,
        gateway=gateway,
        public_url=settings.public_base_url,
        clock=clock,
    )
    lease = timedelta(seconds=settings.work_lease_seconds)
    reconciler = Reconciler(
        db=db,
        recall=recall,
        gateway=gateway,
        bot_name=settings.bot_name,
        lease=lease,
        transcript_provider=settings.transcript_provider,
    )
    digests = DigestService(db=db, gateway=gateway, lease=lease, clock=clock)
    lull = lull or IntakeLull()
    meetings = MeetingService(db=db, reconciler=reconciler, digests=digests, lull=lull, clock=clock)
    syncer = CalendarSyncer(db=db, recall=recall, meetings=meetings, lease=lease, clock=clock)
    status = CalendarStatusService(db=db, recall=recall, gateway=gateway, connect=connect, clock=clock)
    connections = ConnectionService(db=db, recall=recall, installation_store=store, clock=clock)
    policy = PolicyService(db=db, meetings=meetings, clock=clock)
    profiles = ProfileService(db=db, gateway=gateway, clock=clock)
    home = HomeService(
        db=db,
        connections=connections,
        connect=connect,
        policy=policy,
        profiles=profiles,
        gateway=gateway,
        default_bot_name=settings.bot_name,
        clock=clock,
    )
    return Services(
        settings=settings,
        db=db,
        cipher=cipher,
        http=http,
        recall=recall,
        installation_store=store,
        gateway=gateway,
        connect=connect,
        connections=connections,
        meetings=meetings,
        bots=BotActions(db=db, recall=recall, bot_name=settings.bot_name, follow=meetings.reconcile, clock=clock),
        policy=policy,
        attention=AttentionService(db=db, clock=clock),
        home=home,
        digests=digests,
        reminders=ReminderService(db=db, gateway=gateway, clock=clock),
        profiles=profiles,
        syncer=syncer,
        processor=DeliveryProcessor(
            db=db,
            status=status,
            syncer=syncer,
            bots=BotWebhooks(db=db, recall=recall, clock=clock),
            follow=meetings.follow_bots,
            lease=lease,
            clock=clock,
        ),
        lull=lull,
    )
