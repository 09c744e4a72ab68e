"""One error tree for the Recall package; HTTP status is mapped to a class in one place.

Recall's documented error body is ``{"code", "message", "errors"}``
(https://docs.recall.ai/reference/errors); 401/404 may come as DRF ``{"detail": ...}`` and WAF
403s as HTML, so parsing is defensive. Messages carry Recall's own words, never request bodies.
"""

from __future__ import annotations

import json
from typing import Any


class RecallError(Exception):
    """Root of every error raised by the ``recall`` package."""


class RecallResponseError(RecallError):
    """Recall answered with something we refuse to use (unparseable body, foreign ``next`` URL)."""


class WebhookVerificationError(RecallError):
    """A webhook's Svix signature is missing, forged or outside the 5-minute tolerance."""


class WebhookPayloadError(RecallError):
    """A verified webhook body is not a JSON object with a string ``event`` and an object ``data``."""


class RecallAPIError(RecallError):
    """Recall answered with a non-2xx status (or could not be reached, ``status`` None)."""

    def __init__(
        self,
        *,
        status: int | None,
        code: str | None = None,
        message: str = "",
        errors: Any = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors
        self.method = method
        self.path = path
        super().__init__(self._summary())

    def _summary(self) -> str:
        where = f"{self.method} {self.path} " if self.method and self.path else ""
        status = self.status if self.status is not None else "no response"
        code = f" {self.code}" if self.code else ""
        return f"{where}-> {status}{code}: {self.message}".strip()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"message={self.message!r}, errors={self.errors!r})"
        )

    @property
    def non_field_errors(self) -> list[str]:
        """``errors.non_field_errors`` of a 400 body (e.g. "Cannot schedule bot as calendar event has ended.")."""
        if isinstance(self.errors, dict):
            value = self.errors.get("non_field_errors")
            if isinstance(value, list):
                return [str(v) for v in value]
        return []


class RecallBadRequest(RecallAPIError):
    """400: Recall rejected the request data; details in ``code`` / ``errors``."""


class RecallAuthError(RecallAPIError):
    """401 (no valid API key, or wrong region) or 403 (blocked by Recall's WAF)."""


class RecallPaymentRequired(RecallAPIError):
    """402: the self-serve account has insufficient credit."""


class RecallNotFound(RecallAPIError):
    """404: no such resource in this region/workspace."""


class RecallMethodNotAllowed(RecallAPIError):
    """405: e.g. DELETE of a bot that was already dispatched."""


class RecallConflict(RecallAPIError):
    """409 still returned after every retry (parallel changes to one deduplication key)."""


class RecallRateLimited(RecallAPIError):
    """429 still returned after every retry; ``retry_after`` is Recall's last hint in seconds."""

    def __init__(self, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(**kwargs)


class RecallUnavailable(RecallAPIError):
    """5xx / 507 after every retry, or the network failed (``status`` is None then)."""


_STATUS_CLASSES: dict[int, type[RecallAPIError]] = {
    400: RecallBadRequest,
    401: RecallAuthError,
    402: RecallPaymentRequired,
    403: RecallAuthError,
    404: RecallNotFound,
    405: RecallMethodNotAllowed,
    409: RecallConflict,
    429: RecallRateLimited,
}


def error_class_for_status(status: int) -> type[RecallAPIError]:
    """The single status -> class mapping."""
    if status in _STATUS_CLASSES:
        return _STATUS_CLASSES[status]
    if status >= 500:
        return RecallUnavailable
    return RecallAPIError


def parse_error_body(body: bytes, content_type: str | None) -> tuple[str | None, str, Any]:
    """Return ``(code, message, errors)`` from an error body of any shape Recall is known to send."""
    text = body.decode("utf-8", errors="replace").strip()
    data: Any = None
    if text and (content_type is None or "json" in content_type or text[:1] in "{["):
        try:
            data = json.loads(text)
        except ValueError:
            data = None
    if isinstance(data, dict):
        code = data.get("code")
        message = data.get("message")
        if message is None and "detail" in data:
            message = data["detail"]
        errors = data.get("errors")
        return (
            str(code) if code is not None else None,
            str(message) if message is not None else "",
            errors,
        )
    if isinstance(data, list):
        # DRF serialises a bare ValidationError as a list of strings.
        return None, "; ".join(str(item) for item in data), data
    if text.startswith("<"):
        # Recall's WAF answers 403 with an HTML page; keep it out of messages and logs.
        return None, "non-JSON (HTML) error body", None
    return None, "non-JSON error body" if text else "", None


def api_error_from_response(
    *,
    status: int,
    body: bytes,
    content_type: str | None,
    method: str | None = None,
    path: str | None = None,
    retry_after: float | None = None,
) -> RecallAPIError:
    """Build the typed error for a non-2xx response."""
    code, message, errors = parse_error_body(body, content_type)
    cls = error_class_for_status(status)
    kwargs: dict[str, Any] = {
        "status": status,
        "code": code,
        "message": message,
        "errors": errors,
        "method": method,
        "path": path,
    }
    if cls is RecallRateLimited:
        return RecallRateLimited(retry_after=retry_after, **kwargs)
    return cls(**kwargs)
