# syntax=docker/dockerfile:1
# The app as a small, non-root image: `docker build -t recall-slackbot .`
# One image runs both roles: `recall-slackbot serve` (the default) and `recall-slackbot worker`.

# --- build: turn the project into a wheel, so the runtime image holds no sources or build tools ---
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY slackbot ./slackbot
COPY storage ./storage
COPY recall ./recall
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# --- runtime ---
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=3000 \
    HOST=0.0.0.0 \
    LOG_FORMAT=json \
    DATABASE_URL=sqlite:////data/recall-slackbot.db
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
    && useradd --system --uid 10001 --home-dir /data --create-home app
USER 10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 3000
# /healthz answers 200 when the database is reachable, migrated and writable (503 otherwise); python is all the
# slim image has to ask it with.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '3000')}/healthz\", timeout=4); sys.exit(0)"]
ENTRYPOINT ["recall-slackbot"]
CMD ["serve"]
