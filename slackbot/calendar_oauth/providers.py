"""The two calendar providers: scopes, authorize parameters, discovery metadata."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import httpx

from slackbot.settings import Settings

GOOGLE_CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar.events.readonly"
MICROSOFT_CALENDAR_SCOPE = "https://graph.microsoft.com/Calendars.Read"


@dataclass(frozen=True)
class ProviderSpec:
    """What differs between Google and Microsoft for the connect flow."""

    name: str  # "google" | "microsoft": the URL path segment
    label: str  # what members read
    recall_platform: str  # Recall's CalendarPlatformEnum value
    scopes: tuple[str, ...]
    # Any one of these granted is enough for Recall to read events (recall-calendar-v2.md §7).
    calendar_scopes: frozenset[str]
    authorize_params: dict[str, str] = field(default_factory=dict)


GOOGLE = ProviderSpec(
    name="google",
    label="Google Calendar",
    recall_platform="google_calendar",
    scopes=("openid", "email", GOOGLE_CALENDAR_SCOPE, "https://www.googleapis.com/auth/userinfo.email"),
    calendar_scopes=frozenset(
        {
            GOOGLE_CALENDAR_SCOPE,
            "https://www.googleapis.com/auth/calendar.readonly",
            "https://www.googleapis.com/auth/calendar.events",
            "https://www.googleapis.com/auth/calendar",
        }
    ),
    # Both are needed for Google to return a refresh token every time, reconnects included.
    authorize_params={"access_type": "offline", "prompt": "consent"},
)

MICROSOFT = ProviderSpec(
    name="microsoft",
    label="Microsoft Outlook",
    recall_platform="microsoft_outlook",
    scopes=("offline_access", "openid", "email", MICROSOFT_CALENDAR_SCOPE),
    calendar_scopes=frozenset(
        {
            MICROSOFT_CALENDAR_SCOPE,
            "Calendars.Read",
            "https://graph.microsoft.com/Calendars.ReadWrite",
            "Calendars.ReadWrite",
        }
    ),
)

PROVIDERS: dict[str, ProviderSpec] = {GOOGLE.name: GOOGLE, MICROSOFT.name: MICROSOFT}

# What members may type after `/recall connect` / `disconnect`.
PROVIDER_ALIASES: dict[str, str] = {
    "google": "google",
    "gcal": "google",
    "gmail": "google",
    "outlook": "microsoft",
    "microsoft": "microsoft",
    "office365": "microsoft",
    "o365": "microsoft",
    "teams": "microsoft",
}


@dataclass(frozen=True)
class ProviderCredentials:
    spec: ProviderSpec
    client_id: str
    client_secret: str
    metadata_url: str


def configured_providers(settings: Settings) -> dict[str, ProviderCredentials]:
    """Providers with OAuth credentials set, keyed by name, in display order."""
    creds = {
        "google": ProviderCredentials(
            GOOGLE, settings.google_client_id, settings.google_client_secret, settings.google_oauth_metadata_url
        ),
        "microsoft": ProviderCredentials(
            MICROSOFT,
            settings.microsoft_client_id,
            settings.microsoft_client_secret,
            settings.microsoft_oauth_metadata_url,
        ),
    }
    return {name: c for name, c in creds.items() if c.client_id and c.client_secret}


class MetadataError(Exception):
    """The provider's discovery document could not be read."""


class ProviderMetadata:
    """Fetches and caches each provider's OpenID discovery document."""

    REQUIRED = ("authorization_endpoint", "token_endpoint")

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http
        self._cache: dict[str, dict[str, Any]] = {}
        self._lock = asyncio.Lock()

    async def get(self, metadata_url: str) -> dict[str, Any]:
        async with self._lock:
            if metadata_url not in self._cache:
                try:
                    response = await self._http.get(metadata_url, timeout=10)
                    response.raise_for_status()
                    document = response.json()
                except (httpx.HTTPError, ValueError) as exc:
                    raise MetadataError(f"cannot read {metadata_url}: {type(exc).__name__}") from exc
                missing = [key for key in self.REQUIRED if not document.get(key)]
                if missing:
                    raise MetadataError(f"{metadata_url} lacks {', '.join(missing)}")
                # Microsoft's issuer holds a {tenantid} placeholder; we never match the issuer exactly.
                self._cache[metadata_url] = document
            return self._cache[metadata_url]
