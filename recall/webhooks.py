"""Verify Recall's Svix-signed webhooks (https://docs.recall.ai/docs/verify-events).

Legacy workspaces send ``svix-id / svix-timestamp / svix-signature``, newer ones
``webhook-id / webhook-timestamp / webhook-signature``; the ``svix`` library accepts both.
"""

from __future__ import annotations

import binascii
import json
import logging
from collections.abc import Mapping
from typing import Any

from svix.webhooks import Webhook
from svix.webhooks import WebhookVerificationError as SvixVerificationError

from recall.errors import WebhookPayloadError, WebhookVerificationError

logger = logging.getLogger(__name__)

__all__ = [
    "WebhookPayloadError",
    "WebhookVerificationError",
    "message_id",
    "verify_webhook",
]

_PREFIXES = ("svix-", "webhook-")
_PARTS = ("id", "timestamp", "signature")


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {str(key).lower(): str(value) for key, value in headers.items()}


def message_id(headers: Mapping[str, str]) -> str | None:
    """The delivery's message id (``svix-id`` or ``webhook-id``); stable across Svix retries."""
    lowered = _lower(headers)
    for prefix in _PREFIXES:
        value = lowered.get(prefix + "id")
        if value:
            return value
    return None


def verify_webhook(*, secret: str, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
    """Check the Svix signature on the raw body and return the parsed ``{"event", "data"}`` object.

    Raises ``WebhookVerificationError`` when headers are missing, the signature does not match
    or the timestamp is more than 5 minutes away, ``WebhookPayloadError`` when the verified
    body is not a JSON object with a string ``event`` and an object ``data``, and ``ValueError``
    when ``secret`` is not a usable Svix secret (``whsec_...``), which is a configuration error.
    """
    try:
        verifier = Webhook(secret)
    except Exception as exc:  # binascii.Error, EmptyWebhookSecretError, RuntimeError
        raise ValueError("webhook secret is not a valid Svix secret (whsec_...)") from exc

    lowered = _lower(headers)
    # Only pass the signature headers on: Svix prefers svix-* and falls back to webhook-*.
    sig_headers = {
        prefix + part: lowered[prefix + part] for prefix in _PREFIXES for part in _PARTS if prefix + part in lowered
    }
    if not any(all(prefix + part in sig_headers for part in _PARTS) for prefix in _PREFIXES):
        raise WebhookVerificationError("missing svix-*/webhook-* signature headers")

    try:
        verifier.verify(body, sig_headers)
    except SvixVerificationError as exc:
        raise WebhookVerificationError(str(exc) or "signature verification failed") from None
    except (ValueError, binascii.Error, UnicodeDecodeError):
        # Malformed signature entries ("v1" without a comma, bad base64) or a non-UTF-8 body.
        raise WebhookVerificationError("malformed signature headers or body") from None

    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookPayloadError("webhook body is not JSON") from None
    except RecursionError:
        raise WebhookPayloadError("webhook body is nested too deeply") from None
    if not isinstance(payload, dict):
        raise WebhookPayloadError("webhook body is not a JSON object")
    if not isinstance(payload.get("event"), str) or not payload["event"]:
        raise WebhookPayloadError("webhook body has no string 'event'")
    if not isinstance(payload.get("data"), dict):
        raise WebhookPayloadError("webhook body has no object 'data'")
    return payload
