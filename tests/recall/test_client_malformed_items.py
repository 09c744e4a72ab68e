"""One malformed event in a listing page is skipped and logged, not fatal to the whole sync."""

from __future__ import annotations

import logging

import httpx
import pytest

from recall.client import RecallClient

GOOD = {
    "id": "0b7a0a57-4d21-4ad1-9c43-7d1a1d6a1c01",
    "calendar_id": "8c0f8a5e-2d35-4b9c-9d0e-4f3f3f7f6c11",
    "start_time": "2026-12-01T10:00:00Z",
    "end_time": "2026-12-01T10:30:00Z",
    "updated_at": "2026-11-27T10:00:00Z",
    "meeting_url": "https://meet.google.com/abc-defg-hij",
    "meeting_platform": "google_meet",
    "is_deleted": False,
    "platform": "google_calendar",
    "raw": {},
    "bots": [],
}


async def test_a_malformed_event_is_skipped(caplog: pytest.LogCaptureFixture) -> None:
    bad = {"id": "broken-event", "calendar_id": GOOD["calendar_id"], "start_time": "not a time"}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"next": None, "previous": None, "results": [bad, GOOD]})

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    client = RecallClient(api_key="k", base_url="https://us-east-1.recall.ai", http=http)
    with caplog.at_level(logging.WARNING, logger="recall.client"):
        pages = [page async for page in client.iter_calendar_event_pages()]
    await http.aclose()
    assert [[event.id for event in page] for page in pages] == [[GOOD["id"]]]
    assert "broken-event" in caplog.text
