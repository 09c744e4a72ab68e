"""The frame of the small pages a browser lands on (their titles and sentences come from each topic)."""

from __future__ import annotations

PRODUCT = "Recall for Slack"
BACK_TO_SLACK = "Back to Slack"
