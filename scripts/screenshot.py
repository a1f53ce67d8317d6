"""README screenshots (run under Xvfb: scripts/screenshot.sh).

Uses a throwaway MEDSEARCH_HOME with the demo library. Shot 1: the main window mid-answer with
the first evidence sentence's page open. Shot 3: the same answer finished, its sentences
checked against their sources (flagged ones marked). Shot 2: the Models & quantization page
mid-answer after switching the model to another quant level (the ladder is built on first
opening of the tab, as for a new user). Shot 4: the Compare quant levels page after a run of
four levels on three demo questions, at 1366x768.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("MEDSEARCH_HOME", tempfile.mkdtemp(prefix="medsearch-shot-"))

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from medsearch_app.core.quant.compare.workflow import ReportReady
from medsearch_app.core.types import AnswerDone, Token
from medsearch_app.ui.app import app_icon
from medsearch_app.ui.jobs import JobKind
from medsearch_app.ui.main_window import COMPARE_PAGE, MODELS_PAGE, MainWindow
from medsearch_app.ui.widgets.ask_panel import evidence_hit

Q1 = ("How long should antibiotics be given for community-acquired pneumonia, and when can IV "
      "be switched to oral?")
Q2 = "What apixaban dose was chosen for the patient with atrial fibrillation, and why?"
LEVEL = "Q4_K_M"
COMPARED = {"Q8_0", "Q4_1", "Q4_K_M", "Q2_K"}


def main(out_dir: Path) -> int:
    app = QApplication(sys.argv)
    app.setWindowIcon(app_icon())
    win = MainWindow()
    win.resize(1600, 950)
    win.show()
    shots = [out_dir / "main_window.png", out_dir / "settings_gauges.png",
             out_dir / "answer_checked.png", out_dir / "compare_page.png"]
    for old in shots:  # each shot is taken afresh (a missed moment must not keep an old one)
        old.unlink(missing_ok=True)
    st = {"phase": "index", "tokens": 0}

    def poll() -> None:
        ph = st["phase"]
        if ph == "index" and win.last_index is not None and win.library.idle():
            st["phase"] = "ask1"
            win.ask_panel.question.setText(Q1)
            win.ask(Q1)
        elif ph == "ladder" and not win.jobs.busy(JobKind.LADDER) \
                and not win.jobs.busy(JobKind.MODELS):
            st["phase"] = "switch"
            if win.settings_panel.select_quant(LEVEL):
                win.quant.switch_level(win.settings_panel.selected_path())  # type: ignore[arg-type]
            else:
                print(f"no {LEVEL} level was built")
                app.quit()
        elif ph == "compare" and win.compare_page.levels.count() >= len(COMPARED):
            st["phase"] = "comparing"
            page = win.compare_page
            for i in range(page.levels.count()):
                item = page.levels.item(i)
                on = item.text().split()[0] in COMPARED
                item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
            page.limit.setValue(3)
            page.run_button.click()
        elif ph == "switch" and win.switches:
            st["phase"], st["tokens"] = "ask2", 0
            win.ask_panel.question.setText(Q2)
            win.ask(Q2)

    def on_event(_job: int, ev: object) -> None:
        if isinstance(ev, Token):
            st["tokens"] += 1
            cur = win.ask_panel.current
            if st["phase"] == "ask1" and st["tokens"] == 1 and cur and cur.sources:
                pdf = next((evidence_hit(e) for e in cur.evidence if e.page),
                           next((h for h in cur.sources if h.page), cur.sources[0]))
                win.open_citation(pdf)
            if st["tokens"] == 30:
                shot = shots[0] if st["phase"] == "ask1" else shots[1]
                QTimer.singleShot(30, lambda: win.grab().save(str(shot)))
        elif isinstance(ev, AnswerDone):
            if st["phase"] == "ask1":
                if not shots[0].exists():
                    win.grab().save(str(shots[0]))
                win.grab().save(str(shots[2]))  # the answer checked, before the tab changes
                st["phase"] = "ladder"
                win.pages.setCurrentIndex(MODELS_PAGE)  # first opening builds the default's levels
            elif st["phase"] == "ask2":
                if not shots[1].exists():
                    win.grab().save(str(shots[1]))
                st["phase"] = "compare"
                win.pages.setCurrentIndex(COMPARE_PAGE)
        elif isinstance(ev, ReportReady):
            win.resize(1366, 768)

            def shot4() -> None:
                win.grab().save(str(shots[3]))
                app.quit()
            QTimer.singleShot(500, shot4)

    win.jobs.yielded.connect(on_event)
    timer = QTimer(interval=200)
    timer.timeout.connect(poll)
    timer.start()
    QTimer.singleShot(900_000, app.quit)
    app.exec()
    win.shutdown()
    for s in shots:
        print(f"saved {s}" if s.exists() else f"missing {s}")
    return 0 if all(s.exists() for s in shots) else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs")))
