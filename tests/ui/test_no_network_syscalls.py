"""No network, seen by the kernel: every command and the window under strace.

tests/ui/test_no_network.py blocks Python's sockets; native threads never pass through them
(onnxruntime 1.29+ sends telemetry from C++ threads). Here each process runs under `strace -f`
(scripts/netwatch.py) and any connect, bind or send with an internet address fails the test,
naming the library from the native stack. The environment is a user's worst case: HOME is an
empty folder and `ORT_DISABLE_TELEMETRY=0` is set, which MedSearch must override. Afterwards
nothing may lie in that HOME outside the data folder.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NOTES = REPO / "tests" / "data" / "small_library" / "notes"
sys.path.insert(0, str(REPO / "scripts"))
import netwatch  # noqa: E402

pytestmark = pytest.mark.skipif(not shutil.which("strace"), reason="strace is not installed "
                                "(scripts/install.sh installs Debian's strace)")
# What the user's environment may say: MedSearch must not be talked into telemetry.
HOSTILE_ENV = {"ORT_DISABLE_TELEMETRY": "0", "HF_HUB_OFFLINE": "0"}


def _env(home: Path, *, small_model: bool = True) -> dict[str, str]:
    """A user's environment: HOME empty, no MedSearch variables (the data folder is the default
    one in HOME), telemetry asked for; `small_model` keeps runs that do not judge answers quick."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("XDG_", "MEDSEARCH_", "MPLCONFIGDIR"))}
    env.update(HOSTILE_ENV, HOME=str(home), QT_QPA_PLATFORM="offscreen", OMP_NUM_THREADS="2")
    if small_model:
        env["MEDSEARCH_DEFAULT_MODEL"] = "small"
    return env


def _watched(args: list[str], env: dict[str, str], timeout: float = 600) -> netwatch.Report:
    report = netwatch.watch([sys.executable, "-m", "medsearch_app", *args], env=env,
                            cwd=str(REPO), timeout=timeout, capture=True)
    print(netwatch.describe(report))
    assert not report.traffic, netwatch.describe(report)
    assert report.returncode == 0, report.stderr[-3000:]
    return report


def test_the_watcher_sees_a_lookup_from_a_thread_and_tolerates_uuid1(tmp_path: Path) -> None:
    """The check can fail: a name lookup from a thread is traffic; uuid1()'s socket is not."""
    code = ("import socket, threading, uuid\n"
            "def look():\n"
            "    try: socket.getaddrinfo('telemetry.invalid', 443)\n"
            "    except OSError: pass\n"
            "t = threading.Thread(target=look); t.start(); t.join(); uuid.uuid1()\n")
    report = netwatch.watch([sys.executable, "-c", code], timeout=120)
    assert report.returncode == 0
    assert report.traffic and {c.syscall for c in report.traffic} & {"connect", "sendto",
                                                                     "sendmmsg", "sendmsg"}
    quiet = netwatch.watch([sys.executable, "-c", "import uuid; uuid.uuid1()"], timeout=120)
    assert quiet.traffic == [] and quiet.returncode == 0


@pytest.mark.slow
def test_onnxruntime_session_kept_alive_sends_nothing(tmp_path: Path) -> None:
    """The embedder's own runtime, alive for 25 s (its uploader fires within that when
    telemetry is on), after `import medsearch_app`, with ORT_DISABLE_TELEMETRY=0 in the
    environment: no traffic, and no device id under the home folder."""
    home = tmp_path / "home"
    home.mkdir()
    code = (
        "import medsearch_app, os, time\n"
        "import numpy as np, onnx, onnxruntime as ort\n"
        "from onnx import helper, TensorProto\n"
        "x = helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, 4])\n"
        "y = helper.make_tensor_value_info('y', TensorProto.FLOAT, [1, 4])\n"
        "g = helper.make_graph([helper.make_node('Relu', ['x'], ['y'])], 'g', [x], [y])\n"
        "m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)])\n"
        "s = ort.InferenceSession(m.SerializeToString(), providers=['CPUExecutionProvider'])\n"
        "print(s.run(None, {'x': np.ones((1, 4), np.float32)})[0].sum())\n"
        "time.sleep(25)\n")
    report = netwatch.watch([sys.executable, "-c", code], env=_env(home), timeout=300)
    print(netwatch.describe(report))
    assert report.returncode == 0
    assert not report.traffic, netwatch.describe(report)
    assert not (home / ".cache" / "Microsoft").exists()


def _outside_data_folder(home: Path) -> list[str]:
    data = home / ".local" / "share" / "MedSearch"
    return sorted(str(p.relative_to(home)) for p in home.rglob("*")
                  if p.is_file() and data not in p.parents)


@pytest.mark.slow
def test_commands_and_window_open_no_connection_and_write_only_the_data_folder(
        tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = _env(home)
    _watched(["index", str(NOTES), "--json"], env)
    _watched(["search", "What should be done about the high INR?", "--json"], env)
    # The answer model a user gets by default (the shipped 1.5B model where it fits).
    ask = _watched(["ask", "What should be done about the high INR?", "--json"],
                   _env(home, small_model=False))
    assert json.loads(ask.stdout)["evidence"]
    levels = tmp_path / "levels"
    _watched(["quantize", "default", "--levels", "Q8_0", "--out", str(levels), "--json"], env)
    q8 = next(levels.glob("*.Q8_0.gguf"))
    questions = tmp_path / "q.txt"
    questions.write_text("What should be done about the high INR?\n")
    _watched(["compare", "--model", str(q8), "--levels", "Q8_0", "--questions",
                    str(questions), "--out", str(tmp_path / "cmp"), "--max-tokens", "8",
                    "--score-tokens", "8", "-q", "--json"], env)
    _watched(["selftest", "--json"], env)
    # The window, as a physician uses it: open the library indexed above, one question, and
    # stay open 45 s (onnxruntime's uploader, when on, fired within 30 s of the window).
    win = _watched(["gui", "--quit-after", "45", "--ask",
                    "When should the INR be rechecked?"], env)
    assert "window shown" in win.stderr and "answered in" in win.stderr, win.stderr[-3000:]
    answered = next(line for line in win.stderr.splitlines() if "answered in" in line)
    assert "do not support" not in answered, answered  # asked after the demo was indexed
    assert not (home / ".cache" / "Microsoft").exists()
    assert _outside_data_folder(home) == []
    # the commands really used this home's data folder
    assert (home / ".local" / "share" / "MedSearch" / "library.sqlite3").is_file()
