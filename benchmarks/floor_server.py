"""The floor for the gateway benchmark: GET /v1.0/providers/{id} answered by a bare aiohttp
handler reading the row with asyncpg, and POST /v1.0/providers inserting one. No broker, no
auth, no SQLAlchemy: what one process can do for the same work on this machine.

    python benchmarks/floor_server.py --port 8090 --database-url postgresql://...
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiohttp import web

FORMAT = "%Y-%m-%d %H:%M:%S.%f"
NEVER = "9999-01-01 00:00:00.000000"
POOL = web.AppKey("pool", asyncpg.Pool)
QUERY = (
    "SELECT id::text, type, hostname, tech_prefix, tech_postfix, tech_headers::text,"
    " name, detail, metadata::text, health_status, health_checked_at, tm_create, tm_update,"
    " tm_delete FROM provider_manager.providers WHERE id = $1"
)


def _render(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime(FORMAT) if value is not None else None


async def get_provider(request: web.Request) -> web.Response:
    try:
        provider_id = uuid.UUID(request.match_info["id"])
    except ValueError:
        return web.json_response({"error": {"status": "INVALID_ARGUMENT"}}, status=400)
    row = await request.app[POOL].fetchrow(QUERY, provider_id)
    if row is None:
        return web.json_response({"error": {"status": "NOT_FOUND"}}, status=404)
    body: dict[str, Any] = {
        "id": row["id"],
        "type": row["type"],
        "hostname": row["hostname"],
        "tech_prefix": row["tech_prefix"],
        "tech_postfix": row["tech_postfix"],
        "tech_headers": json.loads(row["tech_headers"]),
        "name": row["name"],
        "detail": row["detail"],
        "metadata": json.loads(row["metadata"]),
        "health_status": row["health_status"],
        "health_checked_at": _render(row["health_checked_at"]),
        "tm_create": _render(row["tm_create"]),
        "tm_update": _render(row["tm_update"]),
        "tm_delete": _render(row["tm_delete"]) or NEVER,
    }
    return web.json_response(body)


INSERT = (
    "INSERT INTO provider_manager.providers (id, type, hostname, tech_prefix, tech_postfix,"
    " tech_headers, name, detail, metadata, health_status, tm_create, tm_update)"
    " VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, '{}'::jsonb, 'unknown',"
    " statement_timestamp(), statement_timestamp())"
    " RETURNING id::text, health_status, tm_create, tm_update"
)


async def create_provider(request: web.Request) -> web.Response:
    """The same row a gateway POST creates, inserted in one statement (no outbox, no
    events): the least a process can do for it."""
    body = json.loads(await request.read())
    if not isinstance(body, dict) or not isinstance(body.get("hostname"), str):
        return web.json_response({"error": {"status": "INVALID_ARGUMENT"}}, status=400)
    row = await request.app[POOL].fetchrow(
        INSERT,
        uuid.uuid4(),
        body.get("type", "sip"),
        body["hostname"],
        body.get("tech_prefix", ""),
        body.get("tech_postfix", ""),
        json.dumps(body.get("tech_headers") or {}),
        body.get("name", ""),
        body.get("detail", ""),
    )
    assert row is not None
    reply = {
        **body,
        "id": row["id"],
        "metadata": {},
        "health_status": row["health_status"],
        "health_checked_at": None,
        "tm_create": _render(row["tm_create"]),
        "tm_update": _render(row["tm_update"]),
        "tm_delete": NEVER,
    }
    return web.json_response(reply)


async def serve(port: int, database_url: str) -> None:
    pool = await asyncpg.create_pool(database_url, min_size=4, max_size=10)
    app = web.Application()
    app[POOL] = pool
    app.router.add_get("/v1.0/providers/{id}", get_provider)
    app.router.add_post("/v1.0/providers", create_provider)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"floor listening on 127.0.0.1:{port}", flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.database_url))


if __name__ == "__main__":
    main()
