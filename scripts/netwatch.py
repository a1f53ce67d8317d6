"""Runs a command under strace and fails if any process or thread of it touches the network.

    python scripts/netwatch.py [--json] [--log FILE] [--timeout S] -- COMMAND [ARG...]

Watches system calls, not Python: native threads (onnxruntime's telemetry uploader, a C++
library's resolver) bypass Python's `socket` module, so only the kernel's view is proof. Every
process and thread of the command is followed (`strace -f`); `socket`, `connect`, `bind`,
`sendto`, `sendmsg` and `sendmmsg` are recorded with the socket each one used (`-yy`) and, where
this strace can, the native stack (`-k`), from which the library that made the call is named.

Traffic is a `connect`, `bind` or send with an AF_INET/AF_INET6 address or on an internet socket
(TCP, UDP, raw): a DNS lookup counts, since its packet leaves the machine. An internet socket
that is only created (libuuid opens an unconnected datagram socket to read the MAC address for
Python's `uuid.uuid1()`) is reported, not counted. Unix sockets (the desktop bus, nscd) and
netlink are local.

Exit status: 1 when there was traffic, 2 when strace could not run, else the command's own.
Standard library only, so CI can run it beside an installed app that has no Python of its own.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

SYSCALLS = ("socket", "connect", "bind", "sendto", "sendmsg", "sendmmsg")
TRAFFIC = ("connect", "bind", "sendto", "sendmsg", "sendmmsg")
CALL = re.compile(r"^(?:\[pid\s+)?(\d+)\]?\s+(\w+)\((.*)$")
# A call another thread interrupted ends later on a line of its own; its stack follows that one.
RESUMED = re.compile(r"^(?:\[pid\s+)?(\d+)\]?\s+<\.\.\. (\w+) resumed>")
INET_ADDRESS = re.compile(r"sa_family=AF_INET6?\b")
# strace -yy names the socket behind a descriptor: <TCP:[...]>, <UDPv6:[...]>, <UNIX-STREAM:...>
INET_FD = re.compile(r"^\d+<(TCP|UDP|RAW|UDPLITE|SCTP)(v6)?:")
ADDRESS = re.compile(r'sin6?_port=htons\((\d+)\).*?(?:inet_addr\("([^"]+)"\)|"([0-9a-f:.]+)")')
# Frames that say nothing about who asked: the C library, the loader, the Python interpreter.
PLUMBING = re.compile(r"/(libc|libpthread|ld-linux[^/]*|libpython[\d.]+|libresolv|libnss_\w+)"
                      r"[-.\w]*\.so|/_socket\.cpython|/python3(\.\d+)?$")


@dataclass
class Call:
    """One recorded system call: who made it, on what, and from which library."""

    pid: int
    syscall: str
    text: str
    library: str = ""
    stack: list[str] = field(default_factory=list)

    @property
    def destination(self) -> str:
        m = ADDRESS.search(self.text)
        if not m:
            fd = re.search(r"->([^\]>]+)\]", self.text)  # a connected socket's peer, from -yy
            return fd.group(1) if fd else ""
        return f"{m.group(2) or m.group(3)}:{m.group(1)}"


@dataclass
class Report:
    """What the command did on the network, and how it ended."""

    command: list[str]
    returncode: int | None = None
    traffic: list[Call] = field(default_factory=list)
    inet_sockets: list[Call] = field(default_factory=list)
    calls_seen: int = 0
    stacks: bool = False  # strace recorded native stacks (-k)
    stdout: str = ""  # the command's output, when watch() was asked to keep it
    stderr: str = ""

    def to_json(self) -> dict[str, object]:
        d = asdict(self)
        for key in ("traffic", "inet_sockets"):
            for item, call in zip(d[key], getattr(self, key), strict=True):
                item["destination"] = call.destination
                item.pop("stack")
        return d


def _library(stack: list[str]) -> str:
    """The first library in a native stack that is not libc, the loader or the interpreter."""
    for frame in stack:
        path = frame.split("(", 1)[0].strip()
        if path and not PLUMBING.search(path):
            return os.path.basename(path)
    if any("/_socket.cpython" in frame for frame in stack):
        return "Python code (socket module)"
    return os.path.basename(stack[0].split("(", 1)[0].strip()) if stack else ""


def _is_traffic(call: Call) -> bool:
    if call.syscall not in TRAFFIC:
        return False
    args = call.text.split("(", 1)[-1]
    return bool(INET_ADDRESS.search(args) or INET_FD.match(args))


def parse(log: str, command: list[str] | None = None) -> Report:
    """Reads an `strace -f -yy [-k]` log into a report."""
    report = Report(command=command or [])
    last: Call | None = None
    unfinished: dict[int, Call] = {}
    for line in log.splitlines():
        if line.startswith(" > "):
            if last is not None:
                last.stack.append(line[3:].strip())
            continue
        resumed = RESUMED.match(line.strip())
        if resumed:
            last = unfinished.pop(int(resumed.group(1)), None)
            continue
        m = CALL.match(line.strip())
        if not m or m.group(2) not in SYSCALLS:
            last = None
            continue
        last = Call(pid=int(m.group(1)), syscall=m.group(2), text=line.strip())
        if line.rstrip().endswith("<unfinished ...>"):
            unfinished[last.pid] = last
        report.calls_seen += 1
        if _is_traffic(last):
            report.traffic.append(last)
        elif last.syscall == "socket" and re.search(r"\(AF_INET6?\b", last.text):
            report.inet_sockets.append(last)
    for call in report.traffic + report.inet_sockets:
        call.library = _library(call.stack)
    return report


def strace_command(log: Path) -> list[str]:
    """The strace prefix: every thread and child, the network calls only, sockets decoded,
    native stacks where this strace was built with unwinding."""
    base = ["strace", "-f", "-qq", "-yy", "-o", str(log), "-e", "signal=none",
            "-e", "trace=" + ",".join(SYSCALLS)]
    probe = subprocess.run(["strace", "-k", "-e", "trace=none", "-o", os.devnull, "true"],
                           capture_output=True, check=False)
    return base + (["-k"] if probe.returncode == 0 else [])


def watch(command: list[str], *, log: Path | None = None, timeout: float | None = None,
          env: dict[str, str] | None = None, cwd: str | None = None,
          capture: bool = False) -> Report:
    """Runs `command` under strace and reports what it did on the network (with `capture`,
    its output is kept in the report instead of passed through)."""
    if not shutil.which("strace"):
        raise FileNotFoundError("strace is not installed (Debian: apt-get install strace)")
    own = log is None
    path = log or Path(tempfile.mkstemp(prefix="netwatch-", suffix=".log")[1])
    try:
        strace = strace_command(path)
        proc = subprocess.run([*strace, "--", *command], env=env, cwd=cwd,
                              timeout=timeout, check=False, capture_output=capture,
                              text=True, errors="replace")
        report = parse(path.read_text(errors="replace"), command)
        report.returncode = proc.returncode
        report.stacks = "-k" in strace
        report.stdout, report.stderr = proc.stdout or "", proc.stderr or ""
        return report
    finally:
        if own:
            path.unlink(missing_ok=True)


def describe(report: Report) -> str:
    """A few lines a person can read: the verdict, then each call with its library."""
    lines = [f"netwatch: {' '.join(report.command)[:120]} -> exit {report.returncode}; "
             f"{report.calls_seen} socket calls, {len(report.traffic)} network, "
             f"{len(report.inet_sockets)} internet sockets created"
             + ("" if report.stacks else " (no native stacks: this strace lacks -k)")]
    for c in report.traffic:
        lines.append(f"  TRAFFIC pid {c.pid} {c.syscall} to {c.destination or '?'} from "
                     f"{c.library or 'unknown'}: {c.text[:200]}")
    for c in report.inet_sockets:
        lines.append(f"  socket only (not traffic) pid {c.pid} from {c.library or 'unknown'}: "
                     f"{c.text[:160]}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print the report as one JSON document")
    ap.add_argument("--log", type=Path, help="keep strace's log here")
    ap.add_argument("--timeout", type=float, help="stop the command after this many seconds")
    ap.add_argument("command", nargs=argparse.REMAINDER)
    args = ap.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        ap.error("no command given")
    try:
        report = watch(command, log=args.log, timeout=args.timeout)
    except (FileNotFoundError, subprocess.TimeoutExpired) as exc:
        print(f"netwatch: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.to_json(), indent=1))
    print(describe(report), file=sys.stderr)
    if report.traffic:
        return 1
    return report.returncode or 0


if __name__ == "__main__":
    sys.exit(main())
