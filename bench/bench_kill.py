"""SIGKILL `medsearch index` at random moments; after every kill the library must be consistent.

Run:  .venv/bin/python bench/bench_kill.py [--docs 300] [--kills 20] [--seed 1] [--work DIR]

1. Writes --docs generated clinical notes (a few paragraphs each, every one different) into
   WORK/notes, and indexes them once, uninterrupted, into WORK/clean: the expected library.
2. Into WORK/home, starts `medsearch index WORK/notes` --kills times and SIGKILLs it after a
   random delay (uniform between --min-s and --max-s; a run that finishes first is simply not
   killed). After every kill `medsearch library --json` must report a consistent library: every
   document once, with status indexed, partial, failed or pending, the database and the vector
   index agreeing (a passage without a vector yet is pending, a vector without a passage is a
   fault).
3. A last run without a kill must finish the work: the library then equals the clean one
   (same documents, same passage count, nothing pending) and a search answers.

tests/core/test_kill_resume.py runs the same loop on a smaller library in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cpu import cpu_line

REPO = Path(__file__).resolve().parent.parent
TOPICS = ["asthma", "gout", "heart failure", "type 2 diabetes", "hypertension", "COPD",
          "atrial fibrillation", "migraine", "hypothyroidism", "chronic kidney disease",
          "depression", "osteoarthritis", "cellulitis", "urinary tract infection", "anaemia"]
DRUGS = ["salbutamol", "allopurinol", "furosemide", "metformin", "amlodipine", "tiotropium",
         "apixaban", "sumatriptan", "levothyroxine", "ramipril", "sertraline", "naproxen",
         "flucloxacillin", "nitrofurantoin", "ferrous sulfate"]

STATES = ["stable", "worse", "better", "unchanged"]
PLANS = ["agreed to the plan", "asked about side effects", "will return in four weeks",
         "was referred on"]


def write_notes(folder: Path, n: int, seed: int = 0) -> list[Path]:
    """n different clinic notes of 10-30 short paragraphs, a few passages each (deterministic
    for a seed)."""
    rnd = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        topic, drug = rnd.choice(TOPICS), rnd.choice(DRUGS)
        paras = [f"Clinic note {i}: review of {topic} for patient {1000 + i}."]
        for _ in range(rnd.randint(10, 30)):
            paras.append(
                f"Seen on day {rnd.randint(1, 28)} of month {rnd.randint(1, 12)}. {drug.title()} "
                f"{rnd.choice([5, 10, 20, 40, 100, 250, 500])} mg was "
                f"{rnd.choice(['started', 'continued', 'reduced', 'stopped'])}. Blood pressure "
                f"{rnd.randint(100, 170)}/{rnd.randint(60, 100)} mmHg, pulse "
                f"{rnd.randint(50, 110)}. The {topic} was {rnd.choice(STATES)} and the patient "
                f"{rnd.choice(PLANS)}.")
        p = folder / f"note_{i:04d}.txt"
        p.write_text("\n\n".join(paras) + "\n", encoding="utf-8")
        out.append(p)
    return out


def medsearch(home: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MEDSEARCH_HOME": str(home), "OMP_NUM_THREADS": "2"}
    return subprocess.run([sys.executable, "-m", "medsearch_app", *args], env=env, text=True,
                          capture_output=True, timeout=timeout, cwd=str(REPO))


def library(home: Path) -> dict:
    out = medsearch(home, "library", "--json")
    return dict(json.loads(out.stdout))


@dataclass
class Round:
    n: int
    delay_s: float
    killed: bool
    consistent: bool
    documents: int
    statuses: dict[str, int]
    chunks: int
    pending: int
    problems: list[str]


def kill_loop(home: Path, notes: Path, kills: int, seed: int, min_s: float,
              max_s: float, log: bool = True) -> list[Round]:
    """Start, SIGKILL after a random delay, check; `kills` times."""
    rnd = random.Random(seed)
    env = {**os.environ, "MEDSEARCH_HOME": str(home), "OMP_NUM_THREADS": "2"}
    rounds = []
    for n in range(kills):
        delay = rnd.uniform(min_s, max_s)
        proc = subprocess.Popen([sys.executable, "-m", "medsearch_app", "index", str(notes),
                                 "-q", "--json"], env=env, cwd=str(REPO),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            proc.wait(timeout=delay)
            killed = False
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            killed = True
        lib = library(home)
        statuses = {k: v for k, v in lib["totals"].items() if k != "documents"}
        r = Round(n + 1, round(delay, 1), killed, lib["consistent"], lib["totals"]["documents"],
                  statuses, lib["chunks"], lib["pending"], lib["problems"])
        rounds.append(r)
        if log:
            state = "consistent" if r.consistent else f"NOT consistent {r.problems}"
            print(f"round {r.n:>2}: {'killed' if killed else 'finished'} after {r.delay_s:>5} s;"
                  f" {r.documents} documents {r.statuses}, {r.chunks} passages, {r.pending} "
                  f"pending, {state}", flush=True)
    return rounds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=300)
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--min-s", type=float, default=3.0)
    ap.add_argument("--max-s", type=float, default=20.0)
    ap.add_argument("--work", default=tempfile.mkdtemp(prefix="medsearch-kill-"))
    args = ap.parse_args()
    print(cpu_line(), flush=True)  # every figure below is this CPU's
    work = Path(args.work)
    notes = work / "notes"
    write_notes(notes, args.docs, args.seed)
    t0 = time.perf_counter()
    clean = medsearch(work / "clean", "index", str(notes), "-q", "--json")
    assert clean.returncode == 0, clean.stderr
    expected = library(work / "clean")
    print(f"clean run: {expected['totals']['documents']} documents, {expected['chunks']} "
          f"passages in {time.perf_counter() - t0:.0f} s")
    rounds = kill_loop(work / "home", notes, args.kills, args.seed, args.min_s, args.max_s)
    final = medsearch(work / "home", "index", str(notes), "-q", "--json")
    lib = library(work / "home")
    hit = medsearch(work / "home", "search", "allopurinol for gout", "-k", "3", "--json")
    ok = (final.returncode == 0 and lib["consistent"] and lib["pending"] == 0
          and lib["chunks"] == expected["chunks"]
          and lib["totals"] == expected["totals"] and hit.returncode == 0
          and json.loads(hit.stdout)["hits"])
    killed = sum(r.killed for r in rounds)
    print(f"\n{killed} kills ({len(rounds) - killed} runs finished before their kill); "
          f"consistent after {sum(r.consistent for r in rounds)} of {len(rounds)} rounds; "
          f"final: {lib['totals']['documents']} documents, {lib['chunks']} passages "
          f"(clean run {expected['chunks']}), {lib['pending']} pending, search "
          f"{'answers' if hit.returncode == 0 else 'FAILED'} -> {'PASS' if ok else 'FAIL'}")
    return 0 if ok and all(r.consistent for r in rounds) else 1


if __name__ == "__main__":
    sys.exit(main())
