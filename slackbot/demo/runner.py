"""``recall-slackbot demo``: the real app (``serve``, in a child process, SQLite) against local stand-ins for Slack,
Recall and Google, and a Slack-like page to drive it, all on loopback. Ctrl-C stops everything it started."""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import httpx

from slackbot.demo.world import MEMBERS, TEAM_ID, TEAM_NAME

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
DEFAULT_APP_PORT = 3000
DEFAULT_PAGE_PORT = 3001
START_TIMEOUT = 90.0
ADOPT_EVERY = 0.5
BOT_TOKEN = "xoxb-0000000001-0000000002-demo" + "0" * 16
# What the app's child process may inherit: enough to run Python, nothing that could configure the app.
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV", "SYSTEMROOT")


class DemoStartError(Exception):
    """The demo cannot start; the message is the one line the person sees."""


def port_free(port: int, host: str = HOST) -> bool:
    """Whether a server could listen there now. SO_REUSEADDR as the servers themselves bind: a port still in
    TIME_WAIT from a demo just stopped is free to them."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def check_ports(app_port: int, page_port: int) -> None:
    for port, flag in ((app_port, "--app-port"), (page_port, "--port")):
        if not 1 <= port <= 65535:
            raise DemoStartError(f"recall-slackbot demo: {flag} {port} is not a port (1 to 65535).")
    if app_port == page_port:
        raise DemoStartError(f"recall-slackbot demo: the app and the page need two ports, both are {app_port}.")
    for port, flag in ((app_port, "--app-port"), (page_port, "--port")):
        if not port_free(port):
            raise DemoStartError(
                f"recall-slackbot demo: port {port} on {HOST} is already in use (is a demo or the app already "
                f"running?); stop it or pick another with {flag}."
            )


def require_demo_extra() -> None:
    if importlib.util.find_spec("oidc_provider_mock") is None:
        raise DemoStartError(
            "recall-slackbot demo needs its extra: pip install 'recall-slackbot[demo]' (or: pip install -e '.[demo]')"
        )


def check_database(database: Path | None) -> None:
    """A named database must be new: the stand-ins start empty on every run (and the encryption key is new), so a
    database from an earlier run would describe calendars and messages that no longer exist."""
    if database is None:
        return
    if database.exists():
        raise DemoStartError(
            f"recall-slackbot demo: {database} already exists; the stand-ins start empty on every run, so the demo "
            "needs a new database file (remove it or name another)."
        )
    if not database.resolve().parent.is_dir():
        raise DemoStartError(f"recall-slackbot demo: the folder of {database} does not exist.")


@dataclass(frozen=True)
class AppProcess:
    process: subprocess.Popen[bytes]
    log_path: Path


def app_environment(**settings: str) -> dict[str, str]:
    env = {name: os.environ[name] for name in INHERITED if name in os.environ}
    env.update(settings)
    return env


def wait_until_healthy(app: AppProcess, url: str, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2, trust_env=False) as client:
        while time.monotonic() < deadline:
            if app.process.poll() is not None:
                raise DemoStartError(
                    f"recall-slackbot demo: the app stopped while starting (exit {app.process.returncode}); the end "
                    "of its log:\n" + log_tail(app.log_path)
                )
            with contextlib.suppress(httpx.HTTPError):
                if client.get(f"{url}/healthz").status_code == 200:
                    return
            time.sleep(0.2)
    raise DemoStartError(
        f"recall-slackbot demo: the app did not start within {timeout:.0f} s; the end of its log:\n"
        + log_tail(app.log_path)
    )


def log_tail(path: Path, lines: int = 20) -> str:
    """The last lines of the app's log (it lives in the demo's temporary folder, gone once the demo stops)."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout)


@contextlib.contextmanager
def demo_world(*, app_port: int, page_port: int, database: Path | None) -> Iterator[tuple[str, AppProcess]]:
    """Everything running; yields the page's URL and the app's process. Leaves nothing behind on exit."""
    from slackbot.demo.controller import DemoController
    from slackbot.demo.server import DemoServer
    from slackbot.demo.twins.google import OidcProviderMock
    from slackbot.demo.twins.recall import FakeRecall, make_webhook_secret
    from slackbot.demo.twins.slack import FakeSlack

    # The stand-in Google logs each request and each code it issues (with the client and its secret): not for a
    # terminal.
    for name in ("werkzeug", "oidc_provider_mock"):
        logging.getLogger(name).setLevel(logging.WARNING)
    workdir = Path(tempfile.mkdtemp(prefix="recall-slackbot-demo-"))
    db_path = database.resolve() if database is not None else workdir / "demo.db"
    app_url = f"http://{HOST}:{app_port}"
    signing_secret = secrets.token_hex(16)
    webhook_secret = make_webhook_secret()
    stack = contextlib.ExitStack()
    try:
        slack = FakeSlack().start()
        stack.callback(slack.stop)
        recall = FakeRecall(auto_connect=True).start()
        stack.callback(recall.stop)
        users = {m.email: {"email": m.email, "email_verified": True, "name": m.real_name} for m in MEMBERS}
        controller = DemoController(
            slack=slack,
            recall=recall,
            app_url=app_url,
            signing_secret=signing_secret,
            webhook_secret=webhook_secret,
        )
        stack.callback(controller.close)
        google = OidcProviderMock(
            users=users,
            offline_pages=True,
            offer=controller.offer,  # the consent page offers the account of the member signing in
        ).start()
        stack.callback(google.stop)

        slack.add_workspace(TEAM_ID, TEAM_NAME, bot_token=BOT_TOKEN)
        for m in MEMBERS:
            slack.add_user(
                TEAM_ID,
                m.user_id,
                name=m.name,
                real_name=m.real_name,
                tz=m.tz,
                email=m.email,
                is_admin=m.is_admin,
            )
        client = google.register_client([f"{app_url}/calendar/oauth/google/callback"])

        log_path = workdir / "app.log"
        log: TextIO = stack.enter_context(log_path.open("w"))
        env = app_environment(
            DATABASE_URL=f"sqlite:///{db_path}",
            PUBLIC_URL=app_url,
            HOST=HOST,
            PORT=str(app_port),
            SECRET_KEY=secrets.token_urlsafe(32),
            SLACK_SIGNING_SECRET=signing_secret,
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_API_URL=slack.base_url,
            RECALL_API_KEY=recall.api_key,
            RECALL_API_URL=recall.base_url,
            RECALL_WEBHOOK_SECRET=webhook_secret,
            GOOGLE_CLIENT_ID=client.client_id,
            GOOGLE_CLIENT_SECRET=client.client_secret,
            GOOGLE_OAUTH_METADATA_URL=google.metadata_url,
            BOT_NAME="Acme Recorder",
            LOG_LEVEL="INFO",
        )
        # The real app, unchanged: `recall-slackbot serve`, in its own folder so no .env around it is read.
        process = subprocess.Popen(
            [sys.executable, "-m", "slackbot", "serve"], env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT
        )
        app = AppProcess(process, log_path)
        stack.callback(stop_process, process)
        wait_until_healthy(app, app_url)

        page = DemoServer(controller, host=HOST, port=page_port).start()
        stack.callback(page.stop)
        stop = threading.Event()
        stack.callback(stop.set)  # runs first on exit: the loop ends before the page and the stand-ins stop
        threading.Thread(target=_adopt_calendars, args=(controller, stop), name="demo-calendars", daemon=True).start()
        yield page.url, app
    finally:
        stack.close()
        shutil.rmtree(workdir, ignore_errors=True)


def _adopt_calendars(controller: object, stop: threading.Event) -> None:
    from slackbot.demo.controller import DemoController, DemoError

    assert isinstance(controller, DemoController)
    while not stop.wait(ADOPT_EVERY):
        try:
            controller.adopt_new_calendars()
        except DemoError as exc:
            logger.warning("demo.calendar_sync_failed: %s", exc)


def run(*, app_port: int, page_port: int, database: Path | None) -> int:
    """The ``demo`` command: one line with the URL, then run until Ctrl-C (or the app stops)."""
    # A polite kill (SIGTERM) stops everything too, as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        require_demo_extra()
        check_ports(app_port, page_port)
        check_database(database)
        with demo_world(app_port=app_port, page_port=page_port, database=database) as (url, app):
            print(f"Recall for Slack demo: open {url} (Ctrl-C stops it; the app's log is {app.log_path})", flush=True)
            while app.process.poll() is None:
                time.sleep(0.5)
            print(
                f"recall-slackbot demo: the app stopped (exit {app.process.returncode}); the end of its log:",
                log_tail(app.log_path),
                sep="\n",
                file=sys.stderr,
            )
            return 1
    except DemoStartError as exc:
        print(exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nrecall-slackbot demo: stopped.", file=sys.stderr)
        return 0
