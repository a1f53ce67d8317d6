"""Quant levels of one model compared on the same prompts: speed, memory and quality.

Retrieval is held fixed: each question's passages are retrieved once, rendered into one prompt
and tokenized once (saved in OUT/cases.json); every level gets exactly those tokens, so the
differences come from quantization alone. The highest-precision level is the reference. (The
app-style answer below retrieves again, from the same unchanged library and settings, so it gets
the same passages; its prompt is the app's own.)

Quality is measured as llama.cpp's `llama-perplexity --kl-divergence` does (core/quant/kld.py),
through LlmRuntime.next_token_logits: the reference's greedy continuation of each prompt
(`score_tokens` tokens) and its next-token distribution at every position are kept; each level
is fed the same prompt + continuation and at every position

    KLD      = sum_x P_ref(x) (log P_ref(x) - log P_level(x))
    same-top = the level's most likely token is the reference's

averaged over all positions of all questions. The reference distribution is stored as its top
REF_TOP tokens plus one bucket for the rest of the vocabulary, so the KLD is that of the
coarsened distributions: never more than the full KLD, and equal to it up to the mass outside the
top (reported as `ref_tail_mass`). Each level also answers each question as the app does
(rag.answer: the same retrieval, prompt, generation, citations and sentence check; greedy, and
first, so its timings include the prompt) for the timings and the answer. Where the questions
are labelled (a gold source, a yes/no/maybe decision), that answer is scored by the project's
one answer evaluator (eval_answers): answered, cites the gold source, sentences supported,
decision accuracy.

Results are saved under OUT as they come (cases.json, ref/<n>.npz, levels/<file>.json), so an
interrupted run resumes without redoing finished levels.

The package's modules, from the bottom up:
    results.py   what a level measured (LevelResult), the run's events, and FIELDS: the one
                 table of result columns that the report, the window and the terminal read
    plan.py      what to compare (ComparePlan) and the prompts fixed for every level (Case)
    scoring.py   the arithmetic on what was measured; pure, tested without a model
    runner.py    the run (Comparison): levels opened through a model factory, one at a time
    report.py    CSV, JSON and HTML report, its charts, the terminal's table
    workflow.py  the one sequence the command line and the window both run: build the levels
                 missing, compare, check memory, recommend, write the report
"""

from .plan import Case, ComparePlan, labelled_questions
from .results import (
    FIELDS,
    CompareDone,
    CompareProgress,
    Field,
    LevelDone,
    LevelResult,
    QuestionRun,
)
from .runner import Comparison, ModelFactory, measure_bandwidth_gbs

__all__ = ["FIELDS", "Case", "CompareDone", "ComparePlan", "CompareProgress", "Comparison",
           "Field", "LevelDone", "LevelResult", "ModelFactory", "QuestionRun",
           "labelled_questions", "measure_bandwidth_gbs"]
