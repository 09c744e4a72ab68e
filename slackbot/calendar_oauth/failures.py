"""Every way connecting a calendar can stop, as one enum (words.connect turns each into words)."""

from __future__ import annotations

from enum import StrEnum

from slackbot.requester import Requester


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


class ConnectError(Exception):
    """The flow stopped; ``requester`` is known once the link or state was matched, so the member can be told."""

    def __init__(self, failure: ConnectFailure, *, provider: str, requester: Requester | None = None) -> None:
        super().__init__(failure.value)
        self.failure = failure
        self.provider = provider
        self.requester = requester
