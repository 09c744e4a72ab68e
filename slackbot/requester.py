"""Who is asking: the Slack member behind a command, a click, a connect link or a message we send."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Requester:
    """A member of one workspace (``enterprise_id`` on Enterprise Grid)."""

    team_id: str
    user_id: str
    enterprise_id: str | None = None
