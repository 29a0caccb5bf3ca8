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
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from agent.api import PaperBrief, as_date
from agent.compose import NOT_COVERED
from agent.errors import (
    USER_ERRORS,
    InvalidInputError,
    LLMError,
    PaperNotFoundError,
    UnknownPapersError,
)
from agent.inputs import check_k, check_min_upvotes
from agent.results import Answer
from agent.settings import Settings, load_settings
from store.models import Hit
from store.sources import FORMATS

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
    """The `PaperBrief` the global options describe (kept on `args`, so that `main` can report
    what its LLM spent, and save a failed run)."""
    brief = PaperBrief(data_dir=args.data_dir, settings=load_cli_settings(args.config))
    args.opened_brief = brief
    return brief


def begin_run(args: argparse.Namespace, kind: str, request: dict[str, Any]) -> None:
    """Note what a run asks, so that with `--save-run` a failure is recorded too."""
    args.run = (kind, request)


def save_failed_run(args: argparse.Namespace, error: BaseException) -> None:
    brief: PaperBrief | None = getattr(args, "opened_brief", None)
    run = getattr(args, "run", None)
    if not getattr(args, "save_run", None) or brief is None or run is None:
        return
    kind, request = run
    folder = brief.save_failed_run(error, args.save_run, kind=kind, request=request)
    print(f"failed run saved: {folder}", file=sys.stderr)


def report_llm_usage(args: argparse.Namespace) -> None:
    """In LLM mode, what the command's LLM calls cost, on stderr (failed calls included)."""
    brief: PaperBrief | None = getattr(args, "opened_brief", None)
    usage = brief.llm_usage() if brief is not None else None
    if usage is None or not (usage.llm_calls or usage.cached_calls):
        return
    parts = [
        f"{usage.llm_calls} call(s)"
        + (f" (+{usage.cached_calls} from cache)" if usage.cached_calls else ""),
        f"{usage.prompt_tokens:,} prompt + {usage.completion_tokens:,} completion tokens",
    ]
    if usage.retries:
        parts.append(f"{usage.retries} retr{'y' if usage.retries == 1 else 'ies'}")
    if usage.repairs:
        parts.append(f"{usage.repairs} repair(s)")
    if usage.cost_usd is not None:
        parts.append(f"~${usage.cost_usd:.4f}")
    print(f"LLM: {', '.join(parts)}", file=sys.stderr)


def save_run(
    args: argparse.Namespace, brief: PaperBrief, kind: str, request: dict[str, Any], result: Any
) -> None:
    """With `--save-run DIR`, save the run's artifacts under DIR and say where on stderr."""
    if args.save_run:
        folder = brief.save_run(result, args.save_run, kind=kind, request=request)
        print(f"run saved: {folder}", file=sys.stderr)


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


def _api_checked(check: Callable[[int], int | None]) -> Callable[[str], int]:
    """An argparse type for a whole number that the API checks with `check` (`agent.inputs`),
    so the CLI refuses exactly what the API refuses, as a usage error (exit 2)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from exc
        try:
            return check(value) or 0
        except InvalidInputError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from exc

    return parse


_count_arg = _api_checked(check_k)  # -k
_upvotes_arg = _api_checked(check_min_upvotes)  # --min-upvotes


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
    parser.add_argument("-k", type=_count_arg, default=10, help="number of results (default 10)")
    parser.add_argument("--since", type=_date_arg, metavar="YYYY-MM-DD", help="published on/after")
    parser.add_argument("--until", type=_date_arg, metavar="YYYY-MM-DD", help="published on/before")
    parser.add_argument("--min-upvotes", type=_upvotes_arg, metavar="N", help="at least N upvotes")
    parser.add_argument("--has-code", action="store_true", help="only papers with a code link")
    parser.add_argument("--diverse", action="store_true", help="spread results over topics (MMR)")
    parser.add_argument("--json", action="store_true", help="print the hits as JSON")
    parser.set_defaults(handler=run_search)


def format_hit(rank: int, hit: Hit) -> str:
    paper = hit.paper
    facts = [paper.published.isoformat() if paper.published else "undated"]
    if paper.upvotes is not None:
        facts.append(f"{paper.upvotes} upvote{'' if paper.upvotes == 1 else 's'}")
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
        nargs="?",
        const="daily-papers",
        metavar="SOURCE",
        help="first ingest the period's listing: daily-papers (the default: the Hugging Face "
        "Daily Papers API, one request a day) or arxiv:CATEGORY (e.g. arxiv:cs.CL, the arXiv "
        "API's listing of that category, paged politely)",
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
    from agent.periods import resolve_period

    start, end = resolve_period(args.week, as_date(args.since), as_date(args.until))
    brief = open_brief(args)
    request = {"start": start.isoformat(), "end": end.isoformat(), "interests": args.interest}
    begin_run(args, "brief", request)
    fetched = []
    if args.fetch:
        report = brief.fetch(args.fetch, start, end)
        print(report.summary(), file=sys.stderr)
        fetched = report.papers
    briefing = brief.briefing(start, end, args.interest, include=fetched)
    save_run(args, brief, "brief", request, briefing)
    if args.out:
        for path in brief.write_briefing(briefing, args.out):
            print(path)
    if args.send or args.dry_run:
        recipients = [r for value in args.to or [] for r in value.split(",") if r.strip()]
        delivery = brief.send_briefing(
            briefing, recipients or None, force=args.force, dry_run=args.dry_run, out=args.out
        )
        print(delivery.summary())
    if not args.out and not (args.send or args.dry_run):
        if args.format == "json":
            print(briefing.model_dump_json(indent=2))
        else:
            renderings = {"md": briefing.markdown, "html": briefing.html, "text": briefing.text}
            print(renderings[args.format], end="")
    return 0


# -- ask, chat, compare, recommend, tldr -------------------------------------------------------


def register_ask(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "ask",
        help="a cited answer from the stored abstracts",
        description="Answer a question from the stored abstracts: every factual sentence cites "
        "its papers [n], with a numbered source list. Pass --thread to follow up on an earlier "
        "answer (its thread id is printed on stderr).",
    )
    parser.add_argument("question", help="the question")
    parser.add_argument("--thread", metavar="ID", help="continue this conversation thread")
    parser.add_argument("--json", action="store_true", help="print the answer as JSON")
    parser.set_defaults(handler=run_ask)


def run_ask(args: argparse.Namespace) -> int:
    brief = open_brief(args)
    begin_run(args, "ask", {"question": args.question, "thread_id": args.thread})
    answer = brief.ask(args.question, thread_id=args.thread)
    if args.json:
        print(answer.model_dump_json(indent=2))
    else:
        print(answer.markdown, end="")
        print(f"thread: {answer.thread_id}", file=sys.stderr)
    save_run(args, brief, "ask", {"question": args.question, "thread_id": args.thread}, answer)
    return 0


CHAT_HELP = "/sources: sources of the last answer  /new: new thread  /quit: leave"


def register_chat(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "chat",
        help="interactive questions and follow-ups (reads lines from stdin)",
        description="Ask questions one line at a time; follow-ups keep the conversation. "
        "Answers stream as they are written. " + CHAT_HELP,
    )
    parser.add_argument("--thread", metavar="ID", help="resume this conversation thread")
    parser.set_defaults(handler=run_chat)


def _print_sources(answer: Answer | None) -> None:
    if answer is None or not answer.sources:
        print("(no sources)")
        return
    for source in answer.sources:
        date = f", {source.published.isoformat()}" if source.published else ""
        link = f" {source.url}" if source.url else ""
        print(f"[{source.n}] {source.title}{date} ({source.paper_id}){link}")


def run_chat(args: argparse.Namespace) -> int:
    brief = open_brief(args)
    thread: str | None = args.thread
    last: Answer | None = None
    interactive = sys.stdin.isatty()
    if interactive:
        print(f"paperbrief chat ({CHAT_HELP})", file=sys.stderr)
    warm = False
    while True:
        if interactive:
            print("> ", end="", file=sys.stderr, flush=True)
        if not warm:
            # The model loads while the first question is typed (the terminal keeps what is
            # typed meanwhile), so the first answer comes as fast as the next.
            brief.warm_up()
            warm = True
        line = sys.stdin.readline()
        if not line:
            break
        question = line.strip()
        if not question:
            continue
        if question in ("/quit", "/exit"):
            break
        if question == "/new":
            thread, last = None, None
            print("(new thread)")
            continue
        if question == "/sources":
            _print_sources(last)
            continue
        if question.startswith("/"):
            print(f"unknown command {question}; {CHAT_HELP}")
            continue
        streamed = False
        answered: Answer | None = None
        try:
            for event in brief.ask_stream(question, thread_id=thread):
                kind = event["event"]
                if kind == "token":
                    print(event["text"], end="", flush=True)
                    streamed = True
                elif kind == "sentence" and not streamed:
                    print(event["text"], end=" ", flush=True)
                elif kind == "answer":
                    answered = event["answer"]
        except CHAT_ERRORS as exc:
            # One failed answer (a slow or stopped server, a reply that ran on) does not end
            # the session: the thread and its earlier turns are kept for the next question.
            print()
            print(f"paperbrief: error: {exc}", file=sys.stderr)
            kept = f"thread {thread} is kept" if thread else "nothing was lost"
            print(f"(no answer; {kept}: ask again, or /new)", file=sys.stderr)
            continue
        print()
        if answered is None:
            continue
        last = answered
        if streamed and last.abstained:
            # The model's streamed "NOT COVERED" (or text the verifier removed in full).
            print(NOT_COVERED)
        thread = last.thread_id
        if last.removed:
            print(f"({len(last.removed)} sentence(s) removed by verification)")
        if last.mode == "offline":
            print("(offline extractive summary)")
        _print_sources(last)
        print()
    return 0


def register_compare(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "compare",
        help="compare the papers on a topic, or the papers you name",
        description="A comparison table (problem, approach, key result, needs training, code) "
        "and a written comparison: what the papers share, where they differ, which to read "
        "first.",
    )
    parser.add_argument("query", nargs="?", help="a topic (the relevant papers are retrieved)")
    parser.add_argument("--papers", nargs="+", metavar="ID", help="compare exactly these papers")
    parser.add_argument("--json", action="store_true", help="print the comparison as JSON")
    parser.set_defaults(handler=run_compare)


def run_compare(args: argparse.Namespace) -> int:
    if not args.query and not args.papers:
        print("paperbrief: error: give a topic or --papers ID ...", file=sys.stderr)
        return 2
    brief = open_brief(args)
    begin_run(args, "compare", {"query": args.query, "paper_ids": args.papers})
    comparison = brief.compare(args.query, paper_ids=args.papers)
    if args.json:
        print(comparison.model_dump_json(indent=2))
    else:
        print(comparison.markdown, end="")
    request = {"query": args.query, "paper_ids": args.papers}
    save_run(args, brief, "compare", request, comparison)
    return 0


def register_recommend(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "recommend",
        help="what to read next, for your interests",
        description="Rank the stored papers by relevance to your interests (and to papers you "
        "liked), recency and upvotes, each with a one-sentence reason. Only papers whose "
        "relevance evidence clears the floor for an interest are recommended: an interest the "
        "store has nothing on is named, with the papers that came closest.",
    )
    parser.add_argument("interests", nargs="+", metavar="INTEREST", help="what you care about")
    parser.add_argument("-k", type=_count_arg, default=5, help="number of papers (default 5)")
    parser.add_argument("--since", type=_date_arg, metavar="YYYY-MM-DD", help="published on/after")
    parser.add_argument("--until", type=_date_arg, metavar="YYYY-MM-DD", help="published on/before")
    parser.add_argument("--liked", nargs="+", metavar="ID", help="papers you liked")
    parser.add_argument("--json", action="store_true", help="print the recommendations as JSON")
    parser.set_defaults(handler=run_recommend)


def run_recommend(args: argparse.Namespace) -> int:
    reading = open_brief(args).reading_list(
        args.interests, k=args.k, since=args.since, until=args.until, liked=args.liked
    )
    if args.json:
        print_json([pick.model_dump(mode="json") for pick in reading.picks])
        if reading.notice:
            print(reading.notice, file=sys.stderr)
        return 0
    if reading.notice:
        print(reading.notice)
    elif not reading.picks:
        print("no papers to recommend", file=sys.stderr)
    for rank, pick in enumerate(reading.picks, start=1):
        paper = pick.paper
        date = paper.published.isoformat() if paper.published else "undated"
        print(f"{rank:2d}. [{paper.id}] {paper.title} ({date}, score {pick.score:.2f})")
        print(f"    {pick.reason}")
    return 0


def register_tldr(subparsers: Any) -> None:
    parser = subparsers.add_parser("tldr", help="the one-sentence takeaway of a paper")
    parser.add_argument("paper_id", metavar="ID", help="a stored paper's id")
    parser.set_defaults(handler=run_tldr)


def run_tldr(args: argparse.Namespace) -> int:
    print(open_brief(args).tldr(args.paper_id))
    return 0


# -- servers: mcp, serve ----------------------------------------------------------------------


def _server_options(parser: Any) -> None:
    parser.add_argument("--host", help="address to bind (default serve.host, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default serve.port)")
    parser.add_argument(
        "--token", help="require this bearer token (needed for a non-loopback --host)"
    )


def _bind(args: argparse.Namespace) -> tuple[str, int, str | None]:
    """Host, port and token for a server; a non-loopback host without a token is refused
    here, before the store is opened."""
    from agent.serving import check_bind

    serve = load_cli_settings(args.config).serve
    token = args.token or (serve.token.get_secret_value() if serve.token else None)
    host = args.host or serve.host
    check_bind(host, token)
    return host, serve.port if args.port is None else args.port, token


def register_mcp(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "mcp",
        help="serve the store to MCP hosts (Claude Desktop, VS Code...) over stdio or HTTP",
        description="A Model Context Protocol server: search_papers, get_paper, ask, compare, "
        "recommend, briefing (and ingest with --allow-ingest). Over stdio by default; --http "
        "serves streamable HTTP at http://HOST:PORT/mcp.",
    )
    parser.add_argument("--http", action="store_true", help="streamable HTTP instead of stdio")
    parser.add_argument(
        "--allow-ingest", action="store_true", help="offer the ingest tool (it writes)"
    )
    _server_options(parser)
    parser.set_defaults(handler=run_mcp)


def run_mcp(args: argparse.Namespace) -> int:
    from agent import mcp_server
    from agent.serving import serve_asgi

    allow = True if args.allow_ingest else None
    if not args.http:
        mcp_server.run_stdio(open_brief(args), allow_ingest=allow)
        return 0
    host, port, token = _bind(args)
    brief = open_brief(args)
    serve_asgi(mcp_server.http_app(brief, allow_ingest=allow, host=host), host, port, token)
    return 0


def register_serve(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="the local web app and an OpenAI-compatible chat API (/v1/chat/completions)",
        description="Search, paper pages, chat with streamed cited answers, comparisons, the "
        "briefings archive and ingest with progress, at http://HOST:PORT/; the same server "
        "answers OpenAI-compatible chat clients at /v1 (model 'paperbrief').",
    )
    _server_options(parser)
    parser.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    from agent.serving import serve_asgi
    from agent.web import create_app

    host, port, token = _bind(args)
    brief = open_brief(args)
    brief.warm_up()  # the first chat answer does not wait for the model to load
    print(f"paperbrief: serving http://{host}:{port}/ (Ctrl-C stops)", file=sys.stderr)
    serve_asgi(create_app(brief, host=host), host, port, token)
    return 0


# -- entry point ------------------------------------------------------------------------------

REGISTRARS: tuple[Registrar, ...] = (
    register_ingest,
    register_search,
    register_stats,
    register_eval,
    register_doctor,
    register_brief,
    register_ask,
    register_chat,
    register_compare,
    register_recommend,
    register_tldr,
    register_mcp,
    register_serve,
)


# Errors a user can cause and fix (bad file, bad setting, unreachable server) are
# `agent.errors.USER_ERRORS`: one line on stderr, exit 1. Anything else is a bug and keeps its
# traceback.
# What a chat session survives: the question failed, the session did not.
CHAT_ERRORS: tuple[type[Exception], ...] = (
    LLMError,
    UnknownPapersError,
    PaperNotFoundError,
    InvalidInputError,
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
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="log on stderr what the LLM layer does: structured mode and max_tokens of each "
        "call, retries, repairs, usage per call",
    )
    parser.add_argument(
        "--save-run",
        metavar="DIR",
        help="ask, compare, brief: save the run's artifacts (request, result, retrieved papers, "
        "settings, usage) in a new folder under DIR; a failed run too (request, error, usage "
        "spent)",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in REGISTRARS:
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.verbose:
        configure_verbose_logging()
    try:
        return int(args.handler(args))
    except USER_ERRORS as exc:
        print(f"paperbrief: error: {exc}", file=sys.stderr)
        save_failed_run(args, exc)
        return 1
    except KeyboardInterrupt:
        print("paperbrief: interrupted; papers already written are kept", file=sys.stderr)
        return 130
    finally:
        report_llm_usage(args)


def configure_verbose_logging() -> None:
    """`-v`: paperbrief's own INFO logs (the LLM layer, the retry policy) on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("paperbrief: %(name)s: %(message)s"))
    for name in ("agent", "store"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.INFO)
        logger.addHandler(handler)


if __name__ == "__main__":
    sys.exit(main())
