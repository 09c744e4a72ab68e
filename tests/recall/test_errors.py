"""Error bodies of every shape Recall is known to send, mapped to typed errors in one place."""

from __future__ import annotations

import pytest

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
    RecallUnavailable,
    api_error_from_response,
    error_class_for_status,
)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, RecallBadRequest),
        (401, RecallAuthError),
        (402, RecallPaymentRequired),
        (403, RecallAuthError),
        (404, RecallNotFound),
        (405, RecallMethodNotAllowed),
        (409, RecallConflict),
        (429, RecallRateLimited),
        (500, RecallUnavailable),
        (502, RecallUnavailable),
        (507, RecallUnavailable),
        (418, RecallAPIError),
        (302, RecallAPIError),
    ],
)
def test_status_mapping(status: int, cls: type[RecallAPIError]) -> None:
    assert error_class_for_status(status) is cls
    error = api_error_from_response(status=status, body=b"", content_type=None)
    assert type(error) is cls and isinstance(error, RecallError) and error.status == status


def test_recall_body() -> None:
    error = api_error_from_response(
        status=400,
        body=b'{"code": "update_bot_failed", "message": "Not enough time to launch new bot", '
        b'"errors": {"non_field_errors": ["Only non-dispatched bots can be updated"]}}',
        content_type="application/json",
        method="POST",
        path="/api/v2/calendar-events/x/bot/",
    )
    assert (error.code, error.message) == ("update_bot_failed", "Not enough time to launch new bot")
    assert error.non_field_errors == ["Only non-dispatched bots can be updated"]
    assert (
        str(error) == "POST /api/v2/calendar-events/x/bot/ -> 400 update_bot_failed: Not enough time to launch new bot"
    )
    assert repr(error).startswith("RecallBadRequest(status=400, code='update_bot_failed'")


def test_drf_detail_body() -> None:
    error = api_error_from_response(status=404, body=b'{"detail": "Not found."}', content_type="application/json")
    assert (error.code, error.message, error.errors) == (None, "Not found.", None)
    assert error.non_field_errors == []


def test_drf_list_body() -> None:
    error = api_error_from_response(status=400, body=b'["Invalid cursor"]', content_type="application/json")
    assert error.message == "Invalid cursor"


def test_html_waf_page_stays_out_of_the_message() -> None:
    page = b"<!DOCTYPE html><html><body>Request blocked. Reference #18.abc</body></html>"
    error = api_error_from_response(status=403, body=page, content_type="text/html; charset=utf-8")
    assert isinstance(error, RecallAuthError)
    assert error.message == "non-JSON (HTML) error body"
    assert "Reference" not in repr(error)


def test_garbage_bodies() -> None:
    assert api_error_from_response(status=502, body=b"Bad Gateway", content_type="text/plain").message == (
        "non-JSON error body"
    )
    assert api_error_from_response(status=502, body=b"{not json", content_type="application/json").message == (
        "non-JSON error body"
    )
    assert api_error_from_response(status=500, body=b"\xff\xfe", content_type=None).status == 500


def test_rate_limited_keeps_the_hint() -> None:
    error = api_error_from_response(status=429, body=b"{}", content_type="application/json", retry_after=12.0)
    assert isinstance(error, RecallRateLimited) and error.retry_after == 12.0
