"""A message as Slack takes it: fallback text plus Block Kit blocks (built by `slackbot.blocks`)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Message:
    """Fallback text plus blocks, ready for chat.postMessage, chat.update or respond."""

    text: str
    blocks: list[dict[str, Any]]

    def as_kwargs(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}

    def digest(self) -> str:
        """A hash of what the reader sees: equal digests, nothing to update."""
        return hashlib.sha256(json.dumps([self.text, self.blocks], sort_keys=True).encode()).hexdigest()
