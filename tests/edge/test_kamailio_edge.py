"""Kamailio as the carrier edge (Digest 407, Record-Route) in front of a UDP sipp switch: a
call from the SIP layer completes through it over UDP, TCP and TLS (certificate checked
against a test CA, host name = the IP in its subjectAltName), and the BYE follows the route
set. Over TCP and TLS the challenge, the signed INVITE, the ACK and the BYE all travel over
the one connection we opened, and the route set kamailio records for the crossing (two
Record-Routes, the first naming our transport) is followed."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from shared.sip.call import CallEventKind, OutboundCall
from shared.sip.digest import Credentials
from shared.sip.invite_request import CallSpec
from shared.sip.parser import parse_message
from shared.sip.resolver import SipResolver
from shared.sip.testing.credentials import fixed_credentials
from shared.sip.testing.kamailio import REALM, KamailioProcess
from shared.sip.testing.sipp import SippProcess
from shared.sip.testing.tls import make_test_pki
from shared.sip.testing.waiting import wait_until

from tests.support.sip_transports import OpenTransport

pytestmark = pytest.mark.skipif(
    shutil.which("kamailio") is None and not Path("/usr/sbin/kamailio").exists(),
    reason="kamailio is not installed (scripts/install-system-tools.sh installs it)",
)
USER, PASSWORD = "edge-trunk", "edge-pw-123"
SWITCH = Path(__file__).parent / "scenarios" / "switch_answer.xml"


@pytest.mark.parametrize("transport_name", ["udp", "tcp", "tls"])
async def test_challenged_call_through_a_record_routing_edge(
    tmp_path: Path, open_transport: OpenTransport, transport_name: str
) -> None:
    edge_options: dict[str, Any] = {}
    transport_options: dict[str, Any] = {}
    if transport_name == "tls":
        pki = make_test_pki(tmp_path / "pki", names=(), ips=("127.0.0.1",))
        edge_options["tls"] = (pki.cert_file, pki.key_file)
        transport_options["tls_ca_file"] = str(pki.ca_file)
    transport = await open_transport(**transport_options)
    async with (
        SippProcess(tmp_path / "switch", scenario=SWITCH, calls=1) as switch,
        KamailioProcess(
            tmp_path / "edge", switch=switch.address, user=USER, password=PASSWORD, **edge_options
        ) as edge,
    ):
        target = edge.tls_target if transport_name == "tls" else edge.target
        spec = CallSpec(
            request_uri=f"sip:15551234567@{target}", from_user="1001", transport=transport_name
        )
        call = OutboundCall(
            transport,
            SipResolver(),
            spec,
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
        # The BYE reached the switch through kamailio: its Via on top of ours.
        assert len(vias) == 2 and edge.target in vias[0], vias
        assert vias[1].startswith(f"SIP/2.0/{transport_name.upper()} "), vias
        assert "in-dialog BYE via route set" in edge.log()
        assert await switch.wait(10) == 0, switch.errors()
        [invite] = switch.received("INVITE")
        assert "Proxy-Authorization" not in invite.text  # consumed at the edge
        assert f'realm="{REALM}"' not in invite.text
        if transport_name != "udp":
            route = call.dialog.route_set[0].lower()
            assert f"transport={transport_name}" in route, call.dialog.route_set
            assert transport.stream_stats.opened == 1  # 407, INVITE, ACK, BYE: one connection
            assert transport.stream_stats.failed == 0


async def test_without_credentials_the_edge_refuses_and_the_reason_says_so(
    tmp_path: Path, open_transport: OpenTransport
) -> None:
    transport = await open_transport()
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
