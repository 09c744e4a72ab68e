"""Every sentence a member, an admin or an installer reads, in one place.

Keyed by enums (connect failures, bot states, commands) or exception classes (Recall errors); numbers come from
the constants they describe (a link's lifetime, Slack's limits), never typed into a sentence. Block Kit
builders, pages and listeners take their words from here.
"""

from slackbot.words.common import duration, provider_label
from slackbot.words.connect import Explanation, explain_connect_failure
from slackbot.words.meetings import explain_recall_error, explain_refused_choice

__all__ = [
    "Explanation",
    "duration",
    "explain_connect_failure",
    "explain_recall_error",
    "explain_refused_choice",
    "provider_label",
]
