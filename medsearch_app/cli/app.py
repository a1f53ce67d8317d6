"""The application commands: gui (the window; what `medsearch` alone opens), selftest (every
part checked on this machine) and delete-data (the user's data removed for good).

Only `cmd_gui` and selftest's window check import the desktop app (Qt), inside the function.
"""

from __future__ import annotations

import argparse
import sys

from ..core.errors import EXIT_OK, ResourceProblem, UsageError
from .common import emit


def cmd_gui(args: argparse.Namespace) -> int:
    try:
        from ..ui.app import run_app
    except ImportError as exc:
        raise ResourceProblem(f"the desktop app cannot start: {exc}") from exc
    return int(run_app(sys.argv[:1], quit_after=getattr(args, "quit_after", None),
                       ask=getattr(args, "ask", None)))


def cmd_selftest(args: argparse.Namespace) -> int:
    from ..core.selftest import run_selftest

    def window() -> str:
        try:
            from ..ui.selftest_window import check_window
        except ImportError as exc:
            raise RuntimeError(f"the desktop app cannot start: {exc}") from exc
        return check_window()

    results = run_selftest([] if args.no_window else [("window", window)])
    ok = all(r["ok"] for r in results)
    text = "\n".join(f"[{'ok' if r['ok'] else 'FAIL'}] {r['name']}: {r['detail']}"
                     for r in results)
    emit(args, {"ok": ok, "checks": results}, text)
    return EXIT_OK if ok else 1  # a check failed ("exit 1 if one fails", in its help)


def cmd_delete_data(args: argparse.Namespace) -> int:
    """Remove the library, indexes, comparisons and settings (models kept unless --models)."""
    from dataclasses import asdict

    from ..core.settings import data_home
    from ..core.system.forget import delete_user_data, forget_onnxruntime_telemetry

    home = data_home()
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError("delete-data removes your library for good: add --yes to confirm")
        what = "everything" if args.models else "your library, indexes, comparisons and settings"
        reply = input(f"Delete {what} in {home}? Type 'delete' to confirm: ")
        if reply.strip().lower() != "delete":
            print("Nothing deleted.")
            return EXIT_OK
    telemetry, telemetry_note = forget_onnxruntime_telemetry(home)
    removed = delete_user_data(home, models=args.models)
    lines = [f"removed {r.name} ({r.files} files, {r.bytes / 2**20:.1f} MiB)" for r in removed]
    lines.append(f"{len(removed)} entries removed from {home}" + (
        "" if args.models else "; models kept (--models removes them too)"))
    if telemetry_note:
        lines.append(telemetry_note)
    emit(args, {"home": str(home), "removed": [asdict(r) for r in removed],
                "models_kept": not args.models,
                "outside_data_folder": {"removed": [asdict(telemetry)] if telemetry else [],
                                        "note": telemetry_note}}, "\n".join(lines))
    return EXIT_OK
