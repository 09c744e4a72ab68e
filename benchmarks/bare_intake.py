"""The baseline for benchmarks/intake.py: the least a webhook intake can do. It verifies the Svix signature on the
raw body and inserts the body into a table unique by message id, nothing else. Served by uvicorn like the app, with
the app's engine settings (on SQLite: WAL and the same busy timeout).

    DATABASE_URL=... RECALL_WEBHOOK_SECRET=... python benchmarks/bare_intake.py PORT
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import uvicorn
from sqlalchemy import Column, Integer, MetaData, String, Table, Text
from sqlalchemy.exc import IntegrityError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from svix.webhooks import Webhook, WebhookVerificationError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storage.db import create_engine  # noqa: E402

metadata = MetaData()
deliveries = Table(
    "bare_deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("message_id", String(128), unique=True, nullable=False),
    Column("payload", Text, nullable=False),
)


def build() -> Starlette:
    engine = create_engine(os.environ["DATABASE_URL"])
    verifier = Webhook(os.environ["RECALL_WEBHOOK_SECRET"])

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        yield
        await engine.dispose()

    async def hook(request: Request) -> Response:
        body = await request.body()
        try:
            verifier.verify(body, dict(request.headers))
        except WebhookVerificationError:
            return JSONResponse({"ok": False}, status_code=401)
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    deliveries.insert().values(message_id=request.headers["svix-id"], payload=body.decode())
                )
        except IntegrityError:
            return JSONResponse({"ok": True, "duplicate": True})
        return JSONResponse({"ok": True})

    return Starlette(routes=[Route("/recall/webhook", hook, methods=["POST"])], lifespan=lifespan)


if __name__ == "__main__":
    uvicorn.run(build(), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
