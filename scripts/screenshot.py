"""Screenshot of the main window mid-answer (run under Xvfb: scripts/screenshot.sh).

Uses a throwaway MEDSEARCH_HOME with the demo library, asks a demo question, and grabs the
window once a few tokens have streamed and a citation has been opened in the viewer.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("MEDSEARCH_HOME", tempfile.mkdtemp(prefix="medsearch-shot-"))

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from medsearch_app.core.types import AnswerDone, Token  # noqa: E402
from medsearch_app.ui.app import app_icon  # noqa: E402
from medsearch_app.ui.main_window import MainWindow  # noqa: E402

QUESTION = "What antibiotics are recommended for high-severity community-acquired pneumonia?"


def main(out: Path) -> int:
    app = QApplication(sys.argv)
    app.setWindowIcon(app_icon())
    win = MainWindow()
    win.resize(1500, 900)
    win.show()
    state = {"tokens": 0, "asked": False, "shot": False}

    def poll() -> None:
        if not state["asked"] and win.ready and win.last_index is not None \
                and win._index_worker is not None and not win._index_worker.running:
            state["asked"] = True
            win.ask_panel.question.setText(QUESTION)
            win.ask(QUESTION)

    def on_event(_job: int, ev: object) -> None:
        if isinstance(ev, Token):
            state["tokens"] += 1
            if state["tokens"] == 1 and win.ask_panel.current and win.ask_panel.current.sources:
                win.open_citation(win.ask_panel.current.sources[0])
            if state["tokens"] == 25 and not state["shot"]:
                state["shot"] = True
                QTimer.singleShot(50, lambda: (win.grab().save(str(out)), None))
        if isinstance(ev, AnswerDone):
            if not state["shot"]:
                win.grab().save(str(out))
            QTimer.singleShot(200, app.quit)

    win.owner.yielded.connect(on_event)
    timer = QTimer(interval=200)
    timer.timeout.connect(poll)
    timer.start()
    QTimer.singleShot(240_000, app.quit)
    app.exec()
    win.shutdown()
    print(f"saved {out}" if out.exists() else "no screenshot taken")
    return 0 if out.exists() else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/main_window.png")))
