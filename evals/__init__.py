"""paperbrief's evaluation harness: suites of cases, metrics, runs, reports, benchmark adapters.

    from evals import run_suite
    run = run_suite("evals/suites/sample.yaml", mode="offline", out_dir="eval-out")
    run.passed, run.aggregate.tasks["ask"].metrics["retrieved_recall"].mean

It reaches the project only through the public Python API (`from agent import ...`).
"""

from evals.gate import Aggregate, Regression, aggregate, compare, load_aggregate
from evals.run import CaseRow, SuiteRun
from evals.runner import run_suite
from evals.suite import (
    Case,
    CorpusSource,
    KeyPoint,
    Suite,
    SuiteError,
    Turn,
    Window,
    load_suite,
)

__all__ = [
    "Aggregate",
    "Case",
    "CaseRow",
    "CorpusSource",
    "KeyPoint",
    "Regression",
    "Suite",
    "SuiteError",
    "SuiteRun",
    "Turn",
    "Window",
    "aggregate",
    "compare",
    "load_aggregate",
    "load_suite",
    "run_suite",
]
