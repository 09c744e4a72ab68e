"""Svix webhook verification, signed by the independent ``svix`` library's own ``sign``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from recall.webhooks import WebhookPayloadError, WebhookVerificationError, message_id, verify_webhook
from tests.twins.contracts import recall_webhook_schemas
from tests.twins.fake_recall import FakeRecall, make_webhook_secret, sign_webhook

SECRET = make_webhook_secret()
PAYLOAD = {"event": "calendar.update", "data": {"calendar_id": "c0ffee00-0000-4000-8000-000000000001"}}


@pytest.mark.parametrize("style", ["svix", "webhook"])
def test_both_header_styles_verify(style: str) -> None:
    body, headers = sign_webhook(PAYLOAD, secret=SECRET, style=style, msg_id="msg_loFOjxBNrRLzqYUf")
    assert set(headers) == {f"{style}-id", f"{style}-timestamp", f"{style}-signature"}
    assert verify_webhook(secret=SECRET, body=body, headers=headers) == PAYLOAD
    assert message_id(headers) == "msg_loFOjxBNrRLzqYUf"


def test_header_names_are_case_insensitive() -> None:
    body, headers = sign_webhook(PAYLOAD, secret=SECRET, style="webhook")
    shouting = {key.title(): value for key, value in headers.items()}  # "Webhook-Id", as in Recall's docs
    shouting["Content-Type"] = "application/json"
    assert verify_webhook(secret=SECRET, body=body, headers=shouting) == PAYLOAD
    assert message_id(shouting) == headers["webhook-id"]
    assert message_id({"X-Other": "1"}) is None


def test_forged_signature_wrong_secret_and_tampered_body() -> None:
    body, headers = sign_webhook(PAYLOAD, secret=SECRET)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(secret=make_webhook_secret(), body=body, headers=headers)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(secret=SECRET, body=body.replace(b"c0ffee", b"deadbe"), headers=headers)
    forged = {**headers, "svix-signature": "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}
    with pytest.raises(WebhookVerificationError):
        verify_webhook(secret=SECRET, body=body, headers=forged)
    other_id = {**headers, "svix-id": "msg_replayed_under_another_id"}
    with pytest.raises(WebhookVerificationError):
        verify_webhook(secret=SECRET, body=body, headers=other_id)


def test_one_valid_signature_among_several_is_enough() -> None:
    body, headers = sign_webhook(PAYLOAD, secret=SECRET)
    rotated = {**headers, "svix-signature": "v1,bm90LXRoaXMtb25l " + headers["svix-signature"]}
    assert verify_webhook(secret=SECRET, body=body, headers=rotated) == PAYLOAD


@pytest.mark.parametrize(
    ("age", "ok"),
    [
        (timedelta(minutes=4), True),
        (timedelta(minutes=6), False),  # stale: beyond Svix's 5-minute tolerance
        (-timedelta(minutes=6), False),  # from the future
    ],
)
def test_timestamp_tolerance(age: timedelta, ok: bool) -> None:
    body, headers = sign_webhook(PAYLOAD, secret=SECRET, timestamp=datetime.now(UTC) - age)
    if ok:
        assert verify_webhook(secret=SECRET, body=body, headers=headers) == PAYLOAD
    else:
        with pytest.raises(WebhookVerificationError, match="timestamp"):
            verify_webhook(secret=SECRET, body=body, headers=headers)


@pytest.mark.parametrize("drop", ["svix-id", "svix-timestamp", "svix-signature"])
def test_missing_headers(drop: str) -> None:
    body, headers = sign_webhook(PAYLOAD, secret=SECRET)
    del headers[drop]
    with pytest.raises(WebhookVerificationError, match="missing"):
        verify_webhook(secret=SECRET, body=body, headers=headers)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(secret=SECRET, body=body, headers={})


@pytest.mark.parametrize(
    "signature",
    ["v1", "garbage", "v1,!!!not-base64!!!", "", "v2,abc"],
)
def test_malformed_signature_headers_are_verification_errors(signature: str) -> None:
    body, headers = sign_webhook(PAYLOAD, secret=SECRET)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(secret=SECRET, body=body, headers={**headers, "svix-signature": signature})
    with pytest.raises(WebhookVerificationError):
        verify_webhook(secret=SECRET, body=body, headers={**headers, "svix-timestamp": "yesterday"})


def test_non_utf8_body_is_a_verification_error() -> None:
    _, headers = sign_webhook(PAYLOAD, secret=SECRET)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(secret=SECRET, body=b"\xff\xfe\x00", headers=headers)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'{"event": "calendar.update"}',
        b'{"event": 7, "data": {}}',
        b'{"event": "", "data": {}}',
        b'{"event": "calendar.update", "data": "c0ffee"}',
    ],
)
def test_verified_but_malformed_payloads(body: bytes) -> None:
    signed, headers = sign_webhook(None, secret=SECRET, body=body)
    with pytest.raises(WebhookPayloadError):
        verify_webhook(secret=SECRET, body=signed, headers=headers)


@pytest.mark.parametrize("secret", ["", "whsec_", "whsec_%%%not base64%%%"])
def test_unusable_secret_is_a_configuration_error(secret: str) -> None:
    body, headers = sign_webhook(PAYLOAD, secret=SECRET)
    with pytest.raises(ValueError, match="not a valid Svix secret"):
        verify_webhook(secret=secret, body=body, headers=headers)


@pytest.mark.parametrize("event", ["calendar.update", "calendar.sync_events"])
def test_catalogue_examples_verify_and_match_their_schema(event: str) -> None:
    event_type = recall_webhook_schemas()[event]
    assert event_type.examples, f"webhooks.json has no example for {event}"
    for example in event_type.examples:
        body, headers = sign_webhook(example, secret=SECRET, style="webhook")
        payload = verify_webhook(secret=SECRET, body=body, headers=headers)
        assert payload == example and payload["event"] == event
        event_type.validate(payload)


def test_the_fakes_payloads_match_the_catalogue() -> None:
    with FakeRecall() as fake:
        calendar = fake.add_calendar()
        fake.add_event(calendar["id"], start_time=datetime.now(UTC) + timedelta(hours=1))
        for payload in (fake.sync_events_payload(calendar["id"]), fake.calendar_update_payload(calendar["id"])):
            recall_webhook_schemas()[payload["event"]].validate(payload)
            body, headers = sign_webhook(payload, secret=SECRET)
            assert verify_webhook(secret=SECRET, body=body, headers=headers) == json.loads(body)
