"""The argparse tree of the medsearch command: every command, its options and help, and the
function that runs it (`args.func`). Building it imports no command's dependencies."""

from __future__ import annotations

import argparse
from typing import Any

from ..core.quant.quantize import LADDER
from .answers import cmd_ask, cmd_demo
from .app import cmd_delete_data, cmd_gui, cmd_selftest
from .evaluation import cmd_eval_answers, cmd_eval_retrieval
from .library import cmd_index, cmd_library, cmd_search
from .quant import cmd_compare, cmd_models, cmd_quantize

DESCRIPTION = ("The medsearch command: index, search, ask, models, quantize, compare, "
               "eval-retrieval, ...")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="medsearch", description=DESCRIPTION)
    p.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = p.add_subparsers(dest="command")

    def add(name: str, func: Any, help_: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_)
        sp.add_argument("--json", action="store_true", help="print one JSON document")
        sp.set_defaults(func=func)
        return sp

    sp = add("index", cmd_index, "add files/folders to the library and index what changed")
    sp.add_argument("paths", nargs="+", metavar="PATH")
    sp.add_argument("--precision", help="embedder precision (fp32, int8, onnx-fp32, onnx-int8)")
    sp.add_argument("-q", "--quiet", action="store_true")

    sp = add("search", cmd_search, "retrieve passages (no generation)")
    sp.add_argument("question", nargs="?")
    sp.add_argument("-k", type=int, default=10)
    sp.add_argument("--precision")
    sp.add_argument("--mode", choices=["dense", "keyword", "hybrid"])
    sp.add_argument("--queries", metavar="FILE", help="one question per line, or JSONL")

    sp = add("ask", cmd_ask, "answer a question from the library with citations")
    sp.add_argument("question")
    sp.add_argument("--quant", help="quant level of the current model family (e.g. Q8_0)")
    sp.add_argument("--model", help="a GGUF file or a folder of GGUF files")
    sp.add_argument("--precision")
    sp.add_argument("--mode", choices=["dense", "keyword", "hybrid"])
    sp.add_argument("-k", type=int)
    sp.add_argument("--max-tokens", type=int)
    sp.add_argument("--source-chars", type=int, metavar="N",
                    help="characters of each source the model reads (-1: automatic, fitted to the "
                    "model's reading speed; 0: whole passages)")

    add("models", cmd_models, "list the GGUF models found")

    sp = add("library", cmd_library, "the library as it stands: documents, passages, and "
             "whether the database and the vector indexes agree (exit 3 when they do not)")
    sp.add_argument("--precision", help="the embedder precision whose index is checked as "
                    "active (default: the settings')")

    sp = add("quantize", cmd_quantize,
             "build quant levels of a GGUF model with llama.cpp's quantizer")
    sp.add_argument("source", help="a GGUF file, or 'default' for the shipped model")
    sp.add_argument("--levels", default=",".join(LADDER),
                    help="comma-separated levels (default: %(default)s)")
    sp.add_argument("--out", help="output folder (default: next to the source; the app's "
                    "models folder for the default model)")
    sp.add_argument("--force", action="store_true", help="rebuild levels that exist")

    sp = add("delete-data", cmd_delete_data, "delete all my data: library, indexes, "
             "comparisons, settings (close the window first)")
    sp.add_argument("--yes", action="store_true", help="do not ask (needed without a terminal)")
    sp.add_argument("--models", action="store_true", help="also delete the models folder")

    sp = add("gui", cmd_gui, "open the window (what `medsearch` alone does)")
    sp.add_argument("--quit-after", type=float, metavar="SECONDS",
                    help="close the window after this long and print the start-up time "
                    "(install checks)")
    sp.add_argument("--ask", metavar="QUESTION",
                    help="ask this question as soon as the library is open (checks)")
    sp = add("selftest", cmd_selftest, "check every part on this machine (exit 1 if one fails)")
    sp.add_argument("--no-window", action="store_true",
                    help="skip opening the main window (machines without Qt's libraries)")
    add("demo", cmd_demo, "index the demo library and answer a sample question (headless)")

    sp = add("eval-retrieval", cmd_eval_retrieval,
             "retrieval quality on a question set, per mode")
    sp.add_argument("--pubmedqa", metavar="DIR", help="folder with corpus.jsonl, queries.jsonl")
    sp.add_argument("--pdfs", metavar="DIR", help="folder of PDFs with litqa2/questions.jsonl")
    sp.add_argument("--modes", default="dense,keyword,hybrid")
    sp.add_argument("--precision", default="fp32")
    sp.add_argument("--precisions", default="", metavar="fp32,int8",
                    help="compare embedder precisions side by side on --pubmedqa and/or --pdfs "
                    "(the first "
                    "is the reference for overlap@10)")
    sp.add_argument("--limit", type=int, default=0, help="use only the first N questions")
    sp.add_argument("--weights", default="", metavar="A,B,...",
                    help="hybrid dense weights to compare (default: the built-in weight)")
    sp.add_argument("--page-questions", metavar="FILE", action="append", default=[],
                    help="more page-located questions over --pdfs (JSONL: question, file, "
                    "pages); repeatable")
    sp.add_argument("--work", metavar="DIR", help="keep the evaluation libraries here so a "
                    "re-run does not re-embed")

    sp = add("compare", cmd_compare, "compare quant levels of one model on the same prompts "
             "(speed, memory, KL divergence, recommendation; CSV/JSON/HTML report)")
    sp.add_argument("--levels", default="all", help="comma-separated levels of the model's "
                    "family, e.g. F16,Q8_0,Q4_K_M (default: every level found)")
    sp.add_argument("--model", help="a GGUF file of the family (default: the current model)")
    sp.add_argument("--questions", required=True, metavar="FILE",
                    help="one question per line, CSV with a question column, or JSONL "
                    "{\"question\"[, \"relevant_doc\" or \"doc\", \"decision\"]}: labelled "
                    "lines also score each level's answers; 'demo' for the demo set")
    sp.add_argument("--out", required=True, metavar="DIR",
                    help="results and report; a run there resumes")
    sp.add_argument("--limit", type=int, default=0, help="first N questions only")
    sp.add_argument("-k", type=int, default=None, help="passages per question")
    sp.add_argument("--mode", choices=["dense", "keyword", "hybrid"])
    sp.add_argument("--precision")
    sp.add_argument("--max-tokens", type=int, default=64, help="answer tokens timed per level")
    sp.add_argument("--score-tokens", type=int, default=32,
                    help="reference positions scored for KLD per question")
    sp.add_argument("--min-same-top", type=float, default=90.0, metavar="PCT",
                    help="quality budget: same top token as the reference (default 90)")
    sp.add_argument("--max-kld", type=float, default=None, help="quality budget: mean KLD")
    sp.add_argument("--min-tokens-per-s", type=float, default=None, help="speed target")
    sp.add_argument("--max-ttft-ms", type=float, default=None, help="first-token target")
    sp.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")

    sp = add("eval-answers", cmd_eval_answers, "answer quality on labelled questions "
             "(refusals, citations, supported sentences, yes/no/maybe)")
    sp.add_argument("--pubmedqa", metavar="DIR", help="PubMedQA folder: its passages are "
                    "indexed into the library and its queries.jsonl asked")
    sp.add_argument("--questions", metavar="FILE", help="a JSONL question file "
                    "(question, answerable, doc[, decision])")
    sp.add_argument("--library", metavar="DIR", action="append", default=[],
                    help="index this folder first (repeatable)")
    sp.add_argument("--offlib", metavar="FILE", action="append", default=[],
                    help="questions no document answers (repeatable)")
    sp.add_argument("--limit", type=int, default=0, help="first N labelled questions only")
    sp.add_argument("-k", type=int, default=None, help="passages per question")
    sp.add_argument("--no-model", action="store_true",
                    help="judge support only (refusals), without asking the model")
    sp.add_argument("--source-chars", type=int, default=None, metavar="N",
                    help="characters of each source the model reads (-1: automatic; 0: whole "
                    "passages; default: the settings')")
    sp.add_argument("--out", metavar="FILE", help="write the per-question report here")
    return p
