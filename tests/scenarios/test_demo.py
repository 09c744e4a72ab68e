"""`recall-slackbot demo` as a person uses it: the command in a real process tree, the page in headless Chromium.

The browser walks connect → meetings appear → Schedule → the message shows the bot scheduled → the App Home
lists it, and plays the bot's first steps; a meeting titled like markup renders as text; every request the
browser makes stays on loopback. Starting a second demo on the same ports fails with one line; Ctrl-C stops
every process the demo started.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.scenarios.chromium import CHROMIUM, CHROMIUM_ARGS, require_browser

pytestmark = pytest.mark.browser

START = 120.0
WAIT_MS = 20_000
ADA = "U0ADALOVE"
GRACE = "U0GRACEHO"
MARKUP_TITLE = "<script>window.pwned = 1</script> <!channel> & *not bold*"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@dataclass
class Demo:
    process: subprocess.Popen[str]
    url: str
    app_port: int
    page_port: int
    first_line: str


def start_demo(app_port: int, page_port: int, tmp_path: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "RECALL_", "GOOGLE_", "DATABASE_"))}
    return subprocess.Popen(
        [sys.executable, "-m", "slackbot", "demo", "--port", str(page_port), "--app-port", str(app_port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_url(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + START
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            _, err = process.communicate(timeout=10)
            raise AssertionError(f"the demo exited ({process.returncode}) before printing its URL:\n{err}")
        if "open http://" in line:
            return line
    raise AssertionError("the demo printed no URL in time")


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    app_port, page_port = free_port(), free_port()
    process = start_demo(app_port, page_port, tmp_path)
    try:
        line = read_url(process)
        url = line.split("open ", 1)[1].split()[0]
        yield Demo(process, url, app_port, page_port, line)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def test_the_demo_prints_one_url_and_serves_the_page_and_the_app(demo: Demo) -> None:
    assert demo.url == f"http://127.0.0.1:{demo.page_port}"
    assert demo.first_line.count("http://") == 1
    page = httpx.get(demo.url, timeout=10, trust_env=False)
    assert page.status_code == 200 and "Recall for Slack" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert httpx.get(f"http://127.0.0.1:{demo.app_port}/healthz", timeout=10, trust_env=False).json()["status"] == "ok"


def test_the_page_refuses_requests_from_elsewhere_and_bad_input(demo: Demo) -> None:
    post = f"{demo.url}/command"
    # No X-Demo header: what a page on another site could send without a CORS preflight.
    assert httpx.post(post, json={"member": ADA, "text": "help"}, trust_env=False).status_code == 403
    headers = {"X-Demo": "1"}
    unknown = httpx.post(post, json={"member": "U0NOBODY00", "text": "help"}, headers=headers, trust_env=False)
    assert unknown.status_code == 400 and unknown.json()["error"] == "Unknown member."
    not_json = httpx.post(post, content=b"[1, 2", headers=headers, trust_env=False)
    assert not_json.status_code == 400 and not_json.json()["error"] == "Send a JSON object."
    no_calendar = httpx.post(
        f"{demo.url}/calendar", json={"member": ADA, "op": "add", "title": "x"}, headers=headers, trust_env=False
    )
    assert no_calendar.status_code == 400 and "Connect a calendar first" in no_calendar.json()["error"]
    assert httpx.get(f"{demo.url}/static/../runner.py", trust_env=False).status_code == 404
    # Only the page's own address answers (no DNS rebinding), and a broken Content-Length is refused.
    port = demo.page_port
    rebound = httpx.post(post, json={"member": ADA, "text": "help"}, headers={**headers, "Host": "evil.example"})
    assert rebound.status_code == 421
    assert httpx.get(demo.url, headers={"Host": f"evil.example:{port}"}, trust_env=False).status_code == 421
    assert httpx.get(f"http://localhost:{port}/", trust_env=False).status_code == 200
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(
            f"POST /command HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Demo: 1\r\nContent-Length: -1\r\n\r\n".encode()
        )
        assert raw.recv(200).startswith(b"HTTP/1.0 400")


def test_a_second_demo_on_the_same_ports_fails_with_one_line(demo: Demo, tmp_path: Path) -> None:
    second = start_demo(demo.app_port, demo.page_port, tmp_path)
    out, err = second.communicate(timeout=60)
    assert second.returncode == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "already in use" in lines[0] and str(demo.app_port) in lines[0]
    assert out == ""
    # The first demo is unharmed.
    assert httpx.get(demo.url, timeout=10, trust_env=False).status_code == 200


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--port", "70000"], "--port 70000 is not a port"),
        (["--app-port", "0"], "--app-port 0 is not a port"),
        (["--database", "exists.db"], "exists.db already exists"),
        (["--database", "no/such/folder/demo.db"], "the folder of no/such/folder/demo.db does not exist"),
    ],
)
def test_bad_arguments_are_one_line(tmp_path: Path, args: list[str], line: str) -> None:
    (tmp_path / "exists.db").write_bytes(b"")
    result = subprocess.run(
        [sys.executable, "-m", "slackbot", "demo", *args], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [result.stderr.strip()] and line in result.stderr
    assert result.stdout == ""


def test_ctrl_c_stops_every_process_the_demo_started(demo: Demo, tmp_path: Path) -> None:
    children = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(demo.process.pid)], capture_output=True, text=True, check=False
    ).stdout.split()
    assert children, "the app runs as a child process"
    demo.process.send_signal(signal.SIGINT)
    assert demo.process.wait(30) == 0
    for pid in children:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
            status = Path(f"/proc/{pid}/status").read_text() if Path(f"/proc/{pid}/status").exists() else ""
            if "State:\tZ" in status:
                break
            time.sleep(0.1)
        alive = Path(f"/proc/{pid}/status").exists() and "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
        assert not alive, f"child {pid} outlived the demo"
    assert port_free(demo.app_port) and port_free(demo.page_port)
    # Started again at once on the same ports (some of their connections still in TIME_WAIT), it runs.
    again = start_demo(demo.app_port, demo.page_port, tmp_path)
    try:
        assert f"open http://127.0.0.1:{demo.page_port}" in read_url(again)
    finally:
        again.send_signal(signal.SIGINT)
        assert again.wait(30) == 0


def test_a_browser_walks_connect_schedule_and_home(demo: Demo) -> None:
    require_browser()
    from playwright.sync_api import expect, sync_playwright

    requested: list[str] = []
    refused: list[str] = []

    def loopback_only(route: Any) -> None:
        url = route.request.url
        requested.append(url)
        if urlsplit(url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            refused.append(url)
            route.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            # The computer's zone is not the member's: Slack shows times in the member's (Ada: Europe/London).
            context = browser.new_context(timezone_id="Asia/Tokyo", locale="en-GB")
            context.set_default_timeout(WAIT_MS)
            context.route("**/*", loopback_only)
            page = context.new_page()
            page.goto(f"{demo.url}/?member={ADA}")
            expect(page.locator("#messages")).to_contain_text("/recall connect")

            # Connect: the command, the DM's link, the stand-in Google's consent page, the app's own page.
            page.fill("#composer input[name=text]", "/recall connect")
            page.click("#composer button")
            link = page.locator("#messages a.btn", has_text="Connect Google Calendar")
            expect(link).to_be_visible()
            expect(page.locator("#messages .ephemeral")).to_contain_text("sent you a DM")
            with context.expect_page() as opened:
                link.click()
            consent = opened.value
            consent.wait_for_load_state()
            consent.click('button[name=sub][value="ada@acme.test"]')
            consent.wait_for_selector("main[data-outcome=success]")
            assert consent.inner_text("h1") == "Google Calendar connected"
            consent.close()

            # The week was on the calendar before connecting: the one message on connecting lists it, each meeting
            # with its buttons (no DM per meeting). Schedule the team meeting from there.
            summary = page.locator("#messages article.msg", has_text="is connected for ada@acme.test")
            expect(summary).to_contain_text("I found 3 meetings coming up with a video link")
            row = summary.locator("div.bk-section", has_text="Weekly product sync")
            expect(row).to_contain_text("Bot not scheduled")
            expect(page.locator("#calendar")).to_contain_text("Weekly product sync")
            row.locator("xpath=following-sibling::div[1]").locator("button", has_text="Schedule bot").click()
            expect(row).to_contain_text("Bot scheduled")
            expect(summary).to_contain_text("(edited)")
            other = summary.locator("div.bk-section", has_text="1:1 Ada / Grace")
            expect(other).to_contain_text("Bot not scheduled")  # only the row clicked changed
            # Slack date tokens are shown in the member's zone, not as their UTC fallback: the same time as the
            # calendar panel gives.
            first_time = row.locator("time.slack-date").first
            expect(first_time).not_to_contain_text("UTC")
            panel_when = page.locator("#calendar li.event", has_text="Weekly product sync").locator(".event-when")
            starts = re.search(r"(\d\d:\d\d)–", panel_when.inner_text())
            assert starts is not None and starts.group(1) in first_time.inner_text()

            # "Open the Home tab" (a slack:// deep link in the connect summary) opens the Home tab here.
            summary.locator("a.btn", has_text="Open the Home tab").click()
            expect(page.locator("#home")).to_be_visible()
            page.click("a.tab[data-tab=messages]")

            # The App Home lists it.
            page.click("a.tab[data-tab=home]")
            home = page.locator("#home")
            expect(home).to_contain_text("Weekly product sync")
            expect(home).to_contain_text("Bot scheduled")

            # The bot's life, played from the calendar panel, reaches the meeting's message.
            page.click("a.tab[data-tab=messages]")
            event = page.locator("#calendar li.event", has_text="Weekly product sync")
            event.locator("button", has_text="Bot joins").click()
            expect(row).to_contain_text("is joining")

            # A meeting added now is new: it gets a DM of its own, whose buttons work too. Titled like markup, it
            # renders as text and runs nothing.
            page.fill(".add-event input[name=title]", MARKUP_TITLE)
            page.fill(".add-event input[name=in_minutes]", "90")
            page.click(".add-event button")
            odd = page.locator("#messages article.msg", has_text="window.pwned")
            expect(odd).to_contain_text("<script>window.pwned = 1</script> <!channel> & *not bold*")
            assert page.evaluate("window.pwned") is None
            assert odd.locator("script").count() == 0
            expect(odd).to_contain_text("Bot not scheduled")
            odd.locator("button", has_text="Schedule bot").click()
            expect(odd).to_contain_text("Bot scheduled")
            expect(odd).to_contain_text("(edited)")

            # Grace sees her own (empty) DM, not Ada's.
            page.select_option("#member-switch", GRACE)
            expect(page.locator("#messages")).to_contain_text("No messages yet")
        finally:
            browser.close()
    assert refused == [], f"the demo reached outside the machine: {refused}"
    assert requested and all(urlsplit(u).hostname == "127.0.0.1" for u in requested)
