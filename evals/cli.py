"""`paperbrief eval`: the command-line face of the harness (registered by agent/cli.py).

    paperbrief eval SUITE [--mode offline|llm] [--out DIR] [--baseline FILE]
    paperbrief eval --known-item FILE_OR_FOLDER [--negatives FILE] [--strip-title-words]
                    [--limit N] [--out DIR]
    paperbrief eval --diff RUN_A RUN_B [--out FILE]
    paperbrief eval --scitldr FILE [--limit N] [--out DIR]
    paperbrief eval --multixscience FILE [--limit N] [--out DIR]

Exit codes: 0 when the run completed (and passed its baseline), 1 when the gate failed or a
case errored, 2 for a usage error. This module imports nothing heavy, so registering the
subcommand costs the other commands nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_MODE_VARIABLE = "PAPERBRIEF_LLM__MODE"


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("suite", nargs="?", metavar="SUITE", help="suite YAML file")
    target.add_argument("--scitldr", metavar="FILE", help="SciTLDR-format JSON Lines")
    target.add_argument(
        "--multixscience", metavar="FILE", help="Multi-XScience-format JSON (or JSON Lines)"
    )
    target.add_argument(
        "--known-item",
        metavar="FILE",
        help="SciTLDR JSON Lines (or a converted corpus folder): each author TLDR asked of a "
        "fresh store of all the papers; recall@1/@5 and false abstention",
    )
    target.add_argument(
        "--diff",
        nargs=2,
        metavar=("RUN_A", "RUN_B"),
        help="side-by-side diff of two run folders (metrics per task, cases that changed)",
    )
    parser.add_argument(
        "--mode",
        choices=("offline", "llm"),
        default="offline",
        help="offline: the extractive writer (default); llm: the configured LLM, which also "
        "judges key points",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="run folder (default: DATA_DIR/evals/...); with --diff, a Markdown file",
    )
    parser.add_argument(
        "--baseline",
        metavar="FILE",
        help="an earlier run's aggregate.json; exit 1 when a metric drops beyond tolerance",
    )
    parser.add_argument(
        "--limit", type=int, metavar="N", help="benchmarks and known-item: first N records"
    )
    parser.add_argument(
        "--negatives",
        metavar="FILE",
        help="known-item: out-of-domain questions, one a line, reported as correct abstention",
    )
    parser.add_argument(
        "--strip-title-words",
        action="store_true",
        help="known-item: remove the words a question shares with its paper's title",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run_eval_command(args: argparse.Namespace, open_brief: Callable[[Any], Any]) -> int:
    """Run what `args` asks for; `open_brief(args)` builds the `PaperBrief` of the CLI."""
    if not args.suite and args.baseline:
        print("paperbrief: error: --baseline applies to suites only", file=sys.stderr)
        return 2
    if not args.known_item and (args.negatives or args.strip_title_words):
        print(
            "paperbrief: error: --negatives and --strip-title-words apply to --known-item only",
            file=sys.stderr,
        )
        return 2
    if args.diff:
        return _run_diff(args)
    brief = _open_in_mode(args, open_brief)
    if args.known_item:
        return _run_known_item(args, brief)
    if args.scitldr or args.multixscience:
        return _run_benchmark(args, brief)
    from evals.runner import run_suite

    run = run_suite(
        args.suite,
        pb=brief,
        mode=args.mode,
        out_dir=args.out,
        baseline=args.baseline,
        progress=not args.quiet,
    )
    print(f"store: {run.store}")
    for task, summary in run.aggregate.tasks.items():
        figures = ", ".join(
            f"{name} {value.mean:.3f} (n={value.n})" for name, value in summary.metrics.items()
        )
        print(f"{task}: {summary.cases} cases, {summary.errors} errors; {figures}")
        false = summary.metrics.get("false_abstention")
        if false is not None:
            correct = summary.metrics.get("correct_abstention")
            also = f"; correct abstentions {correct.mean:.3f} (n={correct.n})" if correct else ""
            print(f"  {task}: false abstentions {false.mean:.3f} (n={false.n}){also}")
    errored = [row for row in run.rows if row.error]
    for row in errored:
        print(f"error: {row.id}: {row.error}", file=sys.stderr)
    print(f"report: {run.out_dir / 'report.md'} and report.html; rows: cases.jsonl")
    if run.baseline is not None:
        if run.regressions:
            print(f"REGRESSION against {run.baseline}:", file=sys.stderr)
            for regression in run.regressions:
                print(f"  {regression}", file=sys.stderr)
            return 1
        print(f"gate: passed against {run.baseline}")
        return 0
    return 1 if errored else 0


def _open_in_mode(args: argparse.Namespace, open_brief: Callable[[Any], Any]) -> Any:
    # The mode must be in the settings the API is built from (it picks the writer and LLM at
    # construction); the environment outranks the config file, so set it there for the call.
    previous = os.environ.get(_MODE_VARIABLE)
    os.environ[_MODE_VARIABLE] = args.mode
    try:
        return open_brief(args)
    finally:
        if previous is None:
            del os.environ[_MODE_VARIABLE]
        else:
            os.environ[_MODE_VARIABLE] = previous


def _run_diff(args: argparse.Namespace) -> int:
    from evals.diff import diff_runs

    try:
        text = diff_runs(*args.diff)
    except ValueError as exc:
        print(f"paperbrief: error: {exc}", file=sys.stderr)
        return 2
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"diff: {args.out}")
    else:
        print(text, end="")
    return 0


def _run_known_item(args: argparse.Namespace, brief: Any) -> int:
    from evals.known_item import run_known_item

    run = run_known_item(
        args.known_item,
        pb=brief,
        limit=args.limit,
        progress=not args.quiet,
        strip_title_words=args.strip_title_words,
        negatives=args.negatives,
    )
    errors = [(row.question[:60], str(row.error)) for row in run.rows if row.error]
    return _write_and_summarise(args, brief, run, "known_item", errors)


def _run_benchmark(args: argparse.Namespace, brief: Any) -> int:
    from evals.benchmarks import run_multixscience, run_scitldr

    if args.scitldr:
        run = run_scitldr(
            args.scitldr, pb=brief, limit=args.limit, mode=args.mode, progress=not args.quiet
        )
    else:
        run = run_multixscience(
            args.multixscience,
            limit=args.limit,
            mode=args.mode,
            settings=brief.settings,
            progress=not args.quiet,
        )
    errors = [(row.id, str(row.error)) for row in run.rows if row.error]
    return _write_and_summarise(args, brief, run, run.benchmark, errors)


def _write_and_summarise(
    args: argparse.Namespace, brief: Any, run: Any, name: str, errors: list[tuple[str, str]]
) -> int:
    """Write a benchmark-style run (`run.write`, `run.summary_lines`) to `--out` (default a
    stamped folder under the data dir), print its summary and errors; 1 when any row failed."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    default = Path(brief.settings.data_dir) / "evals" / f"{name.replace('_', '-')}-{stamp}"
    folder = run.write(args.out or default)
    for line in run.summary_lines():
        print(line)
    print(f"rows: {folder / (name + '.jsonl')}")
    for where, error in errors:
        print(f"error: {where}: {error}", file=sys.stderr)
    return 1 if errors else 0
