"""`recall-slackbot serve | worker | migrate | manifest --public-url URL`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys

from slackbot.settings import ConfigError, Settings, load_settings

logger = logging.getLogger("slackbot")


def _configure_logging() -> None:
    from slackbot.log_format import configure_logging

    configure_logging()


async def _migrate(settings: Settings) -> None:
    from storage.db import create_engine
    from storage.migrate import upgrade

    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def cmd_serve(settings: Settings) -> int:
    import uvicorn

    from slackbot.app import create_app
    from storage.db import is_sqlite

    settings.require_complete()
    if is_sqlite(settings.database_url):
        asyncio.run(_migrate(settings))
    # No access log: query strings carry connect-link tokens and OAuth codes; the app logs its own events.
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None, access_log=False)
    return 0


def cmd_worker(settings: Settings) -> int:
    from slackbot.jobs import build_scheduler
    from slackbot.services.registry import build_services

    settings.require_complete()

    async def run() -> None:
        services = build_services(settings)
        scheduler = build_scheduler(services)
        scheduler.start()
        logger.info("worker.started")
        try:
            # Picks up deliveries the web replicas stored but could not finish (rescans periodically).
            await services.processor.run_forever()
        finally:
            scheduler.shutdown(wait=False)
            await services.aclose()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
    return 0


def cmd_migrate(settings: Settings) -> int:
    asyncio.run(_migrate(settings))
    print("Database is up to date.")
    return 0


def cmd_manifest(public_url: str) -> int:
    from slackbot.manifest import render_manifest

    sys.stdout.write(render_manifest(public_url))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="recall-slackbot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the web app and the background jobs")
    sub.add_parser("worker", help="run the background jobs only (for several web replicas)")
    sub.add_parser("migrate", help="bring the database schema up to date")
    manifest = sub.add_parser("manifest", help="print manifest.yml for a deployment")
    manifest.add_argument("--public-url", required=True, help="base URL Slack reaches, e.g. https://bot.example.com")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "manifest":
        return cmd_manifest(args.public_url)
    _configure_logging()
    try:
        settings = load_settings()
        return {"serve": cmd_serve, "worker": cmd_worker, "migrate": cmd_migrate}[args.command](settings)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
