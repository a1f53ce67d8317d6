"""Library actions of the window: opening the library, indexing, removing, watching folders.

All disk work (opening the library, rendering the first-run demo, indexing, removing, listing the
folders to watch) runs as jobs of the window's JobCoordinator; this class turns their events into
widget updates on the GUI thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from ..core.engine import Engine
from ..core.library.check import LibraryCheck, check_library
from ..core.llm.gguf import read_gguf
from ..core.quant.quantize import base_name
from ..core.settings import Settings, data_home
from ..core.types import IndexDone, Progress, Stage
from .jobs import JobCoordinator, JobKind
from .widgets.library_panel import LibraryPanel

Status = Callable[..., None]  # status(message, timeout_ms=0)


@dataclass(frozen=True)
class Ready:
    """Startup finished (event of the startup job)."""

    title: str  # the model and its level, e.g. "smollm2-… (Q4_1)"
    problem: str | None  # a problem found in the index (it is being rebuilt)
    demo: Path | None  # the demo library installed on this first run, to be indexed
    watch: list[str]  # folders to watch for changes
    why: str = ""  # why this answer model (the strongest that fits, or the small fallback)


@dataclass(frozen=True)
class Preparing:
    """Startup is exporting the ONNX embedder first (once per data folder)."""


@dataclass(frozen=True)
class WatchDirs:
    """The folders (and their subfolders) of the library, listed off the GUI thread."""

    dirs: list[str]


def watch_dirs(roots: list[str]) -> list[str]:
    """Every folder under the library's root folders, hidden ones left out."""
    dirs: set[str] = set()
    for r in roots:
        p = Path(r)
        if p.is_dir():
            dirs.add(str(p))
            dirs.update(str(d) for d in p.rglob("*") if d.is_dir()
                        and not any(x.startswith(".") for x in d.relative_to(p).parts))
    return sorted(dirs)


class LibraryActions(QObject):
    """Opens the library and keeps it indexed; `ready_changed(Ready)` when it is open."""

    ready_changed = Signal(object)
    checked = Signal(object)  # a LibraryCheck

    def __init__(self, engine: Engine, settings: Settings, jobs: JobCoordinator,
                 panel: LibraryPanel, status: Status, *, install_demo: bool = True,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine, self.settings, self.jobs, self.panel = engine, settings, jobs, panel
        self.status = status
        self.install_demo = install_demo
        self.ready = False
        self.last_index: IndexDone | None = None
        self.last_check: LibraryCheck | None = None
        self._busy = False
        self.watcher = QFileSystemWatcher(self)
        self.watcher.directoryChanged.connect(self._folder_changed)
        self.sync_timer = QTimer(self, singleShot=True, interval=2000)
        self.sync_timer.timeout.connect(lambda: self.index(None))
        jobs.changed.connect(self._jobs_changed)

    # ---- startup ----------------------------------------------------------------------------
    def start(self) -> None:
        eng, settings, demo_wanted = self.engine, self.settings, self.install_demo

        def job(_cancel: threading.Event) -> Iterator[Any]:
            if eng.embedder_needs_preparing():
                yield Preparing()
            lib = eng.library  # loads the embedder (seconds)
            problem = lib.index_problem()
            try:
                path = eng.model_path()
                title = f"{base_name(path)} ({read_gguf(path).quant})"
                why = eng.model_reason()
            except Exception as exc:  # noqa: BLE001 - shown in the status bar
                title, why = f"no model: {exc}", ""
            roots = lib.store.roots()
            demo = None
            if not roots and demo_wanted and not settings.demo_installed:
                from ..demo import install_demo

                demo = install_demo(data_home() / "demo")  # renders the demo PDF
            yield Ready(title, problem, demo, watch_dirs(roots), why)

        self.status("Opening your library…")
        self.jobs.submit(JobKind.STARTUP, job, on_event=self._on_ready,
                         on_failed=lambda m: self.status(f"Could not open library: {m}"))

    def _on_ready(self, ev: object) -> None:
        if isinstance(ev, Preparing):
            self.status("Preparing the embedder for this computer (once, about 15 s)…")
            return
        if not isinstance(ev, Ready):
            return
        self.ready = True
        self.ready_changed.emit(ev)
        self.refresh()
        if ev.problem:
            self.status(f"Rebuilding the search index: {ev.problem}")
        if ev.demo is not None:
            self.settings.demo_installed = True
            self.settings.save()
            self.status("Indexing the demo library…")
            self.add_paths([ev.demo])
        else:
            self._watch(ev.watch)
            self.index(None)  # catch up with changes made while the app was closed

    def refresh(self) -> None:
        if self.ready:
            self.panel.set_documents(self.engine.library.store.documents())

    # ---- indexing ---------------------------------------------------------------------------
    def add_paths(self, paths: list[Path]) -> None:
        missing = [p for p in paths if not p.exists()]
        if missing:
            self.status(f"Not found: {missing[0]}")
            paths = [p for p in paths if p.exists()]
        if paths:
            self.index(paths)

    def index(self, paths: list[Path] | None) -> None:
        """Index `paths`, or (None) bring the whole library up to date with its folders."""
        if not self.ready:
            return
        eng = self.engine

        def job(cancel: threading.Event) -> Iterator[Any]:
            lib = eng.library  # the library in place when the job starts (swaps wait for it)
            if paths is None:
                yield from lib.sync(cancel=cancel)
            else:
                yield from lib.index_paths(paths, cancel=cancel)
            yield WatchDirs(watch_dirs(lib.store.roots()))

        self.jobs.submit(JobKind.INDEX, job, key="sync" if paths is None else None,
                         on_event=self._on_index_event,
                         on_failed=lambda m: self.status(f"Indexing stopped: {m}"),
                         on_finished=self.refresh)

    def _on_index_event(self, ev: object) -> None:
        if isinstance(ev, WatchDirs):
            self._watch(ev.dirs)
            return
        self.panel.on_event(ev)
        if isinstance(ev, IndexDone):
            self.last_index = ev
            what = "Cancelled" if ev.cancelled else "Library up to date"
            self.status(f"{what}: {ev.added} added, {ev.updated} updated, {ev.removed} "
                        f"removed, {len(ev.failed)} could not be indexed ({ev.seconds:.1f} s)")
        elif isinstance(ev, Progress) and ev.stage is Stage.RESUMING:
            self.status("Finishing passages left from an interrupted run…")
        elif isinstance(ev, Progress) and ev.stage is Stage.WAITING:
            self.status("Waiting: another MedSearch process is indexing this library; the "
                        "window takes its turn when it has finished (Cancel stops waiting)")

    def cancel(self) -> None:
        if self.jobs.cancel(JobKind.INDEX):
            self.status("Cancelling… (finished files are kept)")

    def remove_paths(self, paths: list[str]) -> None:
        """Remove on a worker: it saves the index, which would freeze the window."""
        eng = self.engine

        def job(_cancel: threading.Event) -> Iterator[Any]:
            yield eng.library.remove_paths([Path(p) for p in paths])

        self.status("Removing…")
        self.jobs.submit(JobKind.REMOVE, job,
                         on_event=lambda n: self.status(f"Removed {n} document(s) from the "
                                                        "library"),
                         on_failed=lambda m: self.status(f"Could not remove: {m}"),
                         on_finished=self.refresh)

    def check(self) -> None:
        """`medsearch library` in the window: the database against the index, off the GUI
        thread; the result goes to `checked`."""
        eng = self.engine

        def job(_cancel: threading.Event) -> Iterator[Any]:
            yield check_library(eng.home, eng.embedder.key)

        self.status("Checking the library…")
        self.jobs.submit(JobKind.CHECK, job, on_event=self._on_checked,
                         on_failed=lambda m: self.status(f"Could not check the library: {m}"))

    def _on_checked(self, chk: LibraryCheck) -> None:
        self.last_check = chk
        if chk.consistent:
            self.status(f"Library checked: {len(chk.documents)} documents, {chk.chunks} "
                        f"passages, {chk.pending} still to embed; database and index agree")
        else:
            self.status("Library check found problems: " + "; ".join(chk.problems))
        self.checked.emit(chk)

    def idle(self) -> bool:
        """Open, and no indexing or removal running or queued."""
        return self.ready and not self.jobs.busy(JobKind.INDEX) \
            and not self.jobs.busy(JobKind.REMOVE)

    def _jobs_changed(self) -> None:
        busy = bool(self.jobs.jobs(JobKind.INDEX, queued=False))
        if busy != self._busy:
            self._busy = busy
            self.panel.set_busy(busy)

    # ---- watching folders -----------------------------------------------------------------
    def _watch(self, dirs: list[str]) -> None:
        new = sorted(set(dirs) - set(self.watcher.directories()))
        if new:
            self.watcher.addPaths(new)

    def _folder_changed(self, _path: str) -> None:
        self.sync_timer.start()  # debounce bursts of changes into one incremental sync

    def stop(self) -> None:
        self.sync_timer.stop()
