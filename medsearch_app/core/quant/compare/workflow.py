"""The one comparison sequence that `medsearch compare` and the window's Compare page both run:
build the levels asked for that no models folder has, compare, check which levels fit in the
memory free, recommend one for the budget, write the report.

run_comparison() is a generator of events (QuantProgress and QuantDone while levels are built,
then the run's CompareProgress, LevelDone and CompareDone) that ends with ReportReady once a
level was measured. It runs on the caller's thread, which must be the one that may use llama.cpp
(the window's model thread).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ...errors import BadInput
from ...llm.gguf import FTYPE_BY_NAME
from ...llm.models import ModelNotFound, family_found, models_dir
from ...retrieval.search import Retriever
from ...settings import Settings, data_home
from ..quantize import (
    LADDER,
    QuantDone,
    QuantizeError,
    QuantProgress,
    base_name,
    build_ladder,
    ladder_folder,
)
from ..recommend import Budget, Recommendation, level_fits, recommend
from . import report
from .plan import ComparePlan
from .results import CompareDone, CompareProgress, LevelDone
from .runner import Comparison, ModelFactory


@dataclass(frozen=True)
class LevelBuild:
    """Levels to build from `source` into `out_dir` before comparing (quantize.build_ladder:
    llama.cpp's quantizer, one child process per level)."""

    source: Path
    levels: list[str]
    out_dir: Path

    def paths(self) -> list[Path]:
        """The files build_ladder writes for these levels."""
        base = base_name(self.source)
        return [self.out_dir / f"{base}.{lv}.gguf" for lv in self.levels]


@dataclass(frozen=True)
class ReportReady:
    """The run is over and its report written: the workflow's last event."""

    done: CompareDone
    fits: dict[str, bool]  # by file name: fits in the memory free now
    recommendation: Recommendation
    data: dict[str, Any]  # the report's JSON document (`medsearch compare --json`)

    @property
    def files(self) -> list[str]:
        return list(self.data["files"])


Event = QuantProgress | QuantDone | CompareProgress | LevelDone | CompareDone | ReportReady


def levels_to_compare(settings: Settings, *, model: str | None = None,
                      names: list[str] | None = None) -> tuple[list[Path], LevelBuild | None]:
    """The files of the levels `names` (every level found when None) of the family of `model`
    (default: the current model), and the build of those no models folder has: from that model,
    into the folder the window's Models page builds into. ModelNotFound for a name that is not a
    level llama.cpp builds."""
    base, fam, have = family_found(settings, model=model)
    if names is None:
        return list(have.values()), None
    wanted = list(dict.fromkeys(q.upper() for q in names))
    missing = [q for q in wanted if q not in have]
    unknown = [q for q in missing if q not in FTYPE_BY_NAME]
    if unknown:
        raise ModelNotFound(f"no {', '.join(unknown)} file for {fam}; available: "
                            f"{', '.join(have) or 'none'}; levels that can be built: "
                            f"{', '.join(LADDER)}")
    found = [have[q] for q in wanted if q in have]
    build = LevelBuild(base, missing, ladder_folder(base, models_dir())) if missing else None
    return found, build


def comparisons_dir() -> Path:
    """Where the window keeps its comparisons, one folder per plan (its fingerprint)."""
    return data_home() / "comparisons"


def run_comparison(plan: ComparePlan, retriever: Retriever, budget: Budget, *,
                   out_dir: Path | None = None, build: LevelBuild | None = None,
                   cancel: threading.Event | None = None,
                   open_model: ModelFactory | None = None) -> Iterator[Event]:
    """Build `build`'s levels (they join plan.levels), compare the levels in `out_dir` (default:
    comparisons_dir()/<the plan's fingerprint>, where the same plan resumes), then check memory,
    recommend and write the report there. Raises QuantizeError when a level cannot be built;
    ends early, without a report, when cancelled before a level was measured."""
    cancel = cancel or threading.Event()
    if not plan.questions:
        raise BadInput("no questions to ask")
    if build is not None:
        built: QuantDone | None = None
        for step in build_ladder(build.source, build.levels, build.out_dir, cancel=cancel):
            yield step
            if isinstance(step, QuantDone):
                built = step
        if built is not None and built.error:
            raise QuantizeError(built.error)
        if built is None or built.cancelled:
            return
        plan = replace(plan, levels=[*plan.levels, *build.paths()])
    out = out_dir if out_dir is not None else comparisons_dir() / plan.fingerprint()
    done: CompareDone | None = None
    for ev in Comparison(plan, retriever, out, open_model=open_model).run(cancel):
        yield ev
        if isinstance(ev, CompareDone):
            done = ev
    if done is None or not done.levels:
        return
    fits = level_fits(done.levels, n_ctx=plan.n_ctx)
    rec = recommend(done.levels, budget, fits)
    yield ReportReady(done, fits, rec, report.write(done, plan, budget, rec, out))
