"""The contract loaders: patches applied as contracts/README.md says, clear errors when missing."""

from __future__ import annotations

import json

import jsonschema
import pytest
from openapi_core.testing import MockRequest, MockResponse
from openapi_core.validation.response.exceptions import InvalidData

from tests.twins import contracts
from tests.twins.contracts import (
    CONTRACTS_DIR,
    ContractsMissingError,
    contract_path,
    load_recall_openapi,
    recall_openapi_dict,
    recall_webhook_schemas,
    recall_x_throttles,
)


def test_contracts_dir_is_the_shared_folder_beside_the_repo() -> None:
    assert CONTRACTS_DIR.name == "contracts" and CONTRACTS_DIR.parent.name == "shared"
    assert (CONTRACTS_DIR / "recall" / "openapi.json").is_file()


def test_missing_contracts_raise_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setattr(contracts, "CONTRACTS_DIR", tmp_path / "nowhere")
    with pytest.raises(ContractsMissingError, match=r"\.\./shared/contracts"):
        contract_path("recall/openapi.json")


def test_patches() -> None:
    spec = recall_openapi_dict("http://127.0.0.1:9/")
    assert spec["servers"] == [{"url": "http://127.0.0.1:9", "description": "local Recall stand-in"}]
    event = spec["components"]["schemas"]["CalendarEvent"]["properties"]
    assert "$ref" not in event["meeting_platform"]
    assert event["meeting_platform"]["nullable"] is True and None in event["meeting_platform"]["enum"]
    assert "zoom" in event["meeting_platform"]["enum"]
    assert event["raw"]["type"] == "object" and "oneOf" not in event["raw"]
    assert "$ref" not in json.dumps(event["meeting_platform"])
    # The original document is untouched: copies only.
    assert recall_openapi_dict("http://x")["servers"][0]["url"] == "http://x"


def test_patched_spec_accepts_null_meeting_platform_and_any_raw() -> None:
    api = load_recall_openapi("http://127.0.0.1:9")
    event_id = "6f1c5a1e-0000-4000-8000-000000000000"
    request = MockRequest("http://127.0.0.1:9", "get", f"/api/v2/calendar-events/{event_id}/")
    body = {
        "id": event_id,
        "calendar_id": event_id,
        "start_time": "2024-05-01T10:00:00Z",
        "end_time": "2024-05-01T10:30:00Z",
        "raw": {"summary": "one-off, no recurringEventId"},
        "platform": "google_calendar",
        "platform_id": "abc",
        "ical_uid": "abc@google.com",
        "meeting_platform": None,
        "meeting_url": None,
        "created_at": "2024-05-01T10:00:00Z",
        "updated_at": "2024-05-01T10:00:00Z",
        "is_deleted": False,
        "bots": [],
    }
    api.validate_response(request, MockResponse(json.dumps(body).encode()))
    with pytest.raises(InvalidData):
        api.validate_response(request, MockResponse(json.dumps({**body, "meeting_platform": "skype"}).encode()))


def test_x_throttles_give_the_documented_list_limits() -> None:
    limits = recall_x_throttles()
    assert limits[("GET", "/api/v2/calendar-events/")][0]["limit"] == 60
    assert limits[("GET", "/api/v2/calendars/")][0]["limit"] == 60
    assert limits[("POST", "/api/v2/calendar-events/{id}/bot/")][0]["limit"] == 600


def test_webhook_catalogue() -> None:
    catalogue = recall_webhook_schemas()
    assert len(catalogue) == 57
    assert {"calendar.update", "calendar.sync_events", "bot.status_change"} <= set(catalogue)
    assert catalogue["slack.huddle_state"].schema is None  # the catalogue ships no schema for slack.*
    with pytest.raises(LookupError):
        catalogue["slack.huddle_state"].validator()
    sync = catalogue["calendar.sync_events"]
    assert "$id" not in sync.schema  # it pointed at the draft-07 meta-schema
    assert sync.schema["required"] == ["data", "event"]
    with pytest.raises(jsonschema.ValidationError):
        sync.validate({"event": "calendar.sync_events", "data": {"calendar_id": "c"}})
    with pytest.raises(jsonschema.ValidationError):
        sync.validate({"event": "calendar.sync_events", "data": {"calendar_id": "c", "last_updated_ts": "soon"}})


def test_catalogue_examples_mostly_match_their_own_schemas() -> None:
    """Documents a defect of webhooks.json: two sdk_upload examples lack the required `object`."""
    failing = sorted(
        name
        for name, event_type in recall_webhook_schemas().items()
        if event_type.schema is not None
        and any(list(event_type.validator().iter_errors(example)) for example in event_type.examples)
    )
    assert failing == ["sdk_upload.complete", "sdk_upload.uploading"]
