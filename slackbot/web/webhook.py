"""`POST /recall/webhook`: verify (svix), store (unique by message id), answer, then process."""

from __future__ import annotations

import json
import logging
from typing import TypeGuard

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from recall.bot_events import BOT_EVENT_TYPES, parse_bot_event
from recall.models import parse_timestamp
from recall.webhooks import WebhookPayloadError, WebhookVerificationError, message_id, verify_webhook
from slackbot.services.intake_lull import IntakeLull
from slackbot.services.webhook_processor import HANDLED_EVENTS, DeliveryProcessor
from storage import deliveries as repo
from storage.db import Database
from storage.models import utcnow

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
# Svix message ids are short printable ASCII (`msg_...`); the column holds 128.
MAX_MESSAGE_ID = 128


def valid_message_id(value: str | None) -> TypeGuard[str]:
    """A message id we can store and deduplicate by (a verified webhook always has one: Svix signs it)."""
    return value is not None and 0 < len(value) <= MAX_MESSAGE_ID and value.isascii() and value.isprintable()


class BodyTooLarge(Exception):
    """The request body is over the limit (refused before it is all read)."""


async def read_capped(request: Request, *, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, refused (``BodyTooLarge``) as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise BodyTooLarge
    return bytes(body)


def _problem(status: int, error: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error": error}, status_code=status)


def _shape_error(event: str, data: dict) -> str | None:
    """What is wrong with a handled event's `data`, or None."""
    if event in BOT_EVENT_TYPES:
        try:
            parse_bot_event(event, data)
        except WebhookPayloadError as exc:
            return str(exc)
        return None
    if not isinstance(data.get("calendar_id"), str) or not data["calendar_id"]:
        return "data.calendar_id must be a string"
    if event == "calendar.sync_events":
        try:
            parse_timestamp(data.get("last_updated_ts"))
        except (TypeError, ValueError):
            return "data.last_updated_ts must be an ISO 8601 timestamp"
    return None


def webhook_routes(
    *, db: Database, secret: str, processor: DeliveryProcessor, lull: IntakeLull | None = None
) -> list[Route]:
    """``lull``: told of every stored webhook, so background work on meetings lets the intake go first."""

    async def receive(request: Request) -> Response:
        try:
            body = await read_capped(request)
        except BodyTooLarge:
            return _problem(413, "body_too_large")
        except ClientDisconnect:
            return _problem(400, "client_disconnected")
        try:
            payload = verify_webhook(secret=secret, body=body, headers=request.headers)
        except WebhookVerificationError:
            logger.warning("recall.webhook.rejected_signature")
            return _problem(401, "invalid_signature")
        except WebhookPayloadError as exc:
            return _problem(400, f"invalid_payload: {exc}")
        event = payload["event"]
        if event not in HANDLED_EVENTS:
            return JSONResponse({"ok": True, "ignored": event})
        problem = _shape_error(event, payload["data"])
        if problem:
            return _problem(400, f"invalid_payload: {problem}")
        delivery_id = message_id(request.headers)
        if not valid_message_id(delivery_id):
            return _problem(400, "invalid_message_id")
        try:
            async with db.transaction() as session:
                await repo.store_delivery(
                    session, message_id=delivery_id, event_type=event, payload=json.dumps(payload), now=utcnow()
                )
        except IntegrityError:
            logger.debug("recall.webhook.duplicate", extra={"event": event})
            return JSONResponse({"ok": True, "duplicate": True})
        except (SQLAlchemyError, OSError):
            logger.exception("recall.webhook.store_failed")
            return _problem(503, "storage_unavailable")  # Svix retries
        logger.debug("recall.webhook.accepted", extra={"event": event})  # no INFO line per webhook
        if lull is not None:
            lull.arrived()
        processor.kick()
        return JSONResponse({"ok": True})

    return [Route("/recall/webhook", receive, methods=["POST"])]
