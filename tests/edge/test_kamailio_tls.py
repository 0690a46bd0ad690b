"""A Digest-challenged, record-routed call through kamailio over TLS (certificate checked
against a test CA, host name = the IP in its subjectAltName), in front of a UDP sipp switch;
the BYE follows the route set back over the TLS connection."""

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
from shared.sip.testing.tls import make_test_pki
from shared.sip.testing.waiting import wait_until
from shared.sip.transport import SipTransport

pytestmark = pytest.mark.skipif(
    shutil.which("kamailio") is None and not Path("/usr/sbin/kamailio").exists(),
    reason="kamailio is not installed (scripts/install-system-tools.sh installs it)",
)
USER, PASSWORD = "tls-trunk", "tls-pw-321"
SWITCH = Path(__file__).parent / "scenarios" / "switch_answer.xml"


async def test_challenged_call_through_kamailio_over_tls(tmp_path: Path) -> None:
    pki = make_test_pki(tmp_path / "pki", names=(), ips=("127.0.0.1",))
    transport = await SipTransport.create("127.0.0.1", 0, tls_ca_file=str(pki.ca_file))
    try:
        async with (
            SippProcess(tmp_path / "switch", scenario=SWITCH, calls=1) as switch,
            KamailioProcess(
                tmp_path / "edge",
                switch=switch.address,
                user=USER,
                password=PASSWORD,
                tls=(pki.cert_file, pki.key_file),
            ) as edge,
        ):
            spec = CallSpec(
                request_uri=f"sip:15551234567@{edge.tls_target}",
                from_user="1001",
                transport="tls",
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
            assert "transport=tls" in call.dialog.route_set[0].lower(), call.dialog.route_set
            response = await call.bye()
            assert response is not None and response.status_code == 200
            await wait_until(lambda: len(switch.received("BYE")) == 1, 5.0)
            [bye] = switch.received("BYE")
            vias = parse_message(bye.text.encode()).headers.get_all("via")
            assert len(vias) == 2 and vias[1].startswith("SIP/2.0/TLS ")  # ours, under theirs
            assert "in-dialog BYE via route set" in edge.log()
            assert transport.stream_stats.opened == 1
    finally:
        transport.close()
        await transport.wait_closed()
