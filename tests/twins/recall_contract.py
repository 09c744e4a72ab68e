"""Recall's OpenAPI contract and published limits for the Recall stand-in (``slackbot/demo/twins/recall.py``).

The stand-in lives in the package so the demo can run it; the tests hold it to ``../shared/contracts`` through
:class:`OpenApiRecallContract`: every request and every 2xx response is checked with openapi-core against the
patched spec, a request that breaks it is recorded in ``fake.violations`` and answered as Recall would (400, or
401 / 404 / 405), and the ``x-throttles`` limits are applied when the fake's ``rate_limits`` is on.

The Bot schema needs two more repairs than contracts.py makes (see ``_bot_contract``).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from openapi_core import OpenAPI
from openapi_core.configurations import Config
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound, ServerNotFound
from openapi_core.testing import MockRequest, MockResponse
from openapi_core.validation.request.exceptions import (
    MissingRequestBodyError,
    RequestBodyValidationError,
    SecurityValidationError,
)

from slackbot.demo.twins.recall import FakeRecall
from tests.twins.contracts import recall_openapi_dict, recall_x_throttles


@cache
def _bot_contract() -> dict[str, Any]:
    """contracts.py's patched Recall spec plus two repairs to the schemas a Bot response uses (fake-local).

    5. ``{"allOf": [{"$ref": X}], "nullable": true}`` rejects null under openapi-core (nullable without a type at
       its own level), the same defect class as README patch 2: inline a copy of X that is nullable. Recall sends
       null there (``slack_team`` of a non-Slack bot, ``media_shortcuts.audio_mixed`` when off, ...).
    6. ``BotEvent.sub_code`` and ``message`` are typed as non-null strings, but Recall sends null for most codes
       (its docs' examples, and webhooks.json's ``bot.status_change`` types the same status fields nullable).
    Only the schemas reachable from ``Bot`` are touched; callers get the cached dict (read-only by convention).
    """
    spec = recall_openapi_dict("http://127.0.0.1")
    schemas = spec["components"]["schemas"]
    for name in sorted(_reachable_schemas(schemas, "Bot")):
        schemas[name] = _inline_nullable_allofs(schemas[name], schemas, (name,))
    for key in ("sub_code", "message"):
        schemas["BotEvent"]["properties"][key]["nullable"] = True
    return spec


def _reachable_schemas(schemas: dict[str, Any], root: str) -> set[str]:
    seen: set[str] = set()
    pending = [root]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        pending.extend(re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(schemas[name])))
    return seen


def _inline_nullable_allofs(node: Any, schemas: dict[str, Any], stack: tuple[str, ...]) -> Any:
    if isinstance(node, dict):
        parts = node.get("allOf")
        if (
            node.get("nullable") is True
            and isinstance(parts, list)
            and len(parts) == 1
            and isinstance(parts[0], dict)
            and set(parts[0]) == {"$ref"}
        ):
            name = str(parts[0]["$ref"]).rsplit("/", 1)[-1]
            if name not in stack:
                target = copy.deepcopy(schemas[name])
                target.update({key: value for key, value in node.items() if key != "allOf"})
                if isinstance(target.get("enum"), list) and None not in target["enum"]:
                    target["enum"] = [*target["enum"], None]
                return _inline_nullable_allofs(target, schemas, (*stack, name))
        return {key: _inline_nullable_allofs(value, schemas, stack) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline_nullable_allofs(item, schemas, stack) for item in node]
    return node


def _load_openapi(server_url: str) -> OpenAPI:
    """An openapi-core ``OpenAPI`` for the fake: ``_bot_contract()`` served at ``server_url`` (README patch 1:
    built without the spec validator)."""
    servers = [{"url": server_url.rstrip("/"), "description": "local Recall stand-in"}]
    return OpenAPI.from_dict({**_bot_contract(), "servers": servers}, config=Config(spec_validator_cls=None))


def _mock_request(
    fake: FakeRecall, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes
) -> MockRequest:
    return MockRequest(
        fake.base_url,
        method,
        path,
        args=query,
        headers=headers,
        data=body or None,
        content_type=headers.get("content-type", "application/json"),
    )


class OpenApiRecallContract:
    """:class:`slackbot.demo.twins.recall.RecallContract` read from ``../shared/contracts/recall``."""

    def __init__(self) -> None:
        self._loaded: dict[str, OpenAPI] = {}

    def throttles(self) -> Mapping[tuple[str, str], list[dict[str, Any]]]:
        return recall_x_throttles()

    def _openapi(self, base_url: str) -> OpenAPI:
        if base_url not in self._loaded:
            self._loaded[base_url] = _load_openapi(base_url)
        return self._loaded[base_url]

    def check_request(
        self,
        fake: FakeRecall,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
    ) -> tuple[int, dict[str, str], Any] | None:
        request = _mock_request(fake, method, path, query, headers, body)
        try:
            self._openapi(fake.base_url).validate_request(request)
        except (PathNotFound, ServerNotFound) as exc:
            fake._violation("request", method, path, f"no such path in the contract: {exc}")
            return 404, {}, {"detail": "Not found."}
        except OperationNotFound as exc:
            fake._violation("request", method, path, f"method not in the contract: {exc}")
            return 405, {}, {"detail": f'Method "{method}" not allowed.'}
        except SecurityValidationError as exc:
            fake._violation("request", method, path, f"no credentials: {exc}")
            return 401, {}, {"detail": "Authentication credentials were not provided."}
        except Exception as exc:  # every other openapi-core request error
            fake._violation("request", method, path, _describe(exc))
            errors = _field_errors(exc)
            fields = ", ".join(sorted(errors))
            return (
                400,
                {},
                {
                    "code": "invalid_request_data",
                    "message": f"Request does not match Recall's OpenAPI contract ({fields}).",
                    "errors": errors,
                },
            )
        return None

    def check_response(
        self,
        fake: FakeRecall,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
        status: int,
        payload: Any,
    ) -> None:
        request = _mock_request(fake, method, path, query, headers, body)
        data = b"" if payload is None else json.dumps(payload).encode()
        response = MockResponse(data, status_code=status, content_type="application/json" if data else "")
        try:
            self._openapi(fake.base_url).validate_response(request, response)
        except Exception as exc:
            fake._violation("response", method, path, f"{status}: {_describe(exc)}")


def _schema_errors(exc: BaseException) -> list[Any]:
    cause = exc.__cause__
    while cause is not None:
        found = getattr(cause, "schema_errors", None)
        if found:
            return list(found)
        cause = cause.__cause__
    return []


def _headline(exc: BaseException) -> str:
    # RequestBodyValidationError's str() embeds the whole body (secrets included): keep it short.
    if isinstance(exc, RequestBodyValidationError) and not isinstance(exc, MissingRequestBodyError):
        return "Request body validation error"
    if type(exc).__str__ is BaseException.__str__ or "Value " in str(exc):
        return type(exc).__name__
    return str(exc)


def _describe(exc: BaseException) -> str:
    """openapi-core's error for ``fake.violations``: a headline plus each schema error's message."""
    parts = [f"{type(exc).__name__}: {_headline(exc)}"]
    parts.extend(getattr(error, "message", str(error)) for error in _schema_errors(exc))
    return "; ".join(parts)


_REQUIRED = re.compile(r"^'(?P<name>[^']+)' is a required property$")


def _field_errors(exc: BaseException) -> dict[str, list[str]]:
    """DRF-style ``{field: [message]}`` for a 400 body, naming fields and checks, never values."""
    errors: dict[str, list[str]] = {}
    location = getattr(exc, "name", None)
    for error in _schema_errors(exc):
        path = ".".join(str(part) for part in getattr(error, "absolute_path", ()))
        match = _REQUIRED.match(getattr(error, "message", ""))
        if getattr(error, "validator", None) == "required" and match:
            field_name = ".".join(filter(None, (path, match["name"])))
            text = "This field is required."
        else:
            field_name = path or location or "non_field_errors"
            text = f"Does not satisfy '{getattr(error, 'validator', 'schema')}' in the contract."
        errors.setdefault(field_name, []).append(text)
    if not errors:
        errors[location or "non_field_errors"] = [_headline(exc)]
    return errors
