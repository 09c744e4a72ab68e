"""Screenshots of the demo for the README, taken with headless Chromium from `recall-slackbot demo`.

    .venv/bin/python scripts/demo_screenshots.py [--out docs/screenshots]

Starts the demo on free ports, walks the main moments as a member would (the connect DM, the summary of the week on
connecting, a new meeting's DM before and after Schedule, the App Home, the agenda) and writes one PNG per moment.
Needs Debian's Chromium (/usr/bin/chromium) and PyPI playwright (the test extra); nothing is downloaded and the
browser reaches only 127.0.0.1.
"""

from __future__ import annotations

import argparse
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--no-first-run"]
ADA = "U0ADALOVE"
VIEWPORT = {"width": 1400, "height": 860}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_demo() -> tuple[subprocess.Popen[str], str]:
    page_port, app_port = free_port(), free_port()
    demo = subprocess.Popen(
        [sys.executable, "-m", "slackbot", "demo", "--port", str(page_port), "--app-port", str(app_port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert demo.stdout is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = demo.stdout.readline()
        if not line:
            raise SystemExit(f"the demo stopped before printing its URL (exit {demo.wait()})")
        if "open http://" in line:
            return demo, line.split("open ", 1)[1].split()[0]
    raise SystemExit("the demo printed no URL within 120 s")


def loopback_only(route: Any) -> None:
    if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
        route.continue_()
    else:
        route.abort()


def shoot(out: Path) -> list[Path]:
    from playwright.sync_api import expect, sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    demo, url = start_demo()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            context = browser.new_context(viewport=VIEWPORT, timezone_id="Europe/London", locale="en-GB")
            context.set_default_timeout(20_000)
            context.route("**/*", loopback_only)
            page = context.new_page()

            def save(name: str) -> None:
                path = out / f"{name}.png"
                page.screenshot(path=str(path))
                written.append(path)

            page.goto(f"{url}/?member={ADA}")
            page.fill("#composer input[name=text]", "/recall connect")
            page.click("#composer button")
            link = page.locator("#messages a.btn", has_text="Connect Google Calendar")
            expect(link).to_be_visible()
            save("1-connect-dm")

            with context.expect_page() as opened:
                link.click()
            consent = opened.value
            consent.wait_for_load_state()
            consent.click('button[name=sub][value="ada@acme.test"]')
            consent.wait_for_selector("main[data-outcome=success]")
            consent.close()

            summary = page.locator("#messages article.msg", has_text="is connected for ada@acme.test")
            expect(summary).to_contain_text("I found 3 meetings")
            summary.scroll_into_view_if_needed()
            save("2-connected")

            # A meeting added after connecting is new: it gets a DM of its own.
            page.fill(".add-event input[name=title]", "Design review")
            page.fill(".add-event input[name=in_minutes]", "120")
            page.click(".add-event button")
            meeting = page.locator("#messages article.msg", has_text="Design review")
            expect(meeting).to_contain_text("Bot not scheduled")
            meeting.scroll_into_view_if_needed()
            save("3-meeting-dm")
            meeting.locator("button", has_text="Schedule bot").click()
            expect(meeting).to_contain_text("Bot scheduled")
            meeting.scroll_into_view_if_needed()
            save("4-meeting-scheduled")

            page.click("a.tab[data-tab=home]")
            expect(page.locator("#home")).to_contain_text("Design review")
            save("5-app-home")

            # The daily agenda: due at 08:30 on weekdays, so on a weekday after 08:30 it comes within a minute or
            # two of connecting (the app sends a missed agenda while the day lasts), if meetings remain today.
            page.click("a.tab[data-tab=messages]")
            agenda = page.locator("#messages article.msg", has_text="Your meetings today")
            try:
                expect(agenda).to_be_visible(timeout=150_000)
            except AssertionError:
                print("no agenda today (a weekend, before 08:30, or no meeting left today): 6-agenda.png kept")
            else:
                agenda.scroll_into_view_if_needed()
                save("6-agenda")
            browser.close()
    finally:
        demo.send_signal(signal.SIGINT)
        demo.wait(30)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "screenshots")
    args = parser.parse_args()
    for path in shoot(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
