"""Recall webhooks: verified and stored before the 2xx, processed after (and again after a crash)."""
