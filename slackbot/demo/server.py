"""The demo page's server: loopback only, server-rendered HTML, a JSON state endpoint, and the POSTs the page
makes (each becomes a signed request to the app through :class:`DemoController`)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from slackbot.demo import page
from slackbot.demo.controller import DemoController, DemoError, member_from
from slackbot.demo.world import MEMBERS, member_by_id

logger = logging.getLogger(__name__)

STATIC = {"demo.css": "text/css", "demo.js": "text/javascript", "slack.js": "text/javascript"}
MAX_BODY = 64 * 1024
# No inline script or style, nothing from elsewhere: the page works offline and a title can never run.
CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A connection that broke (a browser gone mid-request): a debug line, not a traceback on the terminal."""
        logger.debug("demo.page_connection_failed", exc_info=True)


def _static(name: str) -> bytes:
    return resources.files("slackbot.demo").joinpath("static", name).read_bytes()


class DemoServer:
    """``ThreadingHTTPServer`` on (host, port) serving the page; ``start()`` / ``stop()``."""

    def __init__(self, controller: DemoController, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.controller = controller
        self._server = _QuietServer((host, port), _handler(controller))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="demo-page", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> DemoServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def _handler(controller: DemoController) -> type[BaseHTTPRequestHandler]:
    posts: Mapping[str, Callable[[Any, Mapping[str, Any]], None]] = {
        "/command": lambda m, f: controller.command(m, str(f.get("text") or "")),
        "/action": controller.act,
        "/home": lambda m, _f: controller.open_home(m),
        "/calendar": controller.change_calendar,
        "/bot": controller.play_bot,
    }

    class Handler(BaseHTTPRequestHandler):
        server_version = "recall-slackbot-demo"

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("demo.page %s", format % args)

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Security-Policy", CSP)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, value: Any) -> None:
            self._send(status, json.dumps(value).encode(), "application/json")

        def _host_ok(self) -> bool:
            """Only the page's own address: a site that rebinds its name to 127.0.0.1 gets nothing."""
            port = self.server.server_address[1]
            if self.headers.get("Host") in (f"127.0.0.1:{port}", f"localhost:{port}"):
                return True
            self._send(421, b"This demo answers only at its own address.", "text/plain; charset=utf-8")
            return False

        def do_GET(self) -> None:
            if not self._host_ok():
                return
            url = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            if url.path.startswith("/static/"):
                name = url.path.removeprefix("/static/")
                if name not in STATIC:
                    self._send(404, b"not found", "text/plain")
                    return
                self._send(200, _static(name), f"{STATIC[name]}; charset=utf-8")
                return
            member = member_by_id(query.get("member", "")) or MEMBERS[0]
            if url.path == "/":
                html = page.page(controller, member, query.get("tab", "messages"))
                self._send(200, html.encode(), "text/html; charset=utf-8")
            elif url.path == "/state":
                self._json(200, page.state(controller, member))
            else:
                self._send(404, b"not found", "text/plain")

        def do_POST(self) -> None:
            if not self._host_ok():
                return
            action = posts.get(urlsplit(self.path).path)
            if action is None:
                self._json(404, {"ok": False, "error": "Not found."})
                return
            # A custom header: a page elsewhere cannot send it without a CORS preflight, which is never allowed.
            if self.headers.get("X-Demo") != "1":
                self._json(403, {"ok": False, "error": "Requests come from the demo page."})
                return
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if length < 0:
                self._json(400, {"ok": False, "error": "Content-Length must be a number."})
                return
            if length > MAX_BODY:
                self._json(413, {"ok": False, "error": "Too large."})
                return
            try:
                fields = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                fields = None
            if not isinstance(fields, dict):
                self._json(400, {"ok": False, "error": "Send a JSON object."})
                return
            try:
                action(member_from(fields), fields)
            except DemoError as exc:
                self._json(HTTPStatus.BAD_REQUEST, {"ok": False, "error": str(exc)})
            except Exception:
                logger.exception("demo.page_request_failed")
                self._json(500, {"ok": False, "error": "The demo failed to do that; its log says why."})
            else:
                self._json(200, {"ok": True})

    return Handler
