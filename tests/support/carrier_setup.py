"""Helpers for the carrier-setup tests: calling setup over RPC and reading its effects."""

from __future__ import annotations

from typing import Any

from provider_manager.app import ProviderManagerApp
from shared.rpc import RpcClient, RpcResponse
from sqlalchemy import text

from tests.support.providers import PROVIDER_FIELDS
from tests.support.telnyx_fake import VALID_KEY, FakeTelnyx

EGRESS = ("203.0.113.10:5060", "203.0.113.11:5080")
# The provider shape every reply has: the seeds' fields plus the carrier-edge ones (issue 9).
SEED_PROVIDER_FIELDS = set(PROVIDER_FIELDS)
SETUP_URI = "/v1/providers/setup"

# Short carrier budgets keep failure tests fast; the shape of the budgets is the production one.
FAST_SETUP = {
    "TELNYX_SIP_EGRESS_ADDRESSES": ",".join(EGRESS),
    "TELNYX_REQUEST_TIMEOUT": 1.0,
    "TELNYX_CONNECT_TIMEOUT": 0.5,
    "TELNYX_MAX_ATTEMPTS": 3,
    "TELNYX_RETRY_BASE_DELAY": 0.01,
    "TELNYX_RETRY_MAX_DELAY": 0.05,
    "TELNYX_MAX_SERVER_WAIT": 2.0,
    "PROVIDER_MANAGER_SETUP_DEADLINE": 10.0,
    "PROVIDER_MANAGER_SETUP_ROLLBACK_DEADLINE": 5.0,
    "PROVIDER_MANAGER_SETUP_SWEEP_BUDGET": 3.0,
}


def setup_body(name: str = "My Telnyx Trunk", key: str = VALID_KEY, **extra: Any) -> dict[str, Any]:
    return {
        "carrier": "telnyx",
        "name": name,
        "detail": "Primary outbound Telnyx SIP trunk",
        "credentials": {"api_key": key},
        **extra,
    }


def tag_of(setup_id: str) -> str:
    return f"trunk-setup-{setup_id}"


class SetupDriver:
    """Drives the test provider-manager over RPC and reads its database."""

    def __init__(self, app: ProviderManagerApp, rpc: RpcClient, queue: str) -> None:
        self.app = app
        self.rpc = rpc
        self.queue = queue

    async def setup(
        self, body: dict[str, Any] | None = None, *, message_id: str | None = None
    ) -> RpcResponse:
        return await self.rpc.call(
            self.queue, "POST", SETUP_URI, body or setup_body(), timeout=30, message_id=message_id
        )

    async def call(self, method: str, uri: str) -> RpcResponse:
        return await self.rpc.call(self.queue, method, uri, timeout=10)

    async def journal(self, setup_id: str) -> dict[str, Any]:
        reply = await self.call("GET", f"/v1/providers/setups/{setup_id}")
        assert reply.status_code == 200, reply.data
        record: dict[str, Any] = reply.data
        return record

    async def journal_for_provider(self, provider_id: str) -> list[dict[str, Any]]:
        async with self.app.sessions() as session:
            rows = await session.execute(
                text(
                    "SELECT id::text FROM provider_manager.provider_setups"
                    " WHERE provider_id = :p ORDER BY tm_create"
                ),
                {"p": provider_id},
            )
            ids = [r[0] for r in rows.all()]
        return [await self.journal(i) for i in ids]

    async def unfinished(self) -> list[dict[str, Any]]:
        reply = await self.call("GET", "/v1/providers/setups?state=unfinished")
        assert reply.status_code == 200, reply.data
        result: list[dict[str, Any]] = reply.data["result"]
        return result

    async def providers_table(self) -> list[tuple[Any, ...]]:
        """Every provider row, as text, to prove a failed setup changed nothing."""
        async with self.app.sessions() as session:
            rows = await session.execute(
                # Health and registration columns are the health-checker's, written at any
                # time for every provider of the run: not part of what a setup may change.
                text(
                    "SELECT (to_jsonb(p) - 'health_status' - 'health_checked_at'"
                    " - 'registration_status' - 'registration_reason'"
                    " - 'registration_changed_at')::text"
                    " FROM provider_manager.providers p ORDER BY id"
                )
            )
            return [tuple(r) for r in rows.all()]

    async def all_rows_as_text(self) -> str:
        """Every row of every table of every application schema, as text (leak searches)."""
        async with self.app.sessions() as session:
            tables = await session.execute(
                text(
                    "SELECT table_schema, table_name FROM information_schema.tables "
                    "WHERE table_type = 'BASE TABLE' AND table_schema NOT IN "
                    "('pg_catalog', 'information_schema')"
                )
            )
            chunks: list[str] = []
            for schema, table in tables.all():
                rows = await session.execute(text(f'SELECT t::text FROM "{schema}"."{table}" t'))
                chunks += [f"{schema}.{table}: {r[0]}" for r in rows.all()]
        assert any(c.startswith("provider_manager.provider_setups") for c in chunks)
        return "\n".join(chunks)

    async def sql(self, statement: str) -> None:
        async with self.app.sessions() as session, session.begin():
            await session.execute(text(statement))


def carrier_resources(fake: FakeTelnyx, setup_id: str) -> dict[str, list[dict[str, Any]]]:
    """What the fake holds for this setup: tagged profiles and connections, their IPs."""
    tag = tag_of(setup_id)
    profiles = [p for p in fake.ovps() if tag in p["tags"]]
    connections = [c for c in fake.connections() if tag in c["tags"]]
    conn_ids = {c["id"] for c in connections}
    ips = [i for i in fake.ips() if i["connection_id"] in conn_ids]
    return {"profiles": profiles, "connections": connections, "ips": ips}


def assert_nothing_left(fake: FakeTelnyx, setup_id: str, *, only_setup: bool = False) -> None:
    left = carrier_resources(fake, setup_id)
    assert left == {"profiles": [], "connections": [], "ips": []}, left
    if not only_setup:
        # The fake was emptied before the test: nothing untagged may remain either (an IP
        # left behind by a deleted connection, a profile that lost its tag).
        assert (fake.ovps(), fake.connections(), fake.ips()) == ([], [], [])
