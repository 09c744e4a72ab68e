"""SQLAlchemy models for what this app owns (Slack's installation tables live in slack_tables.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Date, DateTime, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from storage.lifecycle import (
    AlertStatus,
    BotPhase,
    DeliveryStatus,
    DigestKind,
    MediaState,
    ReconcileStatus,
    ReminderStatus,
    SyncStatus,
)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


def status_column(enum: type[StrEnum]) -> Enum:
    """A lifecycle status stored as its value (a VARCHAR with a CHECK, the same on SQLite and PostgreSQL)."""
    return Enum(
        enum,
        name=f"{enum.__name__.lower()}",
        native_enum=False,
        create_constraint=False,
        length=16,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class LeaseColumns:
    """Rows that processes claim (storage.leases): who holds the row, and until when."""

    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Member(Base):
    """A Slack user in a workspace who has used the app."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("team_id", "slack_user_id", name="uq_members_team_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    slack_user_id: Mapped[str] = mapped_column(String(32))
    dm_channel_id: Mapped[str | None] = mapped_column(String(32))
    # The member's recording rule (None: the workspace's default applies) and title keywords never recorded.
    rule: Mapped[str | None] = mapped_column(String(16))
    rule_accepted_only: Mapped[bool] = mapped_column(default=False)
    excluded_keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    # What the member hears from the app: a DM per new meeting (each | undecided | off), the daily agenda's
    # local time in minutes after midnight (None: no agenda), reminders before undecided meetings.
    notify: Mapped[str] = mapped_column(String(16), default="each")
    agenda_minute: Mapped[int | None] = mapped_column(default=8 * 60 + 30)
    remind: Mapped[bool] = mapped_column(default=True)
    # From Slack's users.info: the member's time zone, and whether they are still an active member.
    timezone: Mapped[str | None] = mapped_column(String(64))
    profile_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(default=True)
    # When the member last opened the App Home, and when it should be published again (None: up to date).
    home_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    home_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    connections: Mapped[list[CalendarConnection]] = relationship(
        back_populates="member", cascade="all, delete-orphan", passive_deletes=True
    )


class SeriesChoice(Base):
    """A member's standing choice for every occurrence of a recurring series ("always" / "never")."""

    __tablename__ = "series_choices"
    __table_args__ = (UniqueConstraint("member_id", "series_id", name="uq_series_choices_member_series"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    series_id: Mapped[str] = mapped_column(String(255))
    choice: Mapped[str] = mapped_column(String(16))  # "schedule" | "skip"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WorkspacePolicy(Base):
    """What a workspace's admins set for everyone: the default rule, keywords, company domains, enforcement,
    the bot's name."""

    __tablename__ = "workspace_policies"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    default_rule: Mapped[str | None] = mapped_column(String(16))
    default_accepted_only: Mapped[bool] = mapped_column(default=False)
    excluded_keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    enforce_external: Mapped[bool] = mapped_column(default=False)
    bot_name: Mapped[str | None] = mapped_column(String(100))
    # The notice the bot posts in the meeting's chat when it joins: on unless an admin turned it off, and the
    # admin's own text (None: the default wording).
    consent_enabled: Mapped[bool] = mapped_column(default=True)
    consent_text: Mapped[str | None] = mapped_column(Text)
    # The app's id, from the requests Slack sends (for links to its Home tab).
    app_id: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Digest(LeaseColumns, Base):
    """A message showing several of a member's meetings (a day's agenda, the summary on connecting), kept in
    line with them in place until ``live_until``."""

    __tablename__ = "digests"
    __table_args__ = (
        UniqueConstraint("member_id", "kind", "key", name="uq_digests_member_kind_key"),
        Index("ix_digests_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    kind: Mapped[DigestKind] = mapped_column(status_column(DigestKind))
    # The agenda's local day (YYYY-MM-DD), or the summary's connection.
    key: Mapped[str] = mapped_column(String(64))
    day: Mapped[date | None] = mapped_column(Date)
    connection_id: Mapped[int | None] = mapped_column(ForeignKey("calendar_connections.id", ondelete="CASCADE"))
    # The summary's: the account the new calendar replaced, said on every render ("replacing ...").
    replaced_email: Mapped[str | None] = mapped_column(String(320))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    rendered_hash: Mapped[str | None] = mapped_column(String(64))
    # Only the first run may post (an agenda is sent at its time or not at all); later runs update in place.
    may_post: Mapped[bool] = mapped_column(default=True)
    # A post left at this (wall-clock) time and no answer has recorded it yet (a crash, a lost reply): before posting
    # again, the DM's history is searched for it.
    post_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[ReconcileStatus] = mapped_column(status_column(ReconcileStatus), default=ReconcileStatus.PENDING)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(default=1)
    live_until: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CalendarConnection(Base):
    """One member's connected calendar at one provider, and the Recall calendar made from it."""

    __tablename__ = "calendar_connections"
    __table_args__ = (UniqueConstraint("member_id", "provider", name="uq_connections_member_provider"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(16))  # "google" | "microsoft"
    email: Mapped[str] = mapped_column(String(320))
    recall_calendar_id: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(32), default="connecting")
    refresh_token_encrypted: Mapped[str] = mapped_column(Text)
    status_notified: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    member: Mapped[Member] = relationship(back_populates="connections")


class CalendarOAuthState(Base):
    """A single-use connect link and the provider round trip it starts.

    Only hashes of the random link token, OAuth state and browser nonce are stored.
    """

    __tablename__ = "calendar_oauth_states"
    __table_args__ = (Index("ix_calendar_oauth_states_expires_at", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    link_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    oauth_state_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    browser_nonce_hash: Mapped[str | None] = mapped_column(String(64))
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    team_id: Mapped[str] = mapped_column(String(32))
    slack_user_id: Mapped[str] = mapped_column(String(32))
    provider: Mapped[str] = mapped_column(String(16))
    code_verifier_encrypted: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PendingCalendarDeletion(Base):
    """A Recall calendar to delete once Recall answers (after an uninstall or a failed clean-up)."""

    __tablename__ = "pending_calendar_deletions"

    recall_calendar_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(LeaseColumns, Base):
    """A verified Recall webhook, stored before it is acknowledged and processed after."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(128), unique=True)
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[DeliveryStatus] = mapped_column(status_column(DeliveryStatus), default=DeliveryStatus.PENDING)
    # Not to be processed before this (set after a failed attempt: back-off).
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(200))


class CalendarSync(LeaseColumns, Base):
    """Per Recall calendar: how far its events have been listed, and whether a listing is due."""

    __tablename__ = "calendar_syncs"
    __table_args__ = (Index("ix_calendar_syncs_status_due", "status", "due_at"),)

    recall_calendar_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[SyncStatus] = mapped_column(status_column(SyncStatus), default=SyncStatus.DUE)
    # Not before this (a failed listing pauses before the next try).
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # `updated_at__gte` for the next listing; None means "the whole window" (first sync).
    cursor: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The newest `last_updated_ts` a webhook announced and no listing has covered yet, and the oldest (the next
    # listing starts no later than it).
    requested_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    requested_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the last successful listing began (webhooks received before then were covered by it).
    listing_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped by every request; a listing sets IDLE only if no request arrived while it ran.
    requests: Mapped[int] = mapped_column(default=0)
    attempts: Mapped[int] = mapped_column(default=0)
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Meeting(LeaseColumns, Base):
    """Our copy of a Recall calendar event (one member's occurrence of a meeting), what the member chose, the bot
    we scheduled for it and the Slack message that shows it."""

    __tablename__ = "meetings"
    __table_args__ = (
        Index("ix_meetings_connection_start", "connection_id", "start_time"),
        Index("ix_meetings_team_scheduled_key", "team_id", "scheduled_key"),
        Index("ix_meetings_team_current_key", "team_id", "current_key"),
        Index("ix_meetings_status_due", "status", "due_at"),
    )

    recall_event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("calendar_connections.id", ondelete="CASCADE"))
    team_id: Mapped[str] = mapped_column(String(32))
    recall_updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    start_time: Mapped[datetime] = mapped_column(UTCDateTime)
    end_time: Mapped[datetime] = mapped_column(UTCDateTime)
    title: Mapped[str] = mapped_column(Text, default="")
    meeting_url: Mapped[str | None] = mapped_column(Text)
    meeting_platform: Mapped[str | None] = mapped_column(String(64))
    organizer: Mapped[str | None] = mapped_column(Text)
    series_id: Mapped[str | None] = mapped_column(String(255))
    self_response: Mapped[str | None] = mapped_column(String(32))
    is_deleted: Mapped[bool] = mapped_column(default=False)
    # Who is in it: whether the member organises it, and the email domains of everyone else (rooms left out).
    organizer_is_self: Mapped[bool] = mapped_column(default=False)
    attendee_domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The provider's own creation time, and whether the meeting is new since the member connected (only new
    # meetings get a DM of their own; the others are in the connect summary, the agenda and the Home tab).
    provider_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_new: Mapped[bool] = mapped_column(default=True)
    # The reminder before an undecided meeting, and where it was posted.
    reminder: Mapped[ReminderStatus] = mapped_column(status_column(ReminderStatus), default=ReminderStatus.NONE)
    reminder_channel_id: Mapped[str | None] = mapped_column(String(32))
    reminder_ts: Mapped[str | None] = mapped_column(String(32))
    # When the reminder's sending was claimed, or last left for Slack: a SENDING claim much older than this was left
    # by a process that died, and another one takes it over.
    reminder_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The member's choice: "schedule" | "skip" | None (ask).
    choice: Mapped[str | None] = mapped_column(String(16))
    # The meeting's deduplication key as it is now (None without a link), and the one our bot is scheduled under.
    current_key: Mapped[str | None] = mapped_column(Text)
    scheduled_key: Mapped[str | None] = mapped_column(Text)
    # Recall's bot for this meeting (kept after the meeting: its status, recording and transcript), and the one DM
    # that tells the member it waits to be admitted.
    bot_id: Mapped[str | None] = mapped_column(String(64), index=True)
    admit_alert: Mapped[AlertStatus] = mapped_column(status_column(AlertStatus), default=AlertStatus.NONE)
    # The member's message about it, and a hash of what it shows (updated only when that changes).
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    rendered_hash: Mapped[str | None] = mapped_column(String(64))
    # A first message was sent at this (wall-clock) time and no answer has recorded it yet: a crash or a lost
    # reply. Before posting again, the DM's history is searched for it (Slack may have taken it).
    post_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[ReconcileStatus] = mapped_column(status_column(ReconcileStatus), default=ReconcileStatus.PENDING)
    # When to act on it next (PENDING: now; RETRYING: after the back-off; SETTLED: when it ends, or never).
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Failed attempts in a row.
    attempts: Mapped[int] = mapped_column(default=0)
    # Bumped by every change that calls for acting again; an attempt settles the meeting only if nothing
    # changed while it ran (compare-and-set), otherwise the meeting stays PENDING.
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Bot(Base):
    """A Recall bot one of our members scheduled, and what its webhooks told us of its life (a `BotLife`)."""

    __tablename__ = "bots"
    __table_args__ = (Index("ix_bots_team_dedup_key", "team_id", "dedup_key"),)

    bot_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    # The member whose click or rule made Recall create it: the only one who may make it leave the call.
    scheduled_by: Mapped[str | None] = mapped_column(String(32))
    # Recall's deduplication key it was scheduled under: colleagues whose meeting has that key see it too.
    dedup_key: Mapped[str | None] = mapped_column(Text)
    phase: Mapped[BotPhase | None] = mapped_column(status_column(BotPhase))
    phase_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    code: Mapped[str | None] = mapped_column(String(64))
    reason_code: Mapped[str | None] = mapped_column(String(64))
    sub_code: Mapped[str | None] = mapped_column(String(128))
    recorded: Mapped[bool] = mapped_column(default=False)
    recording: Mapped[MediaState] = mapped_column(status_column(MediaState), default=MediaState.NONE)
    recording_sub_code: Mapped[str | None] = mapped_column(String(128))
    transcript: Mapped[MediaState] = mapped_column(status_column(MediaState), default=MediaState.NONE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
