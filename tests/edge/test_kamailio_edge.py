"""Kamailio as the carrier edge (Digest 407, Record-Route) in front of a sipp switch: a call
from the SIP layer completes through it and the BYE follows the route set."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from shared.sip.call import CallEventKind, OutboundCall
from shared.sip.digest import Credentials
from shared.sip.invite_request import CallSpec
from shared.sip.parser import parse_message
from shared.sip.resolver import SipResolver
from shared.sip.testing.credentials import fixed_credentials
from shared.sip.testing.kamailio import REALM, KamailioProcess
from shared.sip.testing.sipp import SippProcess
from shared.sip.testing.waiting import wait_until
from shared.sip.transport import UdpTransport

pytestmark = pytest.mark.skipif(
    shutil.which("kamailio") is None and not Path("/usr/sbin/kamailio").exists(),
    reason="kamailio is not installed (scripts/install-system-tools.sh installs it)",
)
USER, PASSWORD = "edge-trunk", "edge-pw-123"
SWITCH = Path(__file__).parent / "scenarios" / "switch_answer.xml"


async def test_call_through_a_challenging_record_routing_proxy(tmp_path: Path) -> None:
    transport = await UdpTransport.create("127.0.0.1", 0)
    try:
        async with (
            SippProcess(tmp_path / "switch", scenario=SWITCH, calls=1) as switch,
            KamailioProcess(
                tmp_path / "edge", switch=switch.address, user=USER, password=PASSWORD
            ) as edge,
        ):
            call = OutboundCall(
                transport,
                SipResolver(),
                CallSpec(request_uri=f"sip:15551234567@{edge.target}", from_user="1001"),
                credentials=fixed_credentials(Credentials(USER, PASSWORD)),
            )
            outcome = await call.invite()
            assert outcome.kind is CallEventKind.ANSWERED, (outcome, edge.log()[-2000:])
            assert call.dialog is not None and call.dialog.route_set, "no Record-Route learned"
            response = await call.bye()
            assert response is not None and response.status_code == 200
            await wait_until(lambda: len(switch.received("BYE")) == 1, 5.0)
            [bye] = switch.received("BYE")
            vias = parse_message(bye.text.encode()).headers.get_all("via")
            # The BYE reached the switch through kamailio (its Via on top of ours).
            assert len(vias) == 2 and edge.target in vias[0]
            assert "in-dialog BYE via route set" in edge.log()
            assert await switch.wait(10) == 0, switch.errors()
            [invite] = switch.received("INVITE")
            assert "Proxy-Authorization" not in invite.text  # consumed at the edge
            assert f'realm="{REALM}"' not in invite.text
    finally:
        transport.close()
        await transport.wait_closed()


async def test_without_credentials_the_edge_refuses_and_the_reason_says_so(
    tmp_path: Path,
) -> None:
    transport = await UdpTransport.create("127.0.0.1", 0)
    try:
        async with KamailioProcess(tmp_path / "edge", user=USER, password=PASSWORD) as edge:
            call = OutboundCall(
                transport,
                SipResolver(),
                CallSpec(request_uri=f"sip:15551234567@{edge.target}"),
                credentials=fixed_credentials(Credentials(USER, "not-the-password")),
            )
            outcome = await call.invite()
            assert outcome.kind is CallEventKind.FAILED and outcome.status_code == 407
            assert "rejected" in (outcome.error or "")
    finally:
        transport.close()
        await transport.wait_closed()
