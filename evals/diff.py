"""A side-by-side diff of two run folders: what moved per task, and which cases changed.

    paperbrief eval --diff RUN_A RUN_B

Reads each folder's `aggregate.json` and `cases.jsonl`. Per task, every metric whose mean
differs (A, B, change, marked worse or better by the metric's direction); then every case or
turn whose metrics, cited papers or loss stages differ, with the stage it newly lost points at,
so a regression points at search, relevance, the writer or the key points.
"""

from __future__ import annotations

from pathlib import Path

from evals import gate
from evals.run import LOSS_STAGES, CaseRow, rows_of

_EPSILON = 1e-9


def _load(folder: str | Path) -> tuple[gate.Aggregate, dict[tuple[str, int], CaseRow]]:
    folder = Path(folder)
    if not (folder / "aggregate.json").is_file() or not (folder / "cases.jsonl").is_file():
        raise ValueError(f"{folder}: not a run folder (needs aggregate.json and cases.jsonl)")
    rows = {(row.id, row.turn): row for row in rows_of(folder / "cases.jsonl")}
    return gate.load_aggregate(folder / "aggregate.json"), rows


def _verdict(metric: str, change: float) -> str:
    if abs(change) <= _EPSILON or metric in gate.NOT_GATED:
        return ""
    better = change < 0 if metric in gate.LOWER_IS_BETTER else change > 0
    return "better" if better else "WORSE"


def _value(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def diff_runs(run_a: str | Path, run_b: str | Path) -> str:
    """The Markdown diff of run B against run A."""
    agg_a, rows_a = _load(run_a)
    agg_b, rows_b = _load(run_b)
    out = [f"# Eval diff: {run_a} (A) -> {run_b} (B)", ""]
    if (agg_a.suite, agg_a.mode) != (agg_b.suite, agg_b.mode):
        out += [
            f"Note: A ran suite {agg_a.suite!r} ({agg_a.mode}), B suite {agg_b.suite!r} "
            f"({agg_b.mode}).",
            "",
        ]
    out += [
        "## Per task",
        "",
        "| task | metric | A | B | change | |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    changed_metrics = 0
    for task in sorted(set(agg_a.tasks) | set(agg_b.tasks)):
        a = agg_a.tasks.get(task, gate.TaskSummary())
        b = agg_b.tasks.get(task, gate.TaskSummary())
        if a.errors != b.errors:
            out.append(
                f"| {task} | errors | {a.errors} | {b.errors} | {b.errors - a.errors:+d} | |"
            )
            changed_metrics += 1
        for metric in sorted(set(a.metrics) | set(b.metrics)):
            ma, mb = a.metrics.get(metric), b.metrics.get(metric)
            va = ma.mean if ma else None
            vb = mb.mean if mb else None
            if va is not None and vb is not None and abs(va - vb) <= _EPSILON:
                continue
            change = (vb - va) if va is not None and vb is not None else None
            verdict = (
                _verdict(metric, change) if change is not None else "new" if ma is None else "gone"
            )
            out.append(
                f"| {task} | {metric} | {_value(va)} | {_value(vb)} | "
                f"{'-' if change is None else f'{change:+.3f}'} | {verdict} |"
            )
            changed_metrics += 1
    if not changed_metrics:
        out.append("| (all) | no metric changed | | | | |")
    out += ["", "## Cases that changed", ""]
    changed_cases = 0
    for key in sorted(set(rows_a) | set(rows_b), key=lambda k: (k[0], k[1])):
        lines = _case_lines(rows_a.get(key), rows_b.get(key))
        if lines:
            name = key[0] if key[1] == 1 else f"{key[0]} (turn {key[1]})"
            out.append(f"### {name}")
            out += ["", *lines, ""]
            changed_cases += 1
    if not changed_cases:
        out.append("No case changed.")
    return "\n".join(out).rstrip() + "\n"


def _case_lines(a: CaseRow | None, b: CaseRow | None) -> list[str]:
    if a is None or b is None:
        return ["- only in " + ("B" if a is None else "A")]
    lines: list[str] = []
    if a.error != b.error:
        lines.append(f"- error: {a.error or 'none'} -> {b.error or 'none'}")
    for metric in sorted(set(a.metrics) | set(b.metrics)):
        va, vb = a.metrics.get(metric), b.metrics.get(metric)
        if va == vb or (va is not None and vb is not None and abs(va - vb) <= _EPSILON):
            continue
        verdict = _verdict(metric, vb - va) if va is not None and vb is not None else ""
        lines.append(f"- {metric}: {_value(va)} -> {_value(vb)} {verdict}".rstrip())
    if a.cited != b.cited:
        lost = [pid for pid in a.cited if pid not in b.cited]
        won = [pid for pid in b.cited if pid not in a.cited]
        lines.append(f"- cited: lost {lost or 'none'}, gained {won or 'none'}")
    for stage in LOSS_STAGES:
        before, after = a.losses.get(stage, []), b.losses.get(stage, [])
        new = [item for item in after if item not in before]
        fixed = [item for item in before if item not in after]
        lines += [f"- now loses at {stage}: {item}" for item in new]
        lines += [f"- no longer loses at {stage}: {item}" for item in fixed]
    if not lines and a.text != b.text:
        lines.append("- text changed, scores did not")
    return lines
