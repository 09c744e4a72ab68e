"""The ASGI app: Bolt mounted on Starlette next to the calendar OAuth, webhook and health routes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from slackbot.bolt_app import build_bolt_app
from slackbot.jobs import build_scheduler
from slackbot.registry import Services, build_services
from slackbot.settings import Settings
from slackbot.web.calendar import calendar_routes
from slackbot.web.slack_events import slack_events_handler
from slackbot.web.webhook import webhook_routes
from storage.health import DatabaseHealth
from storage.health import check as database_health

logger = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    *,
    services: Services | None = None,
    run_jobs: bool | None = None,
    process_before_response: bool = False,
) -> Starlette:
    """Build everything from ``settings``; tests pass the twins' URLs in the settings."""
    services = services or build_services(settings)
    bolt = build_bolt_app(services, process_before_response=process_before_response)
    slack_handler = AsyncSlackRequestHandler(bolt)
    jobs_enabled = settings.run_jobs if run_jobs is None else run_jobs

    async def slack(request: Request) -> Response:
        return await slack_handler.handle(request)

    slack_events = slack_events_handler(bolt, signing_secret=settings.slack_signing_secret)

    async def healthz(_: Request) -> Response:
        """Liveness and the database's fitness: reachable within 2 s, at the latest migration, writable."""
        state = await database_health(services.db.engine)
        if state is not DatabaseHealth.OK:
            logger.warning("healthz.database_unfit", extra={"database": state.value})
            return JSONResponse({"status": "error", "database": state.value}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        scheduler = build_scheduler(services) if jobs_enabled else None
        if scheduler is not None:
            scheduler.start()
        # Webhooks stored by this process are processed here; a kick at start picks up what a crash left.
        processor = asyncio.create_task(services.processor.run_forever(), name="webhook-processor")
        services.processor.kick()
        try:
            yield
        finally:
            processor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await processor
            if scheduler is not None:
                scheduler.shutdown(wait=False)
            await services.aclose()

    routes = [
        Route("/slack/events", slack_events, methods=["POST"]),
        Route("/slack/install", slack, methods=["GET"]),
        Route("/slack/oauth_redirect", slack, methods=["GET"]),
        *calendar_routes(
            connect=services.connect,
            gateway=services.gateway,
            digests=services.digests,
            public_url=settings.public_base_url,
        ),
        *webhook_routes(
            db=services.db,
            secret=settings.recall_webhook_secret,
            processor=services.processor,
            lull=services.lull,
        ),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.services = services
    app.state.bolt = bolt
    return app
