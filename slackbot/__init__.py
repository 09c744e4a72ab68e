"""Slack front end for Recall.ai's meeting bot."""
