"""The evaluation commands: eval-retrieval (retrieval quality per mode, or per embedder
precision) and eval-answers (answer quality on labelled questions)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..core.errors import EXIT_OK, UsageError
from .common import emit, open_engine


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def cmd_eval_retrieval(args: argparse.Namespace) -> int:
    from ..core.evaluation.retrieval import parse_weights, precision_table, run_eval, run_precisions

    if not args.pubmedqa and not args.pdfs:
        raise UsageError("give --pubmedqa DIR and/or --pdfs DIR")
    if args.precisions:
        from ..core.embedding.base import Precision

        precisions = [Precision.parse(p).value for p in args.precisions.split(",") if p]
        report = run_precisions(pubmedqa=Path(args.pubmedqa) if args.pubmedqa else None,
                                precisions=precisions, modes=args.modes.split(","),
                                limit=args.limit, work=Path(args.work) if args.work else None,
                                pdfs=Path(args.pdfs) if args.pdfs else None,
                                page_questions=[Path(p) for p in args.page_questions],
                                log=_say)
        emit(args, report, json.dumps(report, indent=2) + "\n\n" + precision_table(report))
        return EXIT_OK
    report = run_eval(pubmedqa=Path(args.pubmedqa) if args.pubmedqa else None,
                      pdfs=Path(args.pdfs) if args.pdfs else None,
                      modes=args.modes.split(","), precision=args.precision, limit=args.limit,
                      weights=parse_weights(args.weights),
                      work=Path(args.work) if args.work else None,
                      page_questions=[Path(p) for p in args.page_questions],
                      log=_say)
    emit(args, report, json.dumps(report, indent=2))
    return EXIT_OK


def cmd_eval_answers(args: argparse.Namespace) -> int:
    from ..core.evaluation import answers as eval_answers

    if not (args.pubmedqa or args.questions):
        raise UsageError("give --pubmedqa DIR and/or --questions FILE")
    eng = open_engine(args)
    try:
        rep = eval_answers.run(
            eng, pubmedqa=Path(args.pubmedqa) if args.pubmedqa else None,
            questions=Path(args.questions) if args.questions else None,
            library=[Path(p) for p in args.library], offlib=[Path(p) for p in args.offlib],
            limit=args.limit, k=args.k, no_model=args.no_model, source_chars=args.source_chars,
            log=None if args.json else _say)
        if args.out:
            Path(args.out).write_text(json.dumps(rep, indent=1, ensure_ascii=False), "utf-8")
        emit(args, rep, json.dumps(rep["summary"], indent=2))
        return EXIT_OK
    finally:
        eng.close()
