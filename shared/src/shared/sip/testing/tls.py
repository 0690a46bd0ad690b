"""TLS test peers: a throwaway CA and server certificate made with the openssl CLI, and a TLS
front for sipp (Debian's sipp is built without TLS): it terminates TLS like a carrier's edge
and relays each connection's bytes to sipp over TCP, both ways.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"


@dataclass(frozen=True, slots=True)
class PkiFiles:
    ca_file: Path  # the CA certificate to trust
    cert_file: Path  # the server's certificate, signed by the CA
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run([OPENSSL, *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def make_test_pki(
    workdir: Path, names: tuple[str, ...] = ("carrier.test",), ips: tuple[str, ...] = ()
) -> PkiFiles:
    """A CA and a server certificate for `names` / `ips` (subjectAltName), valid 2 days."""
    workdir.mkdir(parents=True, exist_ok=True)
    curve = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl(
        "req", "-x509", *curve, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=Trunk Platform Test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=workdir,
    )  # fmt: skip
    _openssl(
        "req", *curve, "-keyout", "server.key", "-out", "server.csr",
        "-subj", f"/CN={names[0] if names else ips[0]}",
        cwd=workdir,
    )  # fmt: skip
    san = ",".join([f"DNS:{n}" for n in names] + [f"IP:{ip}" for ip in ips])
    (workdir / "server.ext").write_text(
        f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
    )
    _openssl(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext",
        cwd=workdir,
    )  # fmt: skip
    return PkiFiles(workdir / "ca.pem", workdir / "server.pem", workdir / "server.key")


class TlsFront:
    """`async with TlsFront(pki, ("127.0.0.1", sipp_tcp_port)) as front:` listens on
    front.port; every accepted TLS connection gets its own TCP connection to the backend.
    """

    def __init__(self, pki: PkiFiles, backend: tuple[str, int], host: str = "127.0.0.1") -> None:
        self.pki = pki
        self.backend = backend
        self.host = host
        self.port = 0
        self.accepted = 0
        self.handshake_failures = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> TlsFront:
        self._server = await asyncio.start_server(
            self._serve, self.host, 0, ssl=self.pki.server_context()
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        try:
            back_reader, back_writer = await asyncio.open_connection(*self.backend)
        except OSError:
            writer.close()
            return
        pumps = [
            asyncio.ensure_future(_pump(reader, back_writer)),
            asyncio.ensure_future(_pump(back_reader, writer)),
        ]
        for pump in pumps:
            self._tasks.add(pump)
            pump.add_done_callback(self._tasks.discard)
        await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        for pump in pumps:
            pump.cancel()
        for w in (writer, back_writer):
            with contextlib.suppress(Exception):
                w.close()


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, ssl.SSLError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
