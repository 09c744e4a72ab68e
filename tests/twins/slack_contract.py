"""Slack's Web API Swagger 2.0 spec (slackapi/slack-api-specs), loaded in lenient mode for the twin.

The spec is from 2021 and predates several fields, so, as `contracts/README.md` prescribes, every
`additionalProperties: false` and every `error` enum is dropped. Two more repairs make it mean what
its authors meant (both found by reading it, see `lenient()`):

* it writes "one of these" as `"items": [A, B]` on schemas that are not arrays; JSON Schema ignores
  `items` on non-arrays, so `users.info`'s `user` or a message's `bot_id` would go unchecked.
  Such a node becomes `"anyOf": [A, B]`.
* `chat.update`'s reply declares `message.blocks` as `"type": "object"`; Slack sends an array.
  It is pointed at the spec's own `blocks` definition instead.
* once `user` is checked, `objs_user_profile` requires `phone`, `skype`, `title` and `fields`, which
  the spec's own `users.info` example lacks; its `required` list is cut to what that example carries.
* `conversations.history`'s reply requires `channel_actions_ts` and `channel_actions_count`, which its own
  example lacks (cut the same way), and at least one message, although a window with no messages is an
  empty list (`minItems` dropped).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from slackbot.demo.twins.slack import JSON_VALUED_PARAMS
from tests.twins.contracts import CONTRACTS_DIR

SPEC_RELATIVE_PATH = Path("slack") / "slack_web_openapi_v2.json"

# Parameters whose value is a JSON document: a string in a form body, a list/object in a JSON body.


def contracts_dir() -> Path:
    """The shared `contracts/` folder beside the repository; a clear error when it is missing."""
    path = CONTRACTS_DIR
    if not path.is_dir():
        raise FileNotFoundError(
            f"Contracts folder not found at {path}. The tests need ../shared/contracts beside the "
            "repository clone (see DESIGN.md > Tests); they never skip without it."
        )
    return path


def _walk_lenient(node: Any, *, key: str | None = None) -> Any:
    if isinstance(node, list):
        return [_walk_lenient(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for k, v in node.items():
        if k == "additionalProperties" and v is False:
            continue
        if k == "items" and isinstance(v, list) and node.get("type") != "array":
            out["anyOf"] = [_walk_lenient(item) for item in v]
            continue
        if k == "properties" and isinstance(v, dict):
            props = {}
            for name, schema in v.items():
                schema = _walk_lenient(schema, key=name)
                if name == "error" and isinstance(schema, dict):
                    schema.pop("enum", None)
                props[name] = schema
            out[k] = props
            continue
        out[k] = _walk_lenient(v, key=k)
    return out


def lenient(spec: dict[str, Any]) -> dict[str, Any]:
    """A copy of the spec relaxed and repaired as described in the module docstring."""
    spec = _walk_lenient(copy.deepcopy(spec))
    update = spec["paths"].get("/chat.update", {}).get("post", {})
    message = update.get("responses", {}).get("200", {}).get("schema", {}).get("properties", {}).get("message")
    if message and message.get("properties", {}).get("blocks") == {"type": "object"}:
        message["properties"]["blocks"] = {"$ref": "#/definitions/blocks"}
    users_info = spec["paths"].get("/users.info", {}).get("get", {}).get("responses", {}).get("200", {})
    example_profile = users_info.get("examples", {}).get("application/json", {}).get("user", {}).get("profile")
    profile_schema = spec.get("definitions", {}).get("objs_user_profile")
    if isinstance(example_profile, dict) and profile_schema and "required" in profile_schema:
        profile_schema["required"] = [r for r in profile_schema["required"] if r in example_profile]
    history = spec["paths"].get("/conversations.history", {}).get("get", {}).get("responses", {}).get("200", {})
    example_history = history.get("examples", {}).get("application/json")
    history_schema = history.get("schema", {})
    if isinstance(example_history, dict) and "required" in history_schema:
        history_schema["required"] = [r for r in history_schema["required"] if r in example_history]
        history_schema.get("properties", {}).get("messages", {}).pop("minItems", None)
    return spec


@cache
def load_web_api_spec() -> dict[str, Any]:
    """The lenient Web API spec (cached; treat as read-only)."""
    path = contracts_dir() / SPEC_RELATIVE_PATH
    if not path.is_file():
        raise FileNotFoundError(f"Slack Web API spec missing: {path}")
    return lenient(json.loads(path.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class Parameter:
    """One declared parameter of a Web API method."""

    name: str
    location: str  # "header", "query" or "formData"
    required: bool
    type: str | None


@dataclass(frozen=True)
class Operation:
    """A Web API method as the spec declares it."""

    method: str
    http_verb: str
    consumes: tuple[str, ...]
    parameters: tuple[Parameter, ...]
    success_schema: dict[str, Any] | None
    error_schema: dict[str, Any] | None

    @property
    def accepts_json(self) -> bool:
        """Whether the spec lists `application/json` among the accepted request bodies."""
        return "application/json" in self.consumes

    @property
    def required_params(self) -> list[str]:
        """Required parameters other than `token` (the token is an auth concern)."""
        return [p.name for p in self.parameters if p.required and p.name != "token"]


class SlackWebApiContract:
    """Request and response checks for Web API methods, from the lenient spec."""

    def __init__(self, spec: dict[str, Any] | None = None) -> None:
        self.spec = spec if spec is not None else load_web_api_spec()
        self._definitions = self.spec.get("definitions", {})
        self._validators: dict[int, jsonschema.Draft4Validator] = {}

    def operation(self, method: str) -> Operation | None:
        """The spec's operation for `method` (e.g. `chat.postMessage`), or None if undeclared."""
        path_item = self.spec["paths"].get(f"/{method}")
        if not path_item:
            return None
        verb, op = next(iter(path_item.items()))
        params = tuple(
            Parameter(name=p["name"], location=p.get("in", ""), required=bool(p.get("required")), type=p.get("type"))
            for p in op.get("parameters", [])
        )
        responses = op.get("responses", {})
        return Operation(
            method=method,
            http_verb=verb.upper(),
            consumes=tuple(op.get("consumes", [])),
            parameters=params,
            success_schema=responses.get("200", {}).get("schema"),
            error_schema=responses.get("default", {}).get("schema"),
        )

    def validate_request(self, method: str, params: dict[str, Any]) -> list[str]:
        """Problems with the arguments of a call: missing required parameters, wrong scalar types."""
        op = self.operation(method)
        if op is None:
            return [f"{method}: not declared in the Slack Web API spec"]
        problems = [
            f"{method}: missing required parameter `{name}`"
            for name in op.required_params
            if params.get(name) in (None, "")
        ]
        for p in op.parameters:
            if p.name == "token" or p.name not in params:
                continue
            problem = _type_problem(p, params[p.name])
            if problem:
                problems.append(f"{method}: parameter `{p.name}` {problem}")
        return problems

    def validate_response(self, method: str, body: dict[str, Any]) -> list[str]:
        """Problems with a reply body, against the success or error schema chosen by `ok`."""
        op = self.operation(method)
        if op is None:
            return [f"{method}: not declared in the Slack Web API spec"]
        schema = op.success_schema if body.get("ok") is True else op.error_schema
        if schema is None:
            return []
        validator = self._validator(schema)
        return [
            f"{method} reply at /{'/'.join(str(p) for p in err.absolute_path)}: {err.message}"
            for err in sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.absolute_path)))
        ]

    def _validator(self, schema: dict[str, Any]) -> jsonschema.Draft4Validator:
        key = id(schema)
        if key not in self._validators:
            # Swagger 2.0 schemas are JSON Schema draft 4; refs point into the spec's `definitions`.
            self._validators[key] = jsonschema.Draft4Validator({**schema, "definitions": self._definitions})
        return self._validators[key]


def _type_problem(param: Parameter, value: Any) -> str | None:
    if param.type == "boolean":
        if isinstance(value, bool) or (isinstance(value, str) and value.lower() in {"true", "false", "1", "0"}):
            return None
        return f"must be a boolean, got {value!r}"
    if param.type in {"integer", "number"}:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return None
        if isinstance(value, str):
            try:
                float(value)
            except ValueError:
                return f"must be a number, got {value!r}"
            return None
        return f"must be a number, got {value!r}"
    if param.type == "string" and isinstance(value, list | dict) and param.name not in JSON_VALUED_PARAMS:
        return f"must be a string, got {type(value).__name__}"
    return None


@cache
def web_api_contract() -> SlackWebApiContract:
    """The shared contract instance (spec loaded once per process)."""
    return SlackWebApiContract()
