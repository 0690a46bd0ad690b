"""Our TCP transport against a real proxy: kamailio (Digest 407, Record-Route) reached over
TCP in front of a UDP sipp switch. The challenge, the signed INVITE, the ACK and the BYE all
travel over the one connection we opened, and the route set kamailio records for a TCP/UDP
crossing (two Record-Routes, the first with ;transport=tcp) is followed."""

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
from shared.sip.testing.kamailio import KamailioProcess
from shared.sip.testing.sipp import SippProcess
from shared.sip.testing.waiting import wait_until
from shared.sip.transport import SipTransport

pytestmark = pytest.mark.skipif(
    shutil.which("kamailio") is None and not Path("/usr/sbin/kamailio").exists(),
    reason="kamailio is not installed (scripts/install-system-tools.sh installs it)",
)
USER, PASSWORD = "edge-trunk", "edge-pw-123"
SWITCH = Path(__file__).parent / "scenarios" / "switch_answer.xml"


async def test_challenged_call_through_kamailio_over_tcp(tmp_path: Path) -> None:
    transport = await SipTransport.create("127.0.0.1", 0)
    try:
        async with (
            SippProcess(tmp_path / "switch", scenario=SWITCH, calls=1) as switch,
            KamailioProcess(
                tmp_path / "edge", switch=switch.address, user=USER, password=PASSWORD
            ) as edge,
        ):
            spec = CallSpec(
                request_uri=f"sip:15551234567@{edge.target}", from_user="1001", transport="tcp"
            )
            call = OutboundCall(
                transport,
                SipResolver(),
                spec,
                credentials=fixed_credentials(Credentials(USER, PASSWORD)),
            )
            outcome = await call.invite()
            assert outcome.kind is CallEventKind.ANSWERED, (outcome, edge.log()[-2000:])
            assert call.dialog is not None
            assert ";transport=tcp" in call.dialog.route_set[0], call.dialog.route_set
            response = await call.bye()
            assert response is not None and response.status_code == 200
            await wait_until(lambda: len(switch.received("BYE")) == 1, 5.0)
            [bye] = switch.received("BYE")
            vias = parse_message(bye.text.encode()).headers.get_all("via")
            assert len(vias) == 2 and vias[1].startswith("SIP/2.0/TCP ")  # ours, under theirs
            assert transport.stream_stats.opened == 1  # 407, INVITE, ACK, BYE: one connection
            assert transport.stream_stats.failed == 0
    finally:
        transport.close()
        await transport.wait_closed()
