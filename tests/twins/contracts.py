"""Loaders for the independently written specs in ``../shared/contracts`` (see its README).

The Recall OpenAPI document needs four repairs before openapi-core can hold a twin to it; they
are applied here, once, on a copy, and each one is named where it happens.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from openapi_core import OpenAPI
from openapi_core.configurations import Config


def _find_contracts() -> Path:
    """`../shared/contracts` beside the clone: the nearest `shared/contracts` above this file (a copy of the tree,
    such as mutmut's `mutants/`, sits one level deeper and still finds it)."""
    here = Path(__file__).resolve()
    for folder in here.parents[2:]:
        candidate = folder / "shared" / "contracts"
        if candidate.is_dir():
            return candidate
    return here.parents[3] / "shared" / "contracts"  # where it should be: the error below names it


CONTRACTS_DIR = _find_contracts()

RECALL_OPENAPI = Path("recall") / "openapi.json"
RECALL_WEBHOOKS = Path("recall") / "webhooks.json"


class ContractsMissingError(FileNotFoundError):
    """The shared contracts folder (or one of its files) is not where the tests expect it."""


def contract_path(relative: str | Path) -> Path:
    """Absolute path of a contract file; a clear error (never a skip) when it is missing."""
    path = CONTRACTS_DIR / relative
    if not path.is_file():
        raise ContractsMissingError(
            f"Contract file {path} not found. The tests read ../shared/contracts beside the "
            "repository clone (CI provides it); copy or mount it there, they never skip without it."
        )
    return path


@cache
def _load_json(relative: str) -> Any:
    with contract_path(relative).open(encoding="utf-8") as handle:
        return json.load(handle)


# ---- Recall OpenAPI ----------------------------------------------------------------------------


def recall_openapi_dict(server_url: str) -> dict[str, Any]:
    """A patched deep copy of Recall's ``openapi.json`` whose single server is ``server_url``."""
    spec = copy.deepcopy(_patched_recall_openapi())
    spec["servers"] = _servers(server_url)
    return spec


@cache
def _patched_recall_openapi() -> dict[str, Any]:
    """Patches 2 and 3, applied once (callers get copies)."""
    spec: dict[str, Any] = copy.deepcopy(_load_json(str(RECALL_OPENAPI)))
    # Patch 2: OAS 3.0 ignores siblings of $ref, so {"nullable": true, "$ref": X} rejects null
    # (CalendarEvent.meeting_platform). Inline a copy of X that is nullable and allows null.
    spec = _inline_nullable_refs(spec, spec["components"]["schemas"])
    schemas = spec["components"]["schemas"]
    # Patch 3: CalendarEvent.raw is a oneOf of two hand-made schemas that require fields only
    # recurring Google instances carry; it is the provider's own object, so accept any object.
    raw = schemas["CalendarEvent"]["properties"]["raw"]
    schemas["CalendarEvent"]["properties"]["raw"] = {
        "type": "object",
        "readOnly": True,
        "description": raw.get("description", ""),
    }
    return spec


def _servers(server_url: str) -> list[dict[str, str]]:
    # Patch 4: point servers at the stand-in.
    return [{"url": server_url.rstrip("/"), "description": "local Recall stand-in"}]


def _inline_nullable_refs(node: Any, schemas: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and node.get("nullable") is True:
            target = copy.deepcopy(_resolve_local_ref(ref, schemas))
            for key, value in node.items():
                if key != "$ref":
                    target[key] = value
            target["nullable"] = True
            if isinstance(target.get("enum"), list) and None not in target["enum"]:
                target["enum"] = [*target["enum"], None]
            return _inline_nullable_refs(target, schemas)
        return {key: _inline_nullable_refs(value, schemas) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline_nullable_refs(item, schemas) for item in node]
    return node


def _resolve_local_ref(ref: str, schemas: dict[str, Any]) -> dict[str, Any]:
    prefix = "#/components/schemas/"
    if not ref.startswith(prefix):
        raise ValueError(f"unexpected $ref {ref!r} in Recall openapi.json")
    return schemas[ref[len(prefix) :]]


def load_recall_openapi(server_url: str) -> OpenAPI:
    """An openapi-core ``OpenAPI`` for Recall, patched as contracts/README.md describes.

    Patch 1: the spec validator rejects the whole document (an over-strict ``oneOf`` in a
    bot-create transcript option), so it is built without one.
    """
    # openapi-core only reads the document, so the cached patched spec is shared (servers aside).
    spec = {**_patched_recall_openapi(), "servers": _servers(server_url)}
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


def recall_x_throttles() -> dict[tuple[str, str], list[dict[str, Any]]]:
    """``(METHOD, path template) -> x-throttles`` rate limits declared in Recall's spec."""
    spec = _load_json(str(RECALL_OPENAPI))
    limits: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for template, item in spec["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and operation.get("x-throttles"):
                limits[(method.upper(), template)] = list(operation["x-throttles"])
    return limits


# ---- Recall webhooks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookEventType:
    """One event type of Recall's Svix catalogue: its draft-07 schema and examples."""

    name: str
    description: str
    schema: dict[str, Any] | None
    examples: list[dict[str, Any]] = field(default_factory=list)
    deprecated: bool = False

    def validator(self) -> jsonschema.Draft7Validator:
        """A draft-07 validator (with format checks) for this event's payloads."""
        if self.schema is None:
            raise LookupError(f"webhooks.json has no schema for {self.name}")
        return jsonschema.Draft7Validator(self.schema, format_checker=jsonschema.FormatChecker())

    def validate(self, payload: Any) -> None:
        """Raise ``jsonschema.ValidationError`` if ``payload`` does not match this event's schema."""
        self.validator().validate(payload)


@cache
def recall_webhook_schemas() -> dict[str, WebhookEventType]:
    """Event type name (``calendar.sync_events``, ...) -> its schema and examples.

    webhooks.json is ``{"data": [{"name", "description", "schemas": {"1": schema} | null, ...}]}``.
    Every schema sets ``$id`` to the draft-07 *meta-schema* URI; it is dropped so no resolver
    mistakes a payload schema for the meta-schema. ``slack.*`` events carry no schema (null).
    """
    catalogue = _load_json(str(RECALL_WEBHOOKS))
    result: dict[str, WebhookEventType] = {}
    for entry in catalogue["data"]:
        versions = entry.get("schemas") or {}
        latest = versions[max(versions, key=int)] if versions else None
        schema: dict[str, Any] | None = None
        examples: list[dict[str, Any]] = []
        if latest is not None:
            schema = {key: value for key, value in copy.deepcopy(latest).items() if key != "$id"}
            examples = list(schema.get("examples", []))
        result[entry["name"]] = WebhookEventType(
            name=entry["name"],
            description=entry.get("description") or "",
            schema=schema,
            examples=examples,
            deprecated=bool(entry.get("deprecated")),
        )
    return result
