"""Provider lifecycle: create, read, list, update (hostname change resets health), delete;
the sealed password and the internal credentials read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from shared.contracts.providers import ProviderCreate, ProviderUpdate, credentials_problem
from shared.db import autocommit_engine
from shared.errors import invalid_argument, not_found
from shared.events import add_event, event_envelope, publishing
from shared.pagination import PageCursor, split_page
from shared.read_batching import ReadBatcher
from sqlalchemy import RowMapping, func
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from provider_manager.credentials import CredentialCipher
from provider_manager.models import provider_wire
from provider_manager.repositories.providers import ProviderRepository, provider_not_found
from provider_manager.settings import SERVICE
from provider_manager.tables import outbox

Wire = dict[str, Any]
InTransaction = Callable[[AsyncSession, bool], Awaitable[None]]
# Changing one of these on a registering provider means registering anew.
REGISTRATION_INPUTS = ("hostname", "transport", "auth_username", "register_expires")


def _check_credentials(record: dict[str, Any], password_given: bool) -> None:
    problem = credentials_problem(
        record["auth_username"],
        record["auth_password_enc"] is not None,
        record["register"],
        password_given,
    )
    if problem is not None:
        raise invalid_argument(*problem)


def _registration_status(record: dict[str, Any]) -> str:
    return "registering" if record["register"] else "unregistered"


class ProviderService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        wake: Callable[[], None] | None,
        cipher: CredentialCipher | None = None,
    ) -> None:
        self._sessions = sessions
        self._cipher = cipher or CredentialCipher(None)
        # Reads are one SELECT each: a plain autocommit connection, no transaction.
        self._reads = autocommit_engine(sessions)
        # GETs by id that arrive together share a query (the hottest read of the platform).
        self._by_id: ReadBatcher[str, RowMapping] = ReadBatcher(self._find_many, "providers_by_id")
        self._wake = wake

    async def create(
        self,
        provider_id: str,
        body: ProviderCreate,
        metadata: dict[str, Any] | None = None,
        *,
        in_transaction: InTransaction | None = None,
    ) -> Wire:
        """`in_transaction(session, created)` runs inside the same transaction (carrier setup
        commits its journal's "done" with the row), and may raise to roll everything back.
        Without it (POST /providers) the row and its event are one statement."""
        values: dict[str, Any] = body.model_dump(by_alias=True, exclude={"auth_password"})
        password = body.password()
        # Checked before sealing: a bad combination is a 400 even where no key is configured.
        _check_credentials({**values, "auth_password_enc": password or None}, password is not None)
        values["auth_password_enc"] = (
            self._cipher.encrypt(provider_id, password) if password else None
        )
        values["registration_status"] = _registration_status(values)
        values["registration_reason"] = ""
        values["registration_changed_at"] = datetime.now(UTC) if values["register"] else None
        values["metadata"] = metadata or {}
        if in_transaction is None:
            return await self._create_announced(provider_id, values)
        async with publishing(self._sessions, self._wake) as session:
            row, created = await ProviderRepository(session).insert(provider_id, values)
            wire = provider_wire(row)
            if created:
                await add_event(session, outbox, SERVICE, "provider_created", wire)
            await in_transaction(session, created)
        return wire

    async def _create_announced(self, provider_id: str, values: dict[str, Any]) -> Wire:
        """The create of POST /providers: row and provider_created in one statement."""
        record = {
            **values,
            "id": provider_id,
            "health_status": "unknown",
            "health_checked_at": None,
            "tm_delete": None,
        }
        # The event's data is the wire form of the row to be; PostgreSQL fills in the two
        # timestamps it stamps the row with.
        event_id, payload = event_envelope(
            SERVICE,
            "provider_created",
            provider_wire({**record, "tm_create": None, "tm_update": None}),
        )
        async with self._reads.connect() as conn:
            repo = ProviderRepository(conn)
            row = await repo.insert_announced(record, event_id, "provider_created", payload)
            if row is None:  # a replay of the same request: the provider exists, announced
                return provider_wire(await repo.get(provider_id))
        if self._wake is not None:
            self._wake()
        return provider_wire(row)

    async def get(self, provider_id: str) -> Wire:
        row = await self._by_id.get(provider_id)
        if row is None:
            raise provider_not_found(provider_id)
        return provider_wire(row)

    async def _find_many(self, provider_ids: list[str]) -> dict[str, RowMapping]:
        async with self._reads.connect() as conn:
            return await ProviderRepository(conn).find_many(provider_ids)

    async def list(self, page_size: int, cursor: PageCursor | None) -> tuple[list[Wire], str]:
        async with self._reads.connect() as conn:
            rows = await ProviderRepository(conn).list_active(page_size, cursor)
        page, token = split_page(rows, page_size)
        return [provider_wire(row) for row in page], token

    async def update(self, provider_id: str, body: ProviderUpdate) -> Wire:
        async with publishing(self._sessions, self._wake) as session:
            repo = ProviderRepository(session)
            current = await repo.lock_active(provider_id)
            values = body.changes()
            password = body.password()
            if "hostname" in values and values["hostname"] != current["hostname"]:
                # A result about the old host says nothing about the new one.
                values["health_status"] = "unknown"
                values["health_checked_at"] = None
            merged = {**current, **values}
            if password is not None:
                merged["auth_password_enc"] = password or None
            _check_credentials(merged, password is not None)
            if password is not None:
                # "" removes the stored password; absent (None) keeps it.
                values["auth_password_enc"] = (
                    self._cipher.encrypt(provider_id, password) if password else None
                )
            values.update(_registration_change(current, merged, password is not None))
            wire = provider_wire(await repo.update(provider_id, values))
            await add_event(session, outbox, SERVICE, "provider_updated", wire)
        return wire

    async def credentials(self, provider_id: str) -> Wire:
        """The decrypted password for the SIP edge (internal RPC only); 404 when the
        provider has none, is deleted or does not exist."""
        async with self._reads.connect() as conn:
            row = await ProviderRepository(conn).get(provider_id)
        if row["tm_delete"] is not None or row["auth_password_enc"] is None:
            raise credentials_not_found(provider_id)
        return {
            "provider_id": row["id"],
            "auth_username": row["auth_username"],
            "auth_password": self._cipher.decrypt(row["id"], row["auth_password_enc"]),
            "tm_update": provider_wire(row)["tm_update"],
        }

    async def delete(self, provider_id: str) -> Wire:
        async with publishing(self._sessions, self._wake) as session:
            wire = provider_wire(await ProviderRepository(session).soft_delete(provider_id))
            await add_event(session, outbox, SERVICE, "provider_deleted", wire)
        return wire


def credentials_not_found(provider_id: str) -> Exception:
    return not_found("CREDENTIALS_NOT_FOUND", f"provider {provider_id} has no stored password")


def _registration_change(
    current: Any, merged: dict[str, Any], password_changed: bool
) -> dict[str, Any]:
    """Status columns to write when an update turns registration on/off or changes what it
    is made of (the owner then registers anew and reports the outcome)."""
    restart = merged["register"] and (
        password_changed or any(merged[k] != current[k] for k in REGISTRATION_INPUTS)
    )
    status = _registration_status(merged)
    if merged["register"] == current["register"] and not restart:
        return {}
    if status == current["registration_status"] and not restart:
        return {}
    return {
        "registration_status": status,
        "registration_reason": "",
        "registration_changed_at": func.clock_timestamp(),
    }
