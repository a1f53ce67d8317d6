"""The quant comparison written out: CSV, JSON (with settings, versions, machine) and HTML, and
the terminal's table.

Every column, its heading and its decimals come from results.FIELDS. The HTML report is
self-contained: its charts (memory vs quality, speed vs quality) are drawn by matplotlib (Agg,
no display) and embedded as PNG data (chart_png).
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import os
import platform
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

from ...settings import data_home
from ..recommend import Budget, Recommendation
from .plan import ComparePlan
from .results import BY_KEY, FIELDS, PERCENT_SIGN, TERMINAL_COLUMNS, CompareDone, LevelResult

COLUMNS = [f.key for f in FIELDS]  # the CSV's columns, in order


def machine() -> dict[str, Any]:
    vm = psutil.virtual_memory()
    return {"platform": platform.platform(), "processor": platform.processor() or
            platform.machine(), "cpus": psutil.cpu_count(logical=True),
            "memory_gib": round(vm.total / 2**30, 1), "python": sys.version.split()[0]}


def versions() -> dict[str, str]:
    out = {}
    for pkg in ("medsearch", "llama-cpp-python", "sentence-transformers", "hnswlib", "numpy"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def ladder_notes(levels: list[LevelResult]) -> list[str]:
    """Say when levels compared were built from an already-quantized file (the shipped default
    is Q4_1): their agreement is measured against a dequantized copy, and levels above the
    source's cannot be better than it, only bigger."""
    from ..quantize import UNQUANTIZED, provenance

    by_source: dict[tuple[str, str], list[str]] = {}
    for r in levels:
        prov = provenance(Path(r.path))
        if prov and prov["source_quant"].upper() not in UNQUANTIZED:
            by_source.setdefault((prov["built_from"], prov["source_quant"]), []).append(r.quant)
    return [f"The levels {', '.join(qs)} were built from {src}, which is already quantized "
            f"({quant}): agreement is measured against its dequantized copy, and levels above "
            f"{quant} cannot be better than it." for (src, quant), qs in by_source.items()]


def payload(done: CompareDone, plan: ComparePlan, budget: Budget,
            rec: Recommendation) -> dict[str, Any]:
    """The JSON document of `medsearch compare --json` and report.json."""
    return {
        "levels": [r.to_json(with_questions=False) for r in done.levels],
        "reference": done.reference,
        "recommendation": rec.to_json(),
        "recommendation_reason": rec.reason,
        "budget": asdict(budget),
        "skipped": [{"question": q, "why": w} for q, w in done.skipped],
        "notes": ladder_notes(done.levels),
        "stopped": done.stopped,
        "bandwidth_gbs": done.bandwidth_gbs,
        "settings": {"levels": [str(p) for p in plan.ordered()], "questions": len(plan.questions),
                     "labelled": len(plan.labels),
                     "k": plan.k, "mode": str(plan.mode), "max_tokens": plan.max_tokens,
                     "score_tokens": plan.score_tokens, "n_ctx": plan.n_ctx,
                     "n_threads": plan.n_threads},
        "machine": machine(), "versions": versions(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": [],
    }


def write(done: CompareDone, plan: ComparePlan, budget: Budget, rec: Recommendation,
          out_dir: Path) -> dict[str, Any]:
    """Write report.csv, report.json and report.html into out_dir; returns the JSON payload
    (its "files" lists what was written)."""
    data = payload(done, plan, budget, rec)
    files = [out_dir / "report.csv", out_dir / "report.json", out_dir / "report.html"]
    data["files"] = [str(f) for f in files]
    with files[0].open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for r in done.levels:
            d = r.to_json(with_questions=False)
            w.writerow(["" if d[c] is None else d[c] for c in COLUMNS])
    files[1].write_text(json.dumps({**data, "per_question": {
        r.quant: [asdict(q) for q in r.questions] for r in done.levels}},
        indent=1, ensure_ascii=False), encoding="utf-8")
    files[2].write_text(_html(done, data), encoding="utf-8")
    return data


def chart_png(levels: list[LevelResult], x_key: str, x_label: str) -> str:
    """A scatter of the levels' same-top % against `x_key`, as base64 PNG data."""
    # matplotlib caches its font list under ~/.cache/matplotlib unless told otherwise: keep it
    # in the data folder, so that MedSearch writes nothing outside it (README: privacy).
    if "matplotlib" not in sys.modules:
        os.environ["MPLCONFIGDIR"] = str(data_home() / "cache" / "matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.2, 3.6), dpi=110)
    pts = [(getattr(r, x_key), r.same_top_pct, r.quant) for r in levels
           if getattr(r, x_key) is not None and r.same_top_pct is not None]
    ax.scatter([p[0] for p in pts], [p[1] for p in pts], color="#2b6cb0")
    for x, y, q in pts:
        ax.annotate(q, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.set_xlabel(x_label)
    ax.set_ylabel("same top token as reference (%)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _fmt(key: str, v: Any) -> str:
    return html.escape(BY_KEY[key].text(v))


def text_table(levels: list[LevelResult]) -> list[str]:
    """The terminal's table (TERMINAL_COLUMNS): a heading line and one line per level; a
    missing figure shows as 0."""
    head: list[str] = []
    rows: list[list[str]] = [[] for _ in levels]
    for key, align, width, fmt in TERMINAL_COLUMNS:
        sign = "%" if key in PERCENT_SIGN else ""
        head.append(format(BY_KEY[key].short, f"{align}{width + len(sign)}"))
        for row, r in zip(rows, levels, strict=True):
            v = getattr(r, key)
            row.append(format(v if isinstance(v, str) else v or 0, f"{align}{width}{fmt}") + sign)
    return [" ".join(cells) for cells in [head, *rows]]


def _labelled_note(settings: dict[str, Any]) -> str:
    if not settings.get("labelled"):
        return ""
    return (f" {settings['labelled']} questions are labelled: each level's answer is scored as "
            "<code>medsearch eval-answers</code> scores it (answered, cites the gold source, "
            "sentences their sources support, yes/no/maybe decision right).")


def _html(done: CompareDone, data: dict[str, Any]) -> str:
    # columns no level has a value for (VRAM without a GPU, answer scores without labels) go
    cols = [c for c in COLUMNS
            if c != "file" and any(getattr(r, c) is not None for r in done.levels)]
    head = "".join(f"<th>{html.escape(BY_KEY[c].heading)}</th>" for c in cols)
    rows = "".join(
        "<tr>" + "".join(f"<td>{_fmt(c, getattr(r, c))}</td>" for c in cols) + "</tr>"
        for r in done.levels)
    rec = data["recommendation"]
    rec_html = (f"<p class=rec><b>Recommended: {html.escape(rec['quant'])}</b> — "
                f"{html.escape(data['recommendation_reason'])}</p>" if rec else
                f"<p class=rec><b>No level meets the budget.</b> "
                f"{html.escape(data['recommendation_reason'])}</p>")
    mem = chart_png(done.levels, "file_mb", "model file (MiB)")
    speed = chart_png(done.levels, "tokens_per_s", "generation (tokens/s)")
    m, s = data["machine"], data["settings"]
    skipped = "".join(f"<li>{html.escape(x['question'])}: {html.escape(x['why'])}</li>"
                      for x in data["skipped"])
    return f"""<!doctype html><html><head><meta charset="utf-8">
<title>MedSearch quant comparison</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1100px}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}th{{background:#f0f4f8}}
.rec{{background:#eef7ee;padding:8px}}</style></head><body>
<h1>Quant levels compared</h1>
<p>Reference: {html.escape(done.reference)}. {s['questions']} questions
({len(data['skipped'])} skipped), {s['score_tokens']} scored positions and up to
{s['max_tokens']} answer tokens each; the same retrieved passages and prompt for every level.
KLD and same-top compare each level's next-token distribution with the reference's on the
reference's own continuation (the <code>llama-perplexity --kl-divergence</code> method).
Memory bandwidth measured here: {data['bandwidth_gbs']} GB/s; "% of bandwidth limit" is
tokens/s × file bytes ÷ that bandwidth.{_labelled_note(s)}</p>
{rec_html}
{"".join(f"<p><i>{html.escape(n)}</i></p>" for n in data["notes"])}
<table><tr>{head}</tr>{rows}</table>
<h2>Memory and speed against quality</h2>
<img alt="file size vs same-top" src="data:image/png;base64,{mem}">
<img alt="tokens/s vs same-top" src="data:image/png;base64,{speed}">
{f"<h2>Skipped questions</h2><ul>{skipped}</ul>" if skipped else ""}
<h2>Machine and versions</h2>
<p>{html.escape(m['platform'])}, {m['cpus']} logical CPUs, {m['memory_gib']} GiB RAM,
Python {m['python']}; {html.escape(', '.join(f'{k} {v}' for k, v in data['versions'].items()))}.
Created {data['created']}.</p>
</body></html>
"""
