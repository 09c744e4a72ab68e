"""Recall.ai API client, webhook verification and typed models (knows nothing of Slack)."""
