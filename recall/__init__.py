"""Recall.ai API client, webhook verification and typed models (knows nothing of Slack)."""

from recall.client import RecallClient
from recall.errors import (
    RecallAPIError,
    RecallAuthError,
    RecallBadRequest,
    RecallConflict,
    RecallError,
    RecallMethodNotAllowed,
    RecallNotFound,
    RecallPaymentRequired,
    RecallRateLimited,
    RecallResponseError,
    RecallUnavailable,
    WebhookPayloadError,
    WebhookVerificationError,
)
from recall.models import Calendar, CalendarEvent, CalendarEventBot, CalendarStatusChange
from recall.webhooks import message_id, verify_webhook

__all__ = [
    "Calendar",
    "CalendarEvent",
    "CalendarEventBot",
    "CalendarStatusChange",
    "RecallAPIError",
    "RecallAuthError",
    "RecallBadRequest",
    "RecallClient",
    "RecallConflict",
    "RecallError",
    "RecallMethodNotAllowed",
    "RecallNotFound",
    "RecallPaymentRequired",
    "RecallRateLimited",
    "RecallResponseError",
    "RecallUnavailable",
    "WebhookPayloadError",
    "WebhookVerificationError",
    "message_id",
    "verify_webhook",
]
