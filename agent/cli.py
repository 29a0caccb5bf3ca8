"""The `paperbrief` command: a thin argparse client of `PaperBrief`.

Each subcommand is a `register_<name>(subparsers)` function that adds its parser and sets
`handler` to a `run_<name>(args) -> int` function. Adding a subcommand is writing that pair and
naming the register function in `REGISTRARS`. Handlers build the API with `open_brief(args)`,
print results on stdout (JSON with `--json`) and problems on stderr; the exit code is 0 on
success, 1 when something failed or a record was rejected, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from agent.api import PaperBrief, PaperNotFoundError, as_date
from agent.llm import LLMError
from agent.mail import MailError
from agent.settings import Settings, load_settings
from store.chroma import StoreError
from store.models import Hit
from store.sources import FORMATS, SourceError

Registrar = Callable[[Any], None]  # receives argparse's subparsers action


def load_cli_settings(config: str | None) -> Settings:
    """Settings as the library reads them, with `--config` standing in for PAPERBRIEF_CONFIG."""
    if config is None:
        return load_settings()
    previous = os.environ.get("PAPERBRIEF_CONFIG")
    os.environ["PAPERBRIEF_CONFIG"] = config
    try:
        return load_settings()
    finally:
        if previous is None:
            del os.environ["PAPERBRIEF_CONFIG"]
        else:
            os.environ["PAPERBRIEF_CONFIG"] = previous


def open_brief(args: argparse.Namespace) -> PaperBrief:
    """The `PaperBrief` the global options describe."""
    return PaperBrief(data_dir=args.data_dir, settings=load_cli_settings(args.config))


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


def _date_arg(text: str) -> str:
    """argparse type for dates: validated here, so a bad date is a usage error (exit 2)."""
    try:
        as_date(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (expected YYYY-MM-DD)") from exc
    return text


# -- ingest -----------------------------------------------------------------------------------


def register_ingest(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "ingest",
        help="add or update papers from a file or URL (idempotent)",
        description="Add or update papers from a file or URL. Re-running is safe: unchanged "
        "papers are skipped, changed abstracts replace the old ones, an interrupted run is "
        "completed.",
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("source", nargs="?", metavar="PATH|URL", help="file or URL to read")
    target.add_argument(
        "--sample", action="store_true", help="the bundled Daily Papers page of 2025-11-06"
    )
    parser.add_argument("--format", choices=FORMATS, help="source format (default: detected)")
    parser.add_argument(
        "--page-date", type=_date_arg, metavar="YYYY-MM-DD", help="date of a Daily Papers page"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(handler=run_ingest)


def run_ingest(args: argparse.Namespace) -> int:
    brief = open_brief(args)
    if args.sample:
        report = brief.ingest_sample(progress=True)
    else:
        report = brief.ingest(args.source, fmt=args.format, page_date=args.page_date, progress=True)
    for rejection in report.rejected:
        print(f"rejected: {rejection}", file=sys.stderr)
    if args.json:
        print(report.model_dump_json(indent=2))
    else:
        print(
            f"{report.source}: {report.summary()}; {report.embedded} embedded in "
            f"{report.seconds:.1f}s; {brief.store.count()} papers stored"
        )
    return 0 if report.ok else 1


# -- search -----------------------------------------------------------------------------------


def register_search(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "search", help="hybrid search (meaning + keywords) over the stored papers"
    )
    parser.add_argument("query", help="what to look for")
    parser.add_argument("-k", type=int, default=10, help="number of results (default 10)")
    parser.add_argument("--since", type=_date_arg, metavar="YYYY-MM-DD", help="published on/after")
    parser.add_argument("--until", type=_date_arg, metavar="YYYY-MM-DD", help="published on/before")
    parser.add_argument("--min-upvotes", type=int, metavar="N", help="at least N upvotes")
    parser.add_argument("--has-code", action="store_true", help="only papers with a code link")
    parser.add_argument("--diverse", action="store_true", help="spread results over topics (MMR)")
    parser.add_argument("--json", action="store_true", help="print the hits as JSON")
    parser.set_defaults(handler=run_search)


def format_hit(rank: int, hit: Hit) -> str:
    paper = hit.paper
    facts = [paper.published.isoformat() if paper.published else "undated"]
    if paper.upvotes is not None:
        facts.append(f"{paper.upvotes} upvotes")
    if paper.has_code:
        facts.append("code")
    lines = [f"{rank:2d}. [{paper.id}] {paper.title} ({', '.join(facts)})"]
    if paper.url:
        lines.append(f"    {paper.url}")
    return "\n".join(lines)


def run_search(args: argparse.Namespace) -> int:
    hits = open_brief(args).search(
        args.query,
        k=args.k,
        since=args.since,
        until=args.until,
        min_upvotes=args.min_upvotes,
        has_code=True if args.has_code else None,
        diverse=args.diverse,
    )
    if args.json:
        print_json([hit.model_dump(mode="json") for hit in hits])
        return 0
    if not hits:
        print("no matching papers", file=sys.stderr)
    for rank, hit in enumerate(hits, start=1):
        print(format_hit(rank, hit))
    return 0


# -- stats ------------------------------------------------------------------------------------


def register_stats(subparsers: Any) -> None:
    parser = subparsers.add_parser("stats", help="what the store holds")
    parser.add_argument("--json", action="store_true", help="print the statistics as JSON")
    parser.set_defaults(handler=run_stats)


def run_stats(args: argparse.Namespace) -> int:
    stats = open_brief(args).stats()
    if args.json:
        print_json(stats)
        return 0
    for key, value in stats.items():
        if isinstance(value, dict):
            print(f"{key}:")
            for name, count in value.items():
                print(f"  {name}: {count}")
        else:
            print(f"{key}: {value}")
    return 0


# -- eval -------------------------------------------------------------------------------------


def register_eval(subparsers: Any) -> None:
    from evals.cli import add_eval_arguments

    parser = subparsers.add_parser(
        "eval",
        help="run an eval suite (or a SciTLDR / Multi-XScience benchmark) through the API",
        description="Run every case of an eval suite through the Python API and write scored "
        "JSON Lines plus Markdown and HTML reports; with --baseline, exit 1 when a metric drops "
        "beyond its tolerance. An empty store gets the bundled sample ingested first.",
    )
    add_eval_arguments(parser)
    parser.set_defaults(handler=run_eval)


def run_eval(args: argparse.Namespace) -> int:
    from evals.cli import run_eval_command

    return run_eval_command(args, open_brief)


# -- doctor -----------------------------------------------------------------------------------


def register_doctor(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check the LLM endpoint, model, embedder and data dir, and say how to fix them",
        description="Check the configured setup: LLM endpoint reachable, model served, a chat "
        "completion and a JSON reply work (json_schema or the json_object fallback), the "
        "embedding model loads, the data directory is writable. Exit 1 when a check fails.",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(handler=run_doctor)


def run_doctor(args: argparse.Namespace) -> int:
    # Straight from the settings, not through PaperBrief: the doctor must still report when
    # the store or the embedder cannot be opened.
    from agent.doctor import run_doctor as doctor

    settings = load_cli_settings(args.config)
    if args.data_dir is not None:
        settings = settings.model_copy(update={"data_dir": Path(args.data_dir).expanduser()})
    report = doctor(settings)
    print(report.model_dump_json(indent=2) if args.json else report.to_text())
    return 0 if report.ok else 1


# -- brief ------------------------------------------------------------------------------------


def register_brief(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "brief",
        help="the weekly briefing: themes, top picks, trending; written, printed or mailed",
        description="Build the briefing of a week (default: the last complete ISO week) and "
        "print it as Markdown, write it (--out) or mail it (--send). Papers sent in an "
        "earlier briefing are listed apart, not as new; a week is mailed once per recipient "
        "list unless --force.",
    )
    parser.add_argument("--week", metavar="YYYY-Www", help="ISO week, e.g. 2025-W21")
    parser.add_argument("--since", type=_date_arg, metavar="YYYY-MM-DD", help="first day")
    parser.add_argument("--until", type=_date_arg, metavar="YYYY-MM-DD", help="last day")
    parser.add_argument(
        "--interest",
        action="append",
        metavar="TEXT",
        help="an interest for the top picks (repeatable; default: recommend.interests)",
    )
    parser.add_argument(
        "--fetch",
        action="store_true",
        help="first ingest the period from the Hugging Face Daily Papers API (one request a day)",
    )
    parser.add_argument(
        "--out",
        metavar="PATH",
        help="write PATH.md, PATH.html and PATH.txt (a directory gets briefing-<week>.*)",
    )
    parser.add_argument(
        "--format",
        choices=("md", "html", "text", "json"),
        default="md",
        help="what to print when neither --out nor --send is given (default md)",
    )
    parser.add_argument("--send", action="store_true", help="mail it (settings: email.*)")
    parser.add_argument(
        "--to",
        action="append",
        metavar="ADDR",
        help="recipient(s), repeatable or comma-separated (overrides email.recipients)",
    )
    parser.add_argument(
        "--force", action="store_true", help="send even if this week already went to them"
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="write the mail as an .eml file (next to --out, else ./briefing-<week>.eml) "
        "instead of sending it",
    )
    parser.set_defaults(handler=run_brief)


def run_brief(args: argparse.Namespace) -> int:
    from agent.briefing import (
        build_briefing,
        deliver_briefing,
        fetch_period,
        output_paths,
        period_label,
        resolve_period,
        write_briefing,
    )

    start, end = resolve_period(args.week, as_date(args.since), as_date(args.until))
    brief = open_brief(args)
    fetched = []
    if args.fetch:
        report = fetch_period(brief, start, end)
        print(report.summary(), file=sys.stderr)
        fetched = report.papers
    briefing = build_briefing(brief, start, end, args.interest, include=fetched)
    if args.out:
        for path in write_briefing(briefing, Path(args.out)):
            print(path)
    if args.send or args.dry_run:
        recipients = [r for value in args.to or [] for r in value.split(",") if r.strip()]
        eml = None
        if args.dry_run:
            label = period_label(briefing.start, briefing.end)
            base = Path(args.out) if args.out else Path(f"briefing-{label}")
            eml = output_paths(base, briefing)["md"].with_suffix(".eml")
        delivery = deliver_briefing(
            brief, briefing, recipients or None, force=args.force, dry_run=eml
        )
        print(delivery.summary())
    if not args.out and not (args.send or args.dry_run):
        if args.format == "json":
            print(briefing.model_dump_json(indent=2))
        else:
            renderings = {"md": briefing.markdown, "html": briefing.html, "text": briefing.text}
            print(renderings[args.format], end="")
    return 0


# -- entry point ------------------------------------------------------------------------------

REGISTRARS: tuple[Registrar, ...] = (
    register_ingest,
    register_search,
    register_stats,
    register_eval,
    register_doctor,
    register_brief,
)

# Errors a user can cause and fix (bad file, bad setting, unreachable server): one line on
# stderr, exit 1. Anything else is a bug and keeps its traceback.
USER_ERRORS: tuple[type[Exception], ...] = (
    SourceError,
    StoreError,
    PaperNotFoundError,
    LLMError,
    MailError,
    FileNotFoundError,
    ValueError,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paperbrief",
        description="Reads paper abstracts for you: search, answers, comparisons, briefings.",
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="where the store and caches live (default: PAPERBRIEF_DATA_DIR or "
        "~/.local/share/paperbrief)",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="TOML config file (default: PAPERBRIEF_CONFIG or ./paperbrief.toml)",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in REGISTRARS:
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except USER_ERRORS as exc:
        print(f"paperbrief: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("paperbrief: interrupted; papers already written are kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
