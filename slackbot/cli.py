"""`recall-slackbot serve | worker | migrate | rotate-keys | manifest --public-url URL | secret-key | --version`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import warnings
from pathlib import Path

from slackbot.settings import ConfigError, Settings, load_settings
from storage.crypto import DecryptionError

logger = logging.getLogger("slackbot")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("recall-slackbot")
    except PackageNotFoundError:  # pragma: no cover - running from a plain checkout
        return "unknown"


def _configure_logging(settings: Settings | None = None) -> None:
    from slackbot.log_format import configure_logging

    if settings is None:
        configure_logging()
    else:
        configure_logging(settings.log_level, fmt=settings.log_format)


def _starting(settings: Settings, command: str) -> None:
    """One line that says how this process runs (never a secret)."""
    from slackbot.calendar_oauth.providers import configured_providers
    from storage.db import is_sqlite

    logger.info(
        "app.starting",
        extra={
            "command": command,
            "mode": "install flow (several workspaces)" if settings.multi_workspace else "one workspace",
            "public_url": settings.public_base_url,
            "calendar_providers": ",".join(configured_providers(settings)) or "none",
            "database": "sqlite" if is_sqlite(settings.database_url) else "postgresql",
            "jobs": "on" if settings.run_jobs or command == "worker" else "off",
        },
    )


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

    _starting(settings, "serve")
    _warn(settings)
    # Never on a schema behind the code: every start migrates (one replica at a time; see storage.migrate).
    asyncio.run(_migrate(settings))
    # No access log: query strings carry connect-link tokens and OAuth codes; the app logs its own events.
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None, access_log=False)
    return 0


def cmd_worker(settings: Settings) -> int:
    from slackbot.jobs import build_scheduler
    from slackbot.registry import build_services

    _starting(settings, "worker")
    _warn(settings)
    asyncio.run(_migrate(settings))

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


def cmd_rotate_keys(settings: Settings) -> int:
    from storage.crypto import TokenCipher
    from storage.db import Database
    from storage.key_rotation import rotate_secrets

    if not settings.secret_keys:
        raise ConfigError("SECRET_KEY is not set: put the new key first, then the old ones, comma-separated")

    async def run() -> None:
        db = Database.from_url(settings.database_url)
        try:
            async with db.transaction() as session:
                report = await rotate_secrets(session, TokenCipher(settings.secret_keys))
        finally:
            await db.dispose()
        print(
            f"Re-encrypted {report.refresh_tokens} calendar refresh tokens, {report.code_verifiers} pending sign-ins "
            f"and {report.slack_tokens} Slack tokens with the first SECRET_KEY. The other keys can now be removed."
        )

    asyncio.run(run())
    return 0


def _warn(settings: Settings) -> None:
    for warning in settings.findings().warnings:
        logger.warning("config.warning: %s", warning)


def cmd_manifest(public_url: str, output: str | None = None) -> int:
    """Print (or write to ``output``) the manifest; a bad URL is one line on stderr and no file at all."""
    from slackbot.manifest import render_manifest

    try:
        manifest = render_manifest(public_url)
    except ValueError as exc:
        print(f"recall-slackbot manifest: {exc}", file=sys.stderr)
        return 2
    if output is None:
        sys.stdout.write(manifest)
        return 0
    try:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(manifest)
    except OSError as exc:
        print(f"recall-slackbot manifest: cannot write {output}: {exc.strerror}", file=sys.stderr)
        return 2
    return 0


def cmd_doctor(settings: Settings) -> int:
    """Every check, one line each; exit 0 only when none failed."""
    from slackbot.doctor import diagnose, passed, render

    checks = asyncio.run(diagnose(settings))
    print(render(checks))
    return 0 if passed(checks) else 1


def cmd_secret_key() -> int:
    """A new random SECRET_KEY (a Fernet key; any long random string works)."""
    from cryptography.fernet import Fernet

    print(Fernet.generate_key().decode())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="recall-slackbot", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the web app and the background jobs")
    sub.add_parser("worker", help="run the background jobs only (for several web replicas)")
    sub.add_parser("migrate", help="bring the database schema up to date")
    sub.add_parser("rotate-keys", help="re-encrypt stored secrets with the first SECRET_KEY")
    manifest = sub.add_parser("manifest", help="print manifest.yml for a deployment")
    manifest.add_argument("--public-url", required=True, help="base URL Slack reaches, e.g. https://bot.example.com")
    manifest.add_argument("--output", help="write it to this file (only when the URL is good) instead of stdout")
    sub.add_parser("secret-key", help="print a new random SECRET_KEY")
    sub.add_parser("doctor", help="check the configuration against the real services, one line per check")
    demo = sub.add_parser(
        "demo", help="try the app with no accounts: a Slack-like page driving the real app against local stand-ins"
    )
    demo.add_argument("--port", type=int, default=3001, help="the demo page's port on 127.0.0.1 (default 3001)")
    demo.add_argument("--app-port", type=int, default=3000, help="the app's port on 127.0.0.1 (default 3000)")
    demo.add_argument("--database", type=Path, help="keep the demo's SQLite database in this file (default: temporary)")
    return parser


def main(argv: list[str] | None = None) -> int:
    # authlib warns, on import, about its own httpx module: not the operator's to fix. Its import puts an "always"
    # filter for its warnings in front, so ours goes in after it.
    from authlib import deprecate

    warnings.filterwarnings(
        "ignore", message="The httpx module is deprecated", category=deprecate.AuthlibDeprecationWarning
    )
    args = build_parser().parse_args(argv)
    if args.command == "manifest":
        return cmd_manifest(args.public_url, args.output)
    if args.command == "secret-key":
        return cmd_secret_key()
    if args.command == "demo":
        from slackbot.demo.runner import run

        _configure_logging()
        return run(app_port=args.app_port, page_port=args.port, database=args.database)
    _configure_logging()
    try:
        settings = load_settings(complete=args.command in ("serve", "worker"))
        _configure_logging(settings)
        database = [line for line in settings.findings().errors if line.startswith("DATABASE_URL")]
        if (
            database and args.command != "doctor"
        ):  # migrate and rotate-keys need the database only, and a clear word when it is wrong
            raise ConfigError("Invalid configuration:\n" + "\n".join(f"  {line}" for line in database))
        commands = {
            "serve": cmd_serve,
            "worker": cmd_worker,
            "migrate": cmd_migrate,
            "rotate-keys": cmd_rotate_keys,
            "doctor": cmd_doctor,
        }
        return commands[args.command](settings)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    except DecryptionError:
        print("A stored secret cannot be decrypted with any SECRET_KEY: keep the old key in the list.", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
