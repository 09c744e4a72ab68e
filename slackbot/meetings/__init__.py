"""Meetings: deciding whether the bot joins, and keeping each member's meeting message true."""
