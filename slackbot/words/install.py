"""The end of the Slack install flow: the pages installers land on, and the welcome DM."""

from __future__ import annotations

FAILURE_WORDS = {
    "access_denied": "You cancelled the installation, so nothing was installed. You can start again any time.",
    "invalid_state": "This installation link expired or was opened in another browser. Start again from the "
    "install page.",
    "invalid_code": "Slack did not accept the installation. Please start again.",
    "missing_code": "Slack did not send the installation back. Please start again.",
    "storage_error": "The installation could not be saved. Please try again in a few minutes.",
}
FAILURE_FALLBACK = "The installation did not complete. Please start again."
FAILURE_TITLE = "Recall for Slack was not installed"
SUCCESS_TITLE = "Recall for Slack is installed"

WELCOME = (
    ":wave: Recall for Slack is installed in this workspace. Everyone can now type `/recall connect` to connect "
    "their Google or Outlook calendar and choose, meeting by meeting, where the recording bot joins."
)


def success_detail(team_name: str | None) -> str:
    team = team_name or "your workspace"
    return f"Recall for Slack is now part of {team}. In Slack, type `/recall connect` to connect your calendar."


def failure_detail(reason: str) -> str:
    return FAILURE_WORDS.get(reason, FAILURE_FALLBACK)
