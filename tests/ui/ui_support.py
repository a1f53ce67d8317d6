"""Helpers for the UI tests: generated documents, waiting on the Qt event loop, recording
model events. Imported by conftest.py and the test modules (no fixtures here)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STARTUP_TIMEOUT_S = 180.0
INDEX_TIMEOUT_S = 180.0
ANSWER_TIMEOUT_S = 300.0

# ---- generated documents ----------------------------------------------------------------------

KAWASAKI = [
    "Kawasaki disease is an acute vasculitis of childhood that affects the coronary arteries.",
    "Treat Kawasaki disease with intravenous immunoglobulin 2 g/kg given as a single infusion "
    "over 10 to 12 hours, ideally within the first ten days of fever.",
    "Give aspirin together with the immunoglobulin and arrange echocardiography at diagnosis, "
    "at two weeks and at six to eight weeks to look for coronary artery aneurysms.",
    "Children who remain febrile 36 hours after the infusion have refractory Kawasaki disease "
    "and need a second dose of immunoglobulin or corticosteroids.",
]

_NOTE_TOPICS = [
    ("gout flare", "colchicine 500 micrograms twice daily", "serum urate"),
    ("heart failure review", "furosemide 40 mg each morning", "daily weights"),
    ("asthma review", "budesonide inhaler 200 micrograms twice daily", "peak flow diary"),
    ("COPD exacerbation", "prednisolone 30 mg for five days", "sputum colour"),
    ("cellulitis of the leg", "flucloxacillin 1 g four times daily", "marked skin edge"),
    ("urinary tract infection", "nitrofurantoin 100 mg modified release", "urine culture"),
    ("hypothyroidism follow-up", "levothyroxine 75 micrograms daily", "TSH level"),
    ("migraine clinic", "sumatriptan 50 mg at onset", "headache diary"),
]

_FILLER = [
    "The patient was seen in clinic today with a family member and gave a clear history.",
    "Observations were stable: heart rate {hr}/min, blood pressure {sys}/{dia} mmHg, "
    "temperature 36.{t} C and oxygen saturation 97% on room air.",
    "Examination was otherwise unremarkable and there were no red flag features.",
    "Current medication was reviewed with the patient and a printed list was provided.",
    "We discussed the diagnosis, the expected course and when to seek urgent help.",
    "Blood tests showed a normal full blood count and normal renal function.",
    "A follow-up appointment was booked and the general practitioner will be informed.",
    "The patient understood the plan and agreed with it; questions were answered.",
]


def write_topic_pdf(path: Path, title: str, paragraphs: list[str], pages: int = 2) -> Path:
    """A small text PDF (fpdf2, core font) with `paragraphs` repeated over `pages` pages."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_auto_page_break(auto=True, margin=15)
    for p in range(pages):
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 16)
        pdf.multi_cell(0, 9, f"{title} (part {p + 1})")
        pdf.ln(3)
        pdf.set_font("Helvetica", size=11)
        for para in paragraphs:
            pdf.multi_cell(0, 6, para)
            pdf.ln(2)
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    return path


def write_garbage_pdf(path: Path, size: int = 4096) -> Path:
    """A file named .pdf whose bytes are deterministic garbage (no PDF structure at all)."""
    import random

    rnd = random.Random(1234)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(rnd.randrange(256) for _ in range(size)))
    return path


def write_notes(folder: Path, n: int, *, paragraphs: int = 6, tag: str = "") -> list[Path]:
    """`n` plain-text clinical notes (fictional patients), a few hundred words each."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        topic, drug, monitor = _NOTE_TOPICS[i % len(_NOTE_TOPICS)]
        lines = [f"CLINIC NOTE {tag}{i:03d} - {topic.upper()} (generated test note, fictional)",
                 "", f"Patient: Test Patient {tag}{i:03d}, demo ID GEN-{tag}{i:05d}", ""]
        for j in range(paragraphs):
            fill = " ".join(
                s.format(hr=60 + (i + j) % 30, sys=110 + (i * 3 + j) % 40, dia=65 + j % 20,
                         t=4 + j % 5)
                for s in _FILLER[j % 3: j % 3 + 5])
            lines.append(f"Assessment {j + 1} for {topic}: {fill} Plan: continue {drug} and "
                         f"monitor the {monitor}; review again in {2 + j} weeks.")
            lines.append("")
        p = folder / f"note_{tag}{i:03d}.txt"
        p.write_text("\n".join(lines), encoding="utf-8")
        out.append(p)
    return out


# ---- waiting and recording -------------------------------------------------------------------

def wait_until(cond: Callable[[], bool], timeout_s: float, what: str = "condition") -> None:
    """Run the Qt event loop until cond() is true (for fixtures, which have no qtbot)."""
    from PySide6.QtTest import QTest

    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        QTest.qWait(10)


@dataclass
class ModelEvents:
    """Every (job id, event) the window's jobs emitted, in arrival order (GUI thread)."""

    items: list[tuple[int, Any]] = field(default_factory=list)

    def __call__(self, job: int, ev: object) -> None:
        self.items.append((job, ev))

    def of(self, job: int) -> list[Any]:
        return [e for j, e in self.items if j == job]


@dataclass(frozen=True)
class FirstRun:
    """What the window showed the moment its first-run indexing ended, before any test added,
    removed or asked anything (the tests of a module share one window, in any order)."""

    done: Any  # the first IndexDone
    documents: dict[str, tuple[str, str | None]]  # path -> (name shown, status shown)
    summary: str
    status_message: str
    progress_values: list[tuple[int, int]]
    bar: tuple[int, int, bool]  # value, maximum, hidden
    cancel_hidden: bool

    @classmethod
    def of(cls, ui: UiSession) -> FirstRun:
        from PySide6.QtCore import Qt

        panel = ui.win.library_panel
        items = [panel.tree.topLevelItem(i) for i in range(panel.tree.topLevelItemCount())]
        paths = [it.data(0, Qt.ItemDataRole.UserRole) for it in items]
        bar = panel.progress
        return cls(done=ui.win.last_index,
                   documents={p: (it.text(0), panel.document_status(p))
                              for p, it in zip(paths, items, strict=True)},
                   summary=panel.summary.text(),
                   status_message=ui.win.statusBar().currentMessage(),
                   progress_values=list(ui.progress_values),
                   bar=(bar.value(), bar.maximum(), bar.isHidden()),
                   cancel_hidden=panel.cancel.isHidden())


@dataclass
class UiSession:
    win: Any
    home: Path
    events: ModelEvents
    progress_values: list[tuple[int, int]]  # (value, maximum) of the library progress bar
    first_run: FirstRun | None = None  # set by the first wait_ready()

    def index_idle(self) -> bool:
        return self.win.last_index is not None and self.win.library.idle()

    def wait_ready(self) -> None:
        """Wait for the first-run indexing to end; the first call records what it showed."""
        wait_until(self.index_idle, STARTUP_TIMEOUT_S + INDEX_TIMEOUT_S,
                   "the demo library to be indexed")
        if self.first_run is None:
            self.first_run = FirstRun.of(self)

    def ask_and_wait(self, question: str, timeout_s: float = ANSWER_TIMEOUT_S) -> int:
        """Ask through the window and run the event loop until the answer job finished."""
        win = self.win
        wait_until(lambda: win.answer_job is None, timeout_s, "the previous answer")
        job = win.ask(question)
        assert job is not None, "the window did not start an answer"
        wait_until(lambda: win.answer_job is None, timeout_s, f"the answer to {question!r}")
        return int(job.id)


class GapMeter:
    """A QTimer on the GUI thread ticking every `interval_ms`; records the gaps between ticks.

    A gap much longer than the interval means the GUI thread was busy (the window froze).
    """

    def __init__(self, interval_ms: int = 10) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.gaps_ms: list[float] = []
        self._last = 0.0

    def start(self) -> None:
        self.gaps_ms.clear()
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps_ms.append((now - self._last) * 1000.0)
        self._last = now

    @property
    def max_ms(self) -> float:
        return max(self.gaps_ms, default=0.0)

    def percentile(self, q: float) -> float:
        if not self.gaps_ms:
            return 0.0
        s = sorted(self.gaps_ms)
        return s[min(len(s) - 1, round(q / 100.0 * (len(s) - 1)))]
