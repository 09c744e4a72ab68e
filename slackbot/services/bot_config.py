"""What every bot we schedule is told: who it is for (metadata), the transcript to make, the consent notice."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Recall's metadata: flat, strings only, at most 500 characters a value (recall-bots.md §2).
METADATA_SOURCE = "recall-slackbot"
MAX_METADATA_VALUE = 500
# Google Meet takes chat messages of 500 characters at most (Zoom and Teams 4096): the notice fits everywhere.
MAX_CONSENT = 500
# `{bot}` and `{member}` in an admin's notice are filled in.
DEFAULT_CONSENT = (
    "{bot} is recording this meeting for {member}. If you don't want to be recorded, "
    "say so in the chat or ask the host to remove {bot}."
)
NO_TRANSCRIPT = "none"


@dataclass(frozen=True)
class BotSetup:
    team_id: str
    user_id: str
    event_ids: tuple[str, ...]  # our meetings the bot records (first: the one being scheduled)
    bot_name: str
    member_label: str  # how the consent notice names the member
    transcript_provider: str | None  # Recall's provider key (recallai_streaming, ...); None: no transcript
    consent: bool = True
    consent_text: str | None = None


def joined_ids(event_ids: tuple[str, ...], *, limit: int = MAX_METADATA_VALUE) -> str:
    """As many of the event ids as fit in one metadata value, comma-separated (the first always)."""
    joined = ""
    for event_id in event_ids:
        candidate = f"{joined},{event_id}" if joined else event_id
        if len(candidate) > limit:
            break
        joined = candidate
    return joined


def consent_notice(template: str | None, *, bot_name: str, member: str) -> str:
    """The chat message a bot posts on joining (``template`` None: the default wording)."""
    text = (template or DEFAULT_CONSENT).replace("{bot}", bot_name).replace("{member}", member)
    return text[:MAX_CONSENT]


def consent_message(setup: BotSetup) -> str:
    return consent_notice(setup.consent_text, bot_name=setup.bot_name, member=setup.member_label)


def bot_config(setup: BotSetup) -> dict[str, Any]:
    """Recall's `bot_config` (the whole of it: Recall replaces, never merges, on each request)."""
    metadata = {
        "source": METADATA_SOURCE,
        "slack_team_id": setup.team_id,
        "slack_user_id": setup.user_id,
        "recall_event_ids": joined_ids(setup.event_ids),
    }
    recording: dict[str, Any] = {"metadata": dict(metadata)}
    if setup.transcript_provider:
        recording["transcript"] = {"provider": {setup.transcript_provider: {}}}
    config: dict[str, Any] = {"bot_name": setup.bot_name, "metadata": metadata, "recording_config": recording}
    if setup.consent:
        config["chat"] = {"on_bot_join": {"send_to": "everyone", "message": consent_message(setup)}}
    return config
