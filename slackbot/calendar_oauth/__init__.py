"""Connecting a member's Google or Microsoft calendar: links, provider OAuth (authlib), pages."""
