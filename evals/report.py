"""Readable reports of a suite run: Markdown, and HTML with inline SVG bar charts.

Both show, per task, each metric's mean and the number of cases it applied to, with false and
correct abstentions side by side; the thresholds and ROUGE settings the figures depend on; the
regression gate's verdict; every case with its error or headline scores; where each case lost
points, by pipeline stage, and how many cases lost points at each stage; and the sentences the
grounding checks flagged. The HTML is one
self-contained file (no scripts, no remote assets).
"""

from __future__ import annotations

import html

from evals import metrics
from evals.gate import MetricSummary
from evals.run import LOSS_MEANING, LOSS_STAGES, CaseRow, SuiteRun

# Metrics that are shares in [0, 1] and so share one chart scale; the rest are listed only.
_COST = ("llm_calls", "tokens")
_HEADLINE = ("retrieved_recall", "cited_precision", "rougeL", "key_point_coverage")


GLOSSARY = {
    "retrieved_recall / _precision / _ndcg": "gold papers among the first k returned "
    "(a briefing: all its papers), binary-relevance nDCG@k",
    "cited_recall / _precision / _ndcg": "the same for the papers the text cites",
    "exact_set": "1 when a briefing holds exactly the gold papers",
    "rouge1 / rouge2 / rougeL": "F1 against the reference note",
    "embedding_similarity": "cosine of output and reference embeddings (pb.embedder)",
    "key_point_coverage": "share of key points covered",
    "citation_grounding": "share of citations that point to retrieved papers",
    "number_grounding": "share of sentences with a number whose numbers all occur in "
    "the cited abstracts",
    "supported_sentences": "share of citing sentences supported by their cited abstracts",
    "abstention_correct": "1 when the answer abstains exactly when the case expects it",
    "false_abstention": "ask/compare cases with gold papers: 1 when the output abstains or "
    "cites none of them (lower is better)",
    "correct_abstention": "ask/compare cases expecting an abstention (out of scope): 1 when "
    "the output abstains, i.e. cites nothing",
    "llm_calls / tokens": "cost per case (not gated)",
}


def settings_note() -> str:
    return (
        f"ROUGE F1, stemming {'on' if metrics.ROUGE_STEMMING else 'off'}, per case then mean; "
        f"key point similarity >= {metrics.KEY_POINT_SIMILARITY}; "
        f"sentence support: content-word share >= {metrics.LEXICAL_SUPPORT} "
        f"or embedding similarity >= {metrics.EMBEDDING_SUPPORT}"
    )


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _gate_lines(run: SuiteRun) -> list[str]:
    if run.baseline is None:
        return ["No baseline given."]
    if not run.regressions:
        return [f"PASS against `{run.baseline}`: no metric dropped beyond its tolerance."]
    return [f"FAIL against `{run.baseline}`:"] + [f"- {reg}" for reg in run.regressions]


def markdown_report(run: SuiteRun) -> str:
    out = [
        f"# Eval run: {run.suite.name} ({run.mode})",
        "",
        f"Started {run.started}; {len(run.rows)} cases; k = {run.aggregate.k}; store: {run.store}.",
        f"{settings_note()}.",
        f"Key points judged by: {run.key_points_judged_by}.",
        "",
        "## Gate",
        "",
        *_gate_lines(run),
        "",
        "## Per task",
    ]
    for task, summary in run.aggregate.tasks.items():
        latencies = [row.latency_s for row in run.rows if row.task == task and not row.error]
        mean_latency = sum(latencies) / len(latencies) if latencies else None
        out += [
            "",
            f"### {task} ({summary.cases} cases, {summary.errors} errors, "
            f"mean latency {_fmt(mean_latency)} s)",
            "",
            *_abstention_line(summary.metrics),
            "| metric | mean | n |",
            "| --- | --- | --- |",
        ]
        out += [
            f"| {name} | {_fmt(value.mean)} | {value.n} |"
            for name, value in summary.metrics.items()
        ]
    out += ["", "## Cases", "", "| case | task | " + " | ".join(_HEADLINE) + " | note |"]
    out.append("| --- | --- | " + " | ".join("---" for _ in _HEADLINE) + " | --- |")
    for row in run.rows:
        cells = [_fmt(row.metrics.get(name)) for name in _HEADLINE]
        note = f"ERROR: {row.error}" if row.error else f"{row.latency_s:.2f} s"
        out.append(f"| {_row_name(row)} | {row.task} | " + " | ".join(cells) + f" | {note} |")
    out += _loss_section(run.rows)
    flagged = [row for row in run.rows if row.unsupported or row.ungrounded_numbers]
    if flagged:
        out += ["", "## Flagged sentences", ""]
        for row in flagged:
            out += [f"- `{row.id}` unsupported: {s}" for s in row.unsupported]
            out += [
                f"- `{row.id}` number not in cited abstracts: {s}" for s in row.ungrounded_numbers
            ]
    missed = [row for row in run.rows if row.key_points_missed]
    if missed:
        out += ["", "## Key points missed", ""]
        for row in missed:
            out += [f"- `{row.id}`: {point}" for point in row.key_points_missed]
    out += ["", "## Metrics", ""]
    out += [f"- `{name}`: {meaning}" for name, meaning in GLOSSARY.items()]
    return "\n".join(out) + "\n"


def _row_name(row: CaseRow) -> str:
    return row.id if row.turn == 1 else f"{row.id} (turn {row.turn})"


def _abstention_line(summary: dict[str, MetricSummary]) -> list[str]:
    false, correct = summary.get("false_abstention"), summary.get("correct_abstention")
    if false is None and correct is None:
        return []
    parts = []
    if false is not None:
        parts.append(f"false abstention {false.mean:.3f} of {false.n} cases with gold papers")
    if correct is not None:
        parts.append(f"correct abstention {correct.mean:.3f} of {correct.n} out-of-scope cases")
    return ["Abstention: " + "; ".join(parts) + ".", ""]


def loss_counts(rows: list[CaseRow]) -> dict[str, dict[str, int]]:
    """Task -> stage -> number of rows that lost points there (stages in pipeline order)."""
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        for stage in LOSS_STAGES:
            if stage in row.losses:
                per_task = counts.setdefault(row.task, {})
                per_task[stage] = per_task.get(stage, 0) + 1
    return counts


def _loss_section(rows: list[CaseRow]) -> list[str]:
    counts = loss_counts(rows)
    if not counts:
        return []
    out = ["", "## Where cases lost points", "", "| task | " + " | ".join(LOSS_STAGES) + " |"]
    out.append("| --- | " + " | ".join("---" for _ in LOSS_STAGES) + " |")
    for task, per_stage in counts.items():
        out.append(
            f"| {task} | " + " | ".join(str(per_stage.get(s, 0)) for s in LOSS_STAGES) + " |"
        )
    out.append("")
    for row in rows:
        if not row.losses:
            continue
        out.append(f"- `{_row_name(row)}`")
        for stage in LOSS_STAGES:
            for item in row.losses.get(stage, []):
                out.append(f"  - {stage}: {item}")
    out += ["", "Stages:", ""]
    out += [f"- `{stage}`: {LOSS_MEANING[stage]}" for stage in LOSS_STAGES]
    return out


def bar_chart(
    title: str,
    bars: list[tuple[str, float]],
    marks: dict[str, float] | None = None,
    width: int = 560,
) -> str:
    """A horizontal bar chart of values in [0, 1] as an inline SVG element; `marks` draws a
    red tick per label (the baseline's value)."""
    marks = marks or {}
    label_width, bar_height, gap, top = 170, 18, 6, 28
    plot = width - label_width - 60
    height = top + len(bars) * (bar_height + gap) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{html.escape(title)}">',
        f'<text x="0" y="16" font-weight="bold" font-size="14">{html.escape(title)}</text>',
    ]
    for i, (label, value) in enumerate(bars):
        y = top + i * (bar_height + gap)
        length = max(0.0, min(1.0, value)) * plot
        parts += [
            f'<text x="{label_width - 6}" y="{y + 13}" text-anchor="end" font-size="12">'
            f"{html.escape(label)}</text>",
            f'<rect x="{label_width}" y="{y}" width="{plot}" height="{bar_height}" fill="#eee"/>',
            f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar_height}" '
            f'fill="#3b6ea5"><title>{html.escape(label)}: {value:.3f}</title></rect>',
            f'<text x="{label_width + plot + 6}" y="{y + 13}" font-size="12">{value:.3f}</text>',
        ]
        if label in marks:
            x = label_width + max(0.0, min(1.0, marks[label])) * plot
            parts.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y - 2}" y2="{y + bar_height + 2}" '
                f'stroke="#c0392b" stroke-width="2"><title>baseline: {marks[label]:.3f}</title>'
                "</line>"
            )
    parts.append("</svg>")
    return "".join(parts)


def html_report(run: SuiteRun) -> str:
    esc = html.escape
    body = [
        f"<h1>Eval run: {esc(run.suite.name)} ({esc(run.mode)})</h1>",
        f"<p>Started {esc(run.started)}; {len(run.rows)} cases; k = {run.aggregate.k}; "
        f"store: {esc(run.store)}. "
        f"{esc(settings_note())}. Key points judged by: {esc(run.key_points_judged_by)}.</p>",
        "<h2>Gate</h2>",
        "<ul>" + "".join(f"<li>{esc(line.lstrip('- '))}</li>" for line in _gate_lines(run)),
        "</ul>",
        "<h2>Per task</h2>",
    ]
    for task, summary in run.aggregate.tasks.items():
        bars = [(name, value.mean) for name, value in summary.metrics.items() if name not in _COST]
        latencies = [row.latency_s for row in run.rows if row.task == task and not row.error]
        mean_latency = sum(latencies) / len(latencies) if latencies else None
        body.append(
            f"<h3>{esc(task)}: {summary.cases} cases, {summary.errors} errors, "
            f"mean latency {_fmt(mean_latency)} s</h3>"
        )
        body += [f"<p>{esc(line)}</p>" for line in _abstention_line(summary.metrics) if line]
        base = run.baseline_aggregate.tasks.get(task) if run.baseline_aggregate else None
        marks = {name: value.mean for name, value in base.metrics.items()} if base else {}
        if bars:
            title = f"{task}: mean per metric" + (" (red tick: baseline)" if marks else "")
            body.append(bar_chart(title, bars, marks))
        rows = "".join(
            f"<tr><td>{esc(name)}</td><td>{value.mean:.3f}</td><td>{value.n}</td></tr>"
            for name, value in summary.metrics.items()
        )
        body.append(f"<table><tr><th>metric</th><th>mean</th><th>n</th></tr>{rows}</table>")
    body.append("<h2>Cases</h2><table><tr><th>case</th><th>task</th>")
    body.append("".join(f"<th>{esc(name)}</th>" for name in _HEADLINE) + "<th>note</th></tr>")
    for row in run.rows:
        cells = "".join(f"<td>{_fmt(row.metrics.get(name))}</td>" for name in _HEADLINE)
        note = f"ERROR: {row.error}" if row.error else f"{row.latency_s:.2f} s"
        body.append(
            f"<tr><td>{esc(_row_name(row))}</td><td>{esc(row.task)}</td>{cells}"
            f"<td>{esc(note)}</td></tr>"
        )
    body.append("</table>")
    counts = loss_counts(run.rows)
    if counts:
        head = "".join(f"<th>{esc(stage)}</th>" for stage in LOSS_STAGES)
        body.append(f"<h2>Where cases lost points</h2><table><tr><th>task</th>{head}</tr>")
        for task, per_stage in counts.items():
            cells = "".join(f"<td>{per_stage.get(stage, 0)}</td>" for stage in LOSS_STAGES)
            body.append(f"<tr><td>{esc(task)}</td>{cells}</tr>")
        body.append("</table><ul>")
        for row in run.rows:
            items = [
                f"<li>{esc(stage)}: {esc(item)}</li>"
                for stage in LOSS_STAGES
                for item in row.losses.get(stage, [])
            ]
            if items:
                body.append(f"<li><code>{esc(_row_name(row))}</code><ul>{''.join(items)}</ul></li>")
        body.append("</ul><p>Stages:</p><ul>")
        body += [
            f"<li><code>{esc(stage)}</code>: {esc(LOSS_MEANING[stage])}</li>"
            for stage in LOSS_STAGES
        ]
        body.append("</ul>")
    flagged = [
        (_row_name(row), kind, sentence)
        for row in run.rows
        for kind, sentences in (
            ("unsupported", row.unsupported),
            ("number not in cited abstracts", row.ungrounded_numbers),
            ("key point missed", row.key_points_missed),
        )
        for sentence in sentences
    ]
    if flagged:
        body.append("<h2>Flagged</h2><ul>")
        body += [f"<li><code>{esc(i)}</code> {esc(k)}: {esc(s)}</li>" for i, k, s in flagged]
        body.append("</ul>")
    body.append("<h2>Metrics</h2><ul>")
    body += [f"<li><code>{esc(k)}</code>: {esc(v)}</li>" for k, v in GLOSSARY.items()]
    body.append("</ul>")
    style = (
        "body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
        "table{border-collapse:collapse;margin:.5rem 0}"
        "td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}"
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Eval {esc(run.suite.name)}</title><style>{style}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )
