"""Database models, repositories, encryption at rest and Alembic migrations (knows nothing of Slack)."""
