"""Kamailio as a carrier edge in tests: a Digest-challenging, record-routing proxy in front of
a switch (sipp), and a registrar with in-memory usrloc.

`KamailioProcess(workdir, switch=("127.0.0.1", 5090), user=..., password=...)` writes a config
into `workdir`, runs `kamailio -DD -E` in the foreground on an ephemeral loopback port and is
stopped by its PID. `bindings(aor)` reads the registrar's usrloc over kamailio's own control
socket (kamcmd ul.dump). The challenge realm is "edge.test"; INVITEs get 407, REGISTERs 401.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import time
from pathlib import Path
from typing import BinaryIO

from shared.sip.testing.lifecycle import StartedInBlock
from shared.sip.testing.ports import free_udp_port

KAMAILIO = shutil.which("kamailio") or "/usr/sbin/kamailio"
KAMCMD = shutil.which("kamcmd") or "/usr/sbin/kamcmd"
MODULES = "/usr/lib/x86_64-linux-gnu/kamailio/modules/"
REALM = "edge.test"

_CONFIG = """#!KAMAILIO
debug=2
log_stderror=yes
fork=yes
children=2
tcp_children=2
disable_tcp=no
auto_aliases=no
listen=udp:{host}:{port}
listen=tcp:{host}:{port}
{tls_listen}
mpath="{modules}"
{tls_modules}
loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "auth.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "ctl.so"
modparam("ctl", "binrpc", "unix:{ctl}")
modparam("usrloc", "db_mode", 0)
modparam("registrar", "min_expires", 1)
modparam("registrar", "max_expires", {max_expires})
modparam("rr", "append_fromtag", 1)
modparam("auth", "nonce_expire", 300)

request_route {{
    if (!mf_process_maxfwd_header("10")) {{
        sl_send_reply("483", "Too Many Hops");
        exit;
    }}
    if (has_totag()) {{
        # In-dialog: follow the route set we recorded (the BYE comes back through here).
        if (loose_route()) {{
            xlog("L_INFO", "in-dialog $rm via route set cseq=$cs\\n");
            t_relay();
            exit;
        }}
        if (is_method("ACK")) {{
            if (t_check_trans()) {{
                t_relay();
            }}
            exit;
        }}
        sl_send_reply("404", "Not Here");
        exit;
    }}
    if (is_method("CANCEL")) {{
        if (t_check_trans()) {{
            t_relay();
        }}
        exit;
    }}
    if (is_method("REGISTER")) {{
#!ifdef WITH_AUTH
        if (!pv_www_authenticate("{realm}", "{password}", "0") || $au != "{user}") {{
            www_challenge("{realm}", "1");
            exit;
        }}
#!endif
        if (!save("location")) {{
            sl_reply_error();
        }}
        exit;
    }}
    if (is_method("INVITE|OPTIONS|MESSAGE")) {{
#!ifdef WITH_AUTH
        if (!pv_proxy_authenticate("{realm}", "{password}", "0") || $au != "{user}") {{
            proxy_challenge("{realm}", "1");
            exit;
        }}
        consume_credentials();
#!endif
        if (is_method("INVITE")) {{
            record_route();
        }}
        $du = "sip:{switch_host}:{switch_port}";
        t_relay();
        exit;
    }}
    sl_send_reply("405", "Method Not Allowed");
}}
"""


def _open_log(path: Path) -> BinaryIO:
    return open(path, "ab")


class KamailioProcess(StartedInBlock):
    """`async with KamailioProcess(tmp_path, switch=(host, port), user=u, password=p) as k:`
    -> k.target is the proxy's "host:port"."""

    def __init__(
        self,
        workdir: str | Path,
        *,
        tls: tuple[Path, Path] | None = None,
        switch: tuple[str, int] = ("127.0.0.1", 9),
        user: str = "trunk",
        password: str = "secret",
        challenge: bool = True,
        host: str = "127.0.0.1",
        max_expires: int = 3600,
    ) -> None:
        self.workdir = Path(workdir)
        self.switch = switch
        self.user = user
        self.password = password
        self.challenge = challenge
        self.host = host
        self.max_expires = max_expires
        self.tls = tls  # (certificate, key) PEM files: also listen for TLS on tls_port
        self.port = 0
        self.tls_port = 0
        self.process: asyncio.subprocess.Process | None = None
        self.config_file = self.workdir / "kamailio.cfg"
        self.log_file = self.workdir / "kamailio.log"
        self.ctl_socket = self.workdir / "kamailio.ctl"

    @property
    def target(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def tls_target(self) -> str:
        return f"{self.host}:{self.tls_port}"

    def _tls_parts(self) -> tuple[str, str]:
        if self.tls is None:
            return "", ""
        cert, key = self.tls
        tls_cfg = self.workdir / "tls.cfg"
        tls_cfg.write_text(
            "[server:default]\nmethod = TLSv1.2+\nverify_certificate = no\n"
            f"require_certificate = no\nprivate_key = {key}\ncertificate = {cert}\n\n"
            "[client:default]\nmethod = TLSv1.2+\nverify_certificate = no\n"
            "require_certificate = no\n"
        )
        listen = f"enable_tls=yes\nlisten=tls:{self.host}:{self.tls_port}"
        modules = f'loadmodule "tls.so"\nmodparam("tls", "config", "{tls_cfg}")'
        return listen, modules

    def _config(self) -> str:
        tls_listen, tls_modules = self._tls_parts()
        return _CONFIG.format(
            tls_listen=tls_listen,
            tls_modules=tls_modules,
            host=self.host,
            port=self.port,
            modules=MODULES,
            ctl=self.ctl_socket,
            realm=REALM,
            user=self.user,
            password=self.password,
            switch_host=self.switch[0],
            switch_port=self.switch[1],
            max_expires=self.max_expires,
        )

    async def start(self, ready_timeout: float = 10.0) -> KamailioProcess:
        self.workdir.mkdir(parents=True, exist_ok=True)
        for _ in range(5):
            self.port = free_udp_port(self.host)
            self.tls_port = free_udp_port(self.host) if self.tls is not None else 0
            self.config_file.write_text(self._config())
            cmd = [KAMAILIO, "-DD", "-E", "-f", str(self.config_file), "-Y", str(self.workdir)]
            cmd += ["-P", str(self.workdir / "kamailio.pid")]
            if self.challenge:
                cmd += ["-A", "WITH_AUTH"]
            with _open_log(self.log_file) as log:
                self.process = await asyncio.create_subprocess_exec(
                    *cmd,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=log,
                    stderr=asyncio.subprocess.STDOUT,
                    start_new_session=True,
                )
            deadline = time.monotonic() + ready_timeout
            while time.monotonic() < deadline and self.process.returncode is None:
                if self.ctl_socket.exists() and await self._answers():
                    return self
                await asyncio.sleep(0.05)
            await self.stop()
            if "bind" not in self.log():
                break
        raise RuntimeError(f"kamailio did not come up: {self.log()[-3000:]}")

    async def _answers(self) -> bool:
        code, _ = await self.kamcmd("core.version")
        return code == 0

    async def kamcmd(self, *args: str) -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(
            KAMCMD,
            "-s",
            f"unix:{self.ctl_socket}",
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await proc.communicate()
        return proc.returncode or 0, out.decode(errors="replace")

    async def bindings(self, aor: str) -> str:
        """usrloc's view of `aor` (user part or user@domain), "" when it has none."""
        code, out = await self.kamcmd("ul.lookup", "location", aor)
        return out if code == 0 and "Contact" in out else ""

    async def stop(self, timeout: float = 5.0) -> int | None:
        process = self.process
        if process is None or process.returncode is not None:
            return process.returncode if process else None
        # SIGTERM to the main process (our PID): it stops its own children.
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError:
            # Stuck: the children are in the session this PID leads.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
        return process.returncode

    def log(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")
        except OSError:
            return ""
