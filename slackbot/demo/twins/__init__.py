"""Local stand-ins for Slack, Recall and a Google-style OAuth provider: one implementation for the tests (which
hold them to ../shared/contracts) and the demo (which runs them without the contracts)."""
