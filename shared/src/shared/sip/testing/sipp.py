"""Run sipp as a carrier stand-in: a foreground child process, stopped by its PID.

sipp's own -timeout is unreliable once -aa has answered something, so `stop()` always ends
the process itself: SIGINT first (sipp exits cleanly and flushes its files), SIGKILL last.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from shared.sip.testing.lifecycle import StartedInBlock

if TYPE_CHECKING:
    from shared.sip.call import OutboundCall
from shared.sip.testing.ports import free_even_port_block, free_udp_port

SIPP = shutil.which("sipp") or "/usr/bin/sipp"
_BIND_FAILURES = (253, 254, 255)  # sipp's "fatal error" exit codes (bind failures among them)


# Compact header names (RFC 3261 section 7.3.3) that header() also matches.
_COMPACT = {"call-id": "i", "via": "v", "from": "f", "to": "t", "contact": "m"}


@dataclass(frozen=True, slots=True)
class TracedMessage:
    direction: str  # "received" or "sent", from sipp's point of view
    text: str
    # Wall-clock time sipp stamped on it (None for a block sipp is still writing).
    at: float | None = None

    @property
    def start_line(self) -> str:
        return self.text.split("\n", 1)[0].strip()

    @property
    def method(self) -> str | None:
        line = self.start_line
        return None if line.startswith("SIP/") else line.split(" ", 1)[0]

    @property
    def status_code(self) -> int | None:
        line = self.start_line
        return int(line.split(" ")[1]) if line.startswith("SIP/") else None

    def header(self, name: str) -> str | None:
        """The first `name` header's value (its compact form counts); None if absent."""
        wanted = {name.lower(), _COMPACT.get(name.lower(), name.lower())}
        for line in self.text.split("\n")[1:]:
            if not line.strip():
                break  # the end of the headers
            key, colon, value = line.partition(":")
            if colon and key.strip().lower() in wanted:
                return value.strip()
        return None


def _port_bound(port: int, tcp: bool = False) -> bool:
    """UDP: bound; TCP: listening (state 0A), from the kernel's socket tables."""
    needle = f":{port:04X} "
    tables = ("/proc/net/tcp", "/proc/net/tcp6") if tcp else ("/proc/net/udp", "/proc/net/udp6")
    for table in tables:
        try:
            with open(table) as fh:
                next(fh, None)
                for line in fh:
                    fields = line.split()
                    listening = not tcp or (len(fields) > 3 and fields[3] == "0A")
                    if len(fields) > 1 and (fields[1] + " ").endswith(needle) and listening:
                        return True
        except OSError:
            continue
    return False


class SippProcess(StartedInBlock):
    """`async with SippProcess(workdir, scenario=path) as sipp:` -> sipp listening on sipp.port.

    `scenario` is a scenario file; None runs the built-in UAS (`-sn uas`). `calls` (-m) makes
    sipp exit by itself after that many calls: its exit code is then 0 only if all succeeded.
    `transport`: sipp's -t mode, "u1" (UDP) or "t1" (TCP, one connection per peer).
    """

    def __init__(
        self,
        workdir: str | Path,
        *,
        scenario: str | Path | None = None,
        builtin: str = "uas",
        host: str = "127.0.0.1",
        calls: int | None = None,
        auto_answer: bool = False,
        remote: str | None = None,
        extra_args: tuple[str, ...] = (),
        max_runtime: float = 60.0,
        transport: str = "u1",
    ) -> None:
        self.workdir = Path(workdir)
        self.scenario = Path(scenario) if scenario is not None else None
        self.builtin = builtin
        self.host = host
        self.calls = calls
        self.auto_answer = auto_answer
        self.remote = remote  # host:port sipp sends to, for client scenarios
        self.extra_args = extra_args
        self.max_runtime = max_runtime
        self.transport = transport
        self.port = 0
        self.media_port = 0
        self.process: asyncio.subprocess.Process | None = None
        self.returncode: int | None = None
        name = self.scenario.stem if self.scenario is not None else builtin
        self.message_file = self.workdir / f"{name}_messages.log"
        self.error_file = self.workdir / f"{name}_errors.log"
        self.log_file = self.workdir / f"{name}_logs.log"
        self.stdout_file = self.workdir / f"{name}_stdout.log"

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    @property
    def target(self) -> str:
        return f"{self.host}:{self.port}"

    def _command(self) -> list[str]:
        cmd = [SIPP]
        if self.scenario is not None:
            cmd += ["-sf", str(self.scenario)]
        else:
            cmd += ["-sn", self.builtin]
        cmd += [
            "-i",
            self.host,
            "-p",
            str(self.port),
            "-mp",
            str(self.media_port),
            "-mi",
            self.host,
        ]
        cmd += ["-t", self.transport]
        cmd += ["-nostdin", "-timeout", f"{int(self.max_runtime)}s"]
        cmd += ["-trace_msg", "-message_file", str(self.message_file)]
        cmd += ["-trace_err", "-error_file", str(self.error_file)]
        cmd += ["-trace_logs", "-log_file", str(self.log_file)]
        if self.calls is not None:
            cmd += ["-m", str(self.calls)]
        if self.auto_answer:
            cmd.append("-aa")
        if self.remote is not None:
            cmd.append(self.remote)
        return cmd + list(self.extra_args)

    async def start(self, ready_timeout: float = 5.0) -> SippProcess:
        self.workdir.mkdir(parents=True, exist_ok=True)
        for _ in range(5):
            self.port = free_udp_port(self.host)
            self.media_port = free_even_port_block(self.host)
            for path in (self.message_file, self.error_file, self.log_file):
                path.unlink(missing_ok=True)
            with _open_for_output(self.stdout_file) as out:
                self.process = await asyncio.create_subprocess_exec(
                    *self._command(),
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=out,
                    stderr=asyncio.subprocess.STDOUT,
                )
            deadline = time.monotonic() + ready_timeout
            while time.monotonic() < deadline:
                if self.process.returncode is not None:
                    break
                if _port_bound(self.port, tcp=self.transport.startswith("t")):
                    return self
                await asyncio.sleep(0.02)
            code = await self._wait_exit(1.0) if self.process.returncode is None else None
            code = self.process.returncode if code is None else code
            if code not in _BIND_FAILURES:
                raise RuntimeError(f"sipp did not come up (exit {code}): {self.output()[-2000:]}")
        raise RuntimeError("sipp could not bind its ports after 5 tries")

    async def _wait_exit(self, timeout: float) -> int | None:
        assert self.process is not None
        try:
            return await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            return None

    async def wait(self, timeout: float) -> int | None:
        """Wait for sipp to exit by itself (e.g. after -m calls); None if it is still running."""
        if self.process is None:
            return self.returncode
        code = await self._wait_exit(timeout)
        if code is not None:
            self.returncode = code
        return code

    async def stop(self, timeout: float = 5.0) -> int:
        """SIGINT, then SIGKILL after `timeout`; returns the exit code."""
        process = self.process
        if process is None:
            raise RuntimeError("sipp was not started")
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGINT)
            if await self._wait_exit(timeout) is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGKILL)
                await process.wait()
        self.returncode = process.returncode
        assert self.returncode is not None
        return self.returncode

    # -- what sipp saw -----------------------------------------------------------------------

    def output(self) -> str:
        return _read(self.stdout_file)

    def errors(self) -> str:
        return _read(self.error_file)

    def logs(self) -> str:
        return _read(self.log_file)

    def messages(self) -> list[TracedMessage]:
        """Messages from -trace_msg, in order, with LF line ends."""
        out: list[TracedMessage] = []
        for block in _read(self.message_file).split("-" * 47)[1:]:
            lines = block.replace("\r\n", "\n").split("\n")
            # lines[0]: timestamp; lines[1]: "UDP message received/sent ..."; lines[2]: blank
            if len(lines) < 4:
                continue
            header = lines[1]
            direction = "received" if "received" in header else "sent"
            text = "\n".join(lines[3:]).strip("\n") + "\n"
            out.append(TracedMessage(direction, text, _stamp(lines[0])))
        return out

    def received(self, method: str | None = None) -> list[TracedMessage]:
        return [
            m
            for m in self.messages()
            if m.direction == "received" and (method is None or m.method == method)
        ]


def _open_for_output(path: Path) -> BinaryIO:
    return open(path, "wb")  # a local file: no need to leave the event loop for this


def _stamp(line: str) -> float | None:
    try:
        return datetime.strptime(line.strip(), "%Y-%m-%d %H:%M:%S.%f").timestamp()
    except ValueError:
        return None


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""


# `await start_sipp("uas_invite_busy.xml", calls=1)` -> a started SippProcess (the SIP tests'
# fixture; it stops every one it started).
StartSipp = Callable[..., Awaitable[SippProcess]]

# `call_to("sip:1@<sipp target>", **OutboundCall options)` -> an OutboundCall on the test's
# transport and resolver (the SIP tests' fixture).
CallTo = Callable[..., "OutboundCall"]
