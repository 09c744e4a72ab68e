"""Back-off of webhook deliveries that failed."""

from __future__ import annotations


def test_delivery_retry_backs_off_to_an_hour() -> None:
    from datetime import timedelta

    from storage.deliveries import retry_delay

    assert [retry_delay(n) for n in (1, 2, 3)] == [timedelta(seconds=30), timedelta(minutes=1), timedelta(minutes=2)]
    assert retry_delay(20) == timedelta(hours=1)
