"""The forward steps of a Telnyx setup: key check, voice profile, IP connection, one IP per
egress address. Every created id is saved in the journal before the next carrier call, so a
crash at any point leaves a durable record of what may exist at the carrier."""

from __future__ import annotations

import structlog

from provider_manager.carrier_setup.config import SetupConfig
from provider_manager.carrier_setup.journal import (
    CREATES_REQUESTED,
    SetupJournal,
    SetupRecord,
    SetupState,
)
from provider_manager.telnyx import TelnyxClient

log = structlog.get_logger("provider_manager.setup")

MAX_DISPLAY_NAME = 60


def carrier_name(name: str, tag: str) -> str:
    """The name shown at the carrier: the provider's name plus the setup tag, so two setups
    with the same name never collide and adoption after an ambiguous create is exact."""
    display = " ".join("".join(ch if ch.isprintable() else " " for ch in name).split())
    return f"{display[:MAX_DISPLAY_NAME]} {tag}".strip()


class CarrierSaga:
    def __init__(
        self,
        client: TelnyxClient,
        journal: SetupJournal,
        record: SetupRecord,
        config: SetupConfig,
    ) -> None:
        self._client = client
        self._journal = journal
        self._record = record
        self._config = config
        # The step in progress, named in the error a failure produces.
        self.step = "key_check"

    async def check_key(self) -> None:
        self.step = "key_check"
        check = await self._client.check_key()
        self._record.note("key_checked", billing_access=check.billing_access)
        await self._journal.save(self._record)

    async def create_resources(self) -> None:
        record, client = self._record, self._client
        name = carrier_name(record.name, record.tag)
        tags = [record.tag]
        # From here on something may exist at the carrier, even if its answer never arrives.
        record.note(CREATES_REQUESTED)
        await self._journal.save(record)

        self.step = "outbound_voice_profile"
        profile = await client.create_outbound_voice_profile(name, self._config.destinations, tags)
        record.resources.telnyx_profile_id = profile.id
        record.state = SetupState.OVP_CREATED
        record.note(
            "ovp_created", id=profile.id, destinations=list(profile.whitelisted_destinations)
        )
        await self._journal.save(record)
        log.info("provider_setup_step", step="ovp_created", resource_id=profile.id)

        self.step = "ip_connection"
        connection = await client.create_ip_connection(name, profile.id, tags)
        record.resources.telnyx_connection_id = connection.id
        record.state = SetupState.CONNECTION_CREATED
        record.note("connection_created", id=connection.id)
        await self._journal.save(record)
        log.info("provider_setup_step", step="connection_created", resource_id=connection.id)

        for egress in self._config.egress:
            self.step = f"ip {egress}"
            ip = await client.create_ip(connection.id, egress.ip, egress.port)
            record.resources.telnyx_ip_ids.append(ip.id)
            record.note("ip_created", id=ip.id, address=str(egress))
            await self._journal.save(record)
            log.info("provider_setup_step", step="ip_created", resource_id=ip.id)
        record.state = SetupState.IPS_CREATED
        record.note("ips_created")
        await self._journal.save(record)
