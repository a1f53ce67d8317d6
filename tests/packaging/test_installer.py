"""The self-installing file's own logic (packaging/installer_header.sh, uninstall.sh,
pack_run.sh), on a small stand-in for the frozen app: options, menu entry, checksum, an
interrupted or failed unpack, upgrade, uninstall with and without --purge.

The stand-in is a shell script named `medsearch` that answers `selftest` and `delete-data`; the
real frozen app goes through the same file in CI (.ci/run -> packaging/ci_install_check.sh).
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACK = REPO / "packaging"

STAND_IN = """#!/bin/sh
case "$1" in
  selftest) echo "[ok] stand-in"; exit 0 ;;
  delete-data) rm -rf "$MEDSEARCH_HOME"; echo "deleted $MEDSEARCH_HOME"; exit 0 ;;
esac
exit 3
"""


@pytest.fixture
def run_file(tmp_path: Path) -> Path:
    app = tmp_path / "build" / "MedSearch"
    app.mkdir(parents=True)
    exe = app / "medsearch"
    exe.write_text(STAND_IN)
    exe.chmod(0o755)
    (app / "medsearch.svg").write_text("<svg/>")
    (app / "uninstall.sh").write_bytes((PACK / "uninstall.sh").read_bytes())
    (app / "uninstall.sh").chmod(0o755)
    (app / "lib").mkdir()
    (app / "lib" / "blob.bin").write_bytes(os.urandom(3 * 2**20))  # a payload worth unpacking
    out = tmp_path / "medsearch-9.9-linux-x86_64.run"
    subprocess.run(["bash", str(PACK / "pack_run.sh"), str(app), str(out), "9.9"], check=True)
    return out


class Box:
    """Paths of one install: prefix, command link folder, menu folder, the user's data."""

    def __init__(self, tmp: Path) -> None:
        self.prefix = tmp / "opt" / "medsearch"
        self.bin = tmp / "bin"
        self.menu = tmp / "applications"
        self.data = tmp / "data"
        self.data.mkdir()
        (self.data / "library.sqlite3").write_text("the user's library")

    def run(self, run_file: Path, *args: str, path_prefix: Path | None = None
            ) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "MEDSEARCH_HOME": str(self.data)}
        if path_prefix is not None:
            env["PATH"] = f"{path_prefix}:{env['PATH']}"
        return subprocess.run(["sh", str(run_file), *args], env=env, capture_output=True,
                              text=True, timeout=120)

    def install(self, run_file: Path, *args: str, **kw: Path) -> subprocess.CompletedProcess[str]:
        return self.run(run_file, "--prefix", str(self.prefix), "--bin-dir", str(self.bin),
                        "--menu-dir", str(self.menu), *args, **kw)


def test_help_and_unknown_options(run_file: Path, tmp_path: Path) -> None:
    box = Box(tmp_path)
    r = box.run(run_file, "--help")
    assert r.returncode == 0 and "--prefix DIR" in r.stdout and "--uninstall" in r.stdout
    assert "--purge" in r.stdout and "9.9" in r.stdout
    r = box.run(run_file, "--frobnicate")
    assert r.returncode == 1 and "unknown option: --frobnicate" in r.stderr
    assert not box.prefix.exists()


def test_install_then_uninstall_keeps_the_library(run_file: Path, tmp_path: Path) -> None:
    box = Box(tmp_path)
    r = box.install(run_file)
    assert r.returncode == 0, r.stderr
    assert "self-test passed" in r.stdout
    assert (box.prefix / "medsearch").stat().st_mode & stat.S_IXUSR
    assert (box.prefix / "lib" / "blob.bin").stat().st_size == 3 * 2**20
    link = box.bin / "medsearch"
    assert link.is_symlink() and os.readlink(link) == str(box.prefix / "medsearch")
    entry = (box.menu / "medsearch.desktop").read_text()
    assert f"Exec={box.prefix}/medsearch" in entry and f"Icon={box.prefix}/medsearch.svg" in entry
    assert not list(box.prefix.parent.glob("*.partial"))

    r = box.run(run_file, "--uninstall", "--prefix", str(box.prefix))
    assert r.returncode == 0, r.stderr
    assert not box.prefix.exists() and not link.exists() and not link.is_symlink()
    assert not (box.menu / "medsearch.desktop").exists()
    assert list(box.prefix.parent.iterdir()) == []  # nothing left beside it either
    assert (box.data / "library.sqlite3").read_text() == "the user's library"
    assert "kept" in r.stdout


def test_uninstall_with_purge_deletes_the_users_data(run_file: Path, tmp_path: Path) -> None:
    box = Box(tmp_path)
    assert box.install(run_file, "--no-selftest").returncode == 0
    r = subprocess.run([str(box.prefix / "uninstall.sh"), "--purge"], capture_output=True,
                       text=True, env={**os.environ, "MEDSEARCH_HOME": str(box.data)}, timeout=60)
    assert r.returncode == 0, r.stderr
    assert not box.data.exists() and not box.prefix.exists()
    assert not (box.bin / "medsearch").is_symlink()


def test_a_damaged_installer_installs_nothing(run_file: Path, tmp_path: Path) -> None:
    box = Box(tmp_path)
    data = bytearray(run_file.read_bytes())
    data[-1000] ^= 0xFF
    bad = tmp_path / "bad.run"
    bad.write_bytes(bytes(data))
    r = box.run(bad, "--check")
    assert r.returncode == 1 and "damaged" in r.stderr
    r = box.install(bad)
    assert r.returncode == 1 and "damaged" in r.stderr
    assert not box.prefix.exists() and not box.bin.exists()
    assert box.run(run_file, "--check").returncode == 0


def test_a_failed_unpack_leaves_no_app_and_the_next_install_works(run_file: Path,
                                                                   tmp_path: Path) -> None:
    """gzip dies halfway (as when the disk fills): no prefix, no .partial folder, a message;
    an earlier install stays as it was; then a normal run installs."""
    box = Box(tmp_path)
    shim = tmp_path / "shim"
    shim.mkdir()
    real_gzip = subprocess.run(["sh", "-c", "command -v gzip"], capture_output=True,
                               text=True, check=True).stdout.strip()
    (shim / "gzip").write_text(f'#!/bin/sh\n"{real_gzip}" "$@" | head -c 200000\nexit 1\n')
    (shim / "gzip").chmod(0o755)
    r = box.install(run_file, path_prefix=shim)
    assert r.returncode == 1 and "unpacking failed" in r.stderr, r.stdout + r.stderr
    assert not box.prefix.exists() and not list(box.prefix.parent.glob("*"))

    assert box.install(run_file, "--no-selftest").returncode == 0
    (box.prefix / "lib" / "marker").write_text("first install")
    r = box.install(run_file, "--no-selftest", path_prefix=shim)
    assert r.returncode == 1
    assert (box.prefix / "lib" / "marker").read_text() == "first install"  # untouched


def test_upgrade_replaces_the_app_and_refuses_a_foreign_folder(run_file: Path,
                                                               tmp_path: Path) -> None:
    box = Box(tmp_path)
    assert box.install(run_file, "--no-selftest").returncode == 0
    (box.prefix / "stale-file").write_text("from the old version")
    (box.prefix / "models").mkdir()
    (box.prefix / "models" / "clinic-8b.Q4_K_M.gguf").write_text("IT's model pack")
    r = box.install(run_file, "--no-selftest")
    assert r.returncode == 0, r.stderr
    assert not (box.prefix / "stale-file").exists()
    assert (box.prefix / "models" / "clinic-8b.Q4_K_M.gguf").read_text() == "IT's model pack"
    assert sorted(p.name for p in box.prefix.parent.iterdir()) == ["medsearch"]

    foreign = tmp_path / "elsewhere"
    foreign.mkdir()
    (foreign / "precious.txt").write_text("not ours")
    r = box.run(run_file, "--prefix", str(foreign), "--no-menu", "--no-selftest")
    assert r.returncode == 1 and "not a MedSearch install" in r.stderr
    assert (foreign / "precious.txt").read_text() == "not ours"
    assert not (foreign / "medsearch").exists()
