"""Talking to Slack outside Bolt's request cycle: the one gateway every sent message goes through, and the
encrypted installation store."""
