"""Headless Chromium for the browser tests: Debian's (`/usr/bin/chromium`), driven by PyPI `playwright`; no browser
download ever happens. Without Chromium the tests skip on a laptop and fail in CI."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--headless",
]


def require_browser() -> None:
    reason = None
    if not Path(CHROMIUM).is_file():
        reason = f"{CHROMIUM} is missing (apt-get install -y chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "PyPI playwright is not installed"
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI must run the browser test", pytrace=False)
        pytest.skip(reason)


def only_loopback(route: Any) -> None:
    """Nothing leaves the machine: oidc-provider-mock's page pulls pico.css from cdn.jsdelivr.net, and
    Chromium phones home unless told not to."""
    if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
        route.continue_()
    else:
        route.abort()
