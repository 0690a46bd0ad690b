"""REGISTER with Digest against kamailio's registrar (in-memory usrloc): the binding it
grants, refreshes on the same Call-ID, and its removal."""

from __future__ import annotations

from pathlib import Path

from shared.sip.digest import Credentials
from shared.sip.register import NO_CREDENTIALS, Binding, register
from shared.sip.resolver import SipResolver
from shared.sip.testing.kamailio import KamailioProcess

from tests.support.sip_transports import OpenTransport

USER, PASSWORD = "reg-trunk", "reg-pw-456"


async def test_register_refresh_and_unregister(
    tmp_path: Path, open_transport: OpenTransport
) -> None:
    transport = await open_transport()
    resolver = SipResolver()
    async with KamailioProcess(
        tmp_path / "edge", user=USER, password=PASSWORD, max_expires=30
    ) as edge:
        binding = Binding(edge.target, USER)
        creds = Credentials(USER, PASSWORD)
        first = await register(transport, resolver, binding, 3600, creds)
        assert first.ok and first.expires == 30, first  # the registrar's cap wins
        assert transport.sent_by in await edge.bindings(USER)
        call_id, cseq = binding.call_id, binding.cseq
        again = await register(transport, resolver, binding, 3600, creds)
        assert again.ok and binding.call_id == call_id and binding.cseq > cseq
        gone = await register(transport, resolver, binding, 0, creds)
        assert gone.ok and gone.expires == 0
        assert await edge.bindings(USER) == ""

        refused = await register(transport, resolver, Binding(edge.target, USER), 60, None)
        assert (refused.status_code, refused.error) == (401, NO_CREDENTIALS)
        wrong = await register(
            transport, resolver, Binding(edge.target, USER), 60, Credentials(USER, "nope")
        )
        assert wrong.status_code == 401 and "rejected" in (wrong.error or "")
