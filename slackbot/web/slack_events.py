"""`POST /slack/events` before Bolt: the body is capped, the signature checked and the payload's shape checked
first, so a forged, oversized or malformed request gets a 413, 401 or 400 without being parsed, logged or kept
(Bolt would log the whole body of a request whose signature fails)."""

from __future__ import annotations

import json
import logging
from urllib.parse import parse_qs

from slack_bolt.adapter.starlette.async_handler import to_async_bolt_request, to_starlette_response
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from slackbot.web.webhook import BodyTooLarge, read_capped

logger = logging.getLogger(__name__)

# Slack's largest requests (a view submission with its state) are far below this.
MAX_SLACK_BODY = 512 * 1024


def _refuse(status: int, error: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error": error}, status_code=status)


def shape_problem(body: str, content_type: str) -> str | None:
    """What is wrong with a signed body Bolt would choke on, or None."""
    if content_type.startswith("application/json"):
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):
            return "body is not JSON"
        return None if isinstance(payload, dict) else "body is not a JSON object"
    form = parse_qs(body, keep_blank_values=True)
    if "payload" in form:
        try:
            payload = json.loads(form["payload"][0])
        except (ValueError, RecursionError):
            return "payload is not JSON"
        if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
            return "payload is not an interaction"
        return None
    if "ssl_check" in form:
        return None  # Slack checking the certificate: Bolt answers it
    if "command" in form:
        if not form.get("user_id", [""])[0] or not form.get("team_id", [""])[0]:
            return "command without user_id or team_id"
        return None
    return "no command, payload or event"


def slack_events_handler(bolt: AsyncApp, *, signing_secret: str):  # type: ignore[no-untyped-def]
    verifier = SignatureVerifier(signing_secret)

    async def handle(request: Request) -> Response:
        try:
            raw = await read_capped(request, limit=MAX_SLACK_BODY)
        except BodyTooLarge:
            return _refuse(413, "body_too_large")
        except ClientDisconnect:
            return _refuse(400, "client_disconnected")
        timestamp = request.headers.get("x-slack-request-timestamp", "")
        signature = request.headers.get("x-slack-signature", "")
        try:
            valid = bool(timestamp and signature) and verifier.is_valid(raw, timestamp, signature)
        except (ValueError, TypeError, UnicodeDecodeError):
            valid = False  # a timestamp such as `abc`; a body that is not UTF-8 cannot be Slack's
        if not valid:
            logger.warning("slack.request_rejected_signature")
            return _refuse(401, "invalid_request")
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            return _refuse(400, "body_not_utf8")
        problem = shape_problem(body, request.headers.get("content-type", ""))
        if problem:
            logger.warning("slack.request_malformed", extra={"problem": problem})
            return _refuse(400, "malformed_request")
        bolt_request = to_async_bolt_request(request, raw)
        return to_starlette_response(await bolt.async_dispatch(bolt_request))

    return handle
