"""What is wrong with a configuration before anything starts: pure checks over the settings' values.

Each problem is one line naming the variable and what to do; the caller reports them all at once (with the missing
ones), so an operator fixes everything in one go instead of one traceback at a time.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from svix.webhooks import Webhook

# The values `.env.example` ships with: fine on a laptop, never on a public URL.
PLACEHOLDER_MARK = "dev-only-change-me"
PLACEHOLDER_WEBHOOK_SECRET = "whsec_ZGV2LW9ubHktY2hhbmdlLW1lLXBsZWFzZQ=="
# Shorter than this is not a secret (any longer string works: the key is derived from it).
MIN_SECRET_KEY = 16
MAKE_A_KEY = "make one with `recall-slackbot secret-key`"
# Database URLs the app can run on (storage.db maps the plain ones to these async drivers).
ASYNC_DRIVERS = frozenset({"sqlite", "sqlite+aiosqlite", "postgresql", "postgres", "postgresql+asyncpg"})
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})  # noqa: S104 - names, not a bind


@dataclass(frozen=True)
class Values:
    """The settings a check reads (plain strings, as the operator wrote them)."""

    public_url: str
    database_url: str
    secret_keys: tuple[str, ...]
    recall_webhook_secret: str
    secrets: dict[str, str] = field(default_factory=dict)  # every other credential, by variable name


@dataclass(frozen=True)
class Findings:
    errors: tuple[str, ...]
    warnings: tuple[str, ...]


def is_local(host: str | None) -> bool:
    if not host:
        return False
    if host in LOCAL_HOSTS or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check(values: Values) -> Findings:
    errors: list[str] = []
    warnings: list[str] = []
    public = urlsplit(values.public_url.strip())
    if public.scheme not in ("http", "https") or not public.hostname:
        errors.append(
            f"PUBLIC_URL: {values.public_url.strip()!r} is not an absolute URL; write it with its scheme, "
            "e.g. https://bot.example.com"
        )
    elif public.scheme == "http" and not is_local(public.hostname):
        warnings.append(
            f"PUBLIC_URL: {values.public_url.strip()} is plain http on a public host; Slack and Recall need https "
            "(put the app behind a TLS proxy)"
        )
    local = is_local(public.hostname)
    errors += _database(values.database_url)
    for index, key in enumerate(values.secret_keys, start=1):
        if len(key) < MIN_SECRET_KEY:
            which = f"key {index} of {len(values.secret_keys)}" if len(values.secret_keys) > 1 else "the key"
            errors.append(f"SECRET_KEY: {which} is shorter than {MIN_SECRET_KEY} characters; {MAKE_A_KEY}")
    secret = values.recall_webhook_secret.strip()
    if secret and not _svix_secret(secret):
        errors.append(
            "RECALL_WEBHOOK_SECRET: not a Svix signing secret (it starts with whsec_); copy it from Recall's "
            "dashboard > Webhooks > your endpoint > Signing Secret"
        )
    if not local:
        placeholders = sorted(
            name
            for name, value in {
                "SECRET_KEY": ",".join(values.secret_keys),
                "RECALL_WEBHOOK_SECRET": secret,
                **values.secrets,
            }.items()
            if PLACEHOLDER_MARK in value or value == PLACEHOLDER_WEBHOOK_SECRET
        )
        if placeholders:
            errors.append(
                f"{', '.join(placeholders)}: still the placeholder from .env.example, with a public PUBLIC_URL; "
                "set the real values"
            )
    return Findings(tuple(errors), tuple(warnings))


def _svix_secret(secret: str) -> bool:
    if not secret.startswith("whsec_"):
        return False
    try:
        Webhook(secret)
    except Exception:  # binascii.Error, ValueError: not base64 after the prefix
        return False
    return True


def _database(url: str) -> list[str]:
    try:
        parsed = make_url(url.strip())
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        return [f"DATABASE_URL: {_hide_password(url)!r} is not a database URL, e.g. sqlite:///./recall-slackbot.db"]
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql", "postgres"):
        return [f"DATABASE_URL: {backend} is not supported; use sqlite:///... or postgresql://..."]
    if parsed.drivername not in ASYNC_DRIVERS:
        return [
            f"DATABASE_URL: the driver {parsed.drivername} is not one the app runs on; write sqlite:///... or "
            "postgresql://... (the app picks its own async driver, aiosqlite or asyncpg)"
        ]
    if backend == "sqlite" and parsed.database and parsed.database != ":memory:":
        folder = Path(parsed.database).expanduser().parent
        if not folder.is_dir():
            return [f"DATABASE_URL: the folder {folder} for the SQLite file does not exist; create it first"]
    return []


def _hide_password(url: str) -> str:
    """A URL as it may appear in a message: never with its password."""
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url
