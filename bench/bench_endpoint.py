"""Point paperbrief's LLM path at an endpoint and see what each pipeline costs and where it fails.

For each pipeline (`full`, `lean`): ask (two questions), compare (a topic), tldr (a paper) and a
weekly briefing, on a store (yours with `--data-dir`, else the bundled sample ingested into a
temporary one). Printed: per operation, success (or the error), LLM calls, prompt and completion
tokens, retries, repairs and seconds; per LLM step (the schema asked for: RouteDecision,
QueryPlan, Grades, PaperEvidence, NumberedDraft, NumberedComparison, Rewrite, Takeaway), calls,
failures, tokens and seconds; and lean's totals as ratios of full's, measured in the same run.

    # your own server (Ollama, llama.cpp, vLLM, LM Studio, OpenAI...):
    python bench/bench_endpoint.py --base-url http://127.0.0.1:8080/v1 --model gemma-3-270m
    # the OpenAI-wire test server (tokens counted as words), with a model that runs on:
    python bench/bench_endpoint.py --test-server [--runaway]
    # (with no endpoint configured at all, the test server is used, as `make bench` does)

No cache: every call is a real request. Questions and topics are generic; pass `--question`
(repeatable) and `--topic` to use your own, and `--week-start`/`--week-end` for the briefing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.api import PaperBrief
from agent.errors import LLMError
from agent.llm import ChatResult, OpenAIChat, StructuredResult
from agent.results import Usage
from agent.settings import Settings, load_settings

T = TypeVar("T", bound=BaseModel)

QUESTIONS = [
    "How do recent methods speed up diffusion language models?",
    "Which papers evaluate agents on real software engineering tasks?",
]
TOPIC = "diffusion language model acceleration"


@dataclass
class StepStats:
    calls: int = 0
    failures: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0


@dataclass
class StepMeter:
    """A `ChatLLM` around the real client, recording each call by the step it serves."""

    llm: OpenAIChat
    steps: dict[str, StepStats] = field(default_factory=lambda: defaultdict(StepStats))

    @property
    def model(self) -> str:
        return self.llm.model

    @property
    def usage_total(self) -> Usage:
        return self.llm.usage_total

    @contextmanager
    def _step(self, name: str) -> Iterator[StepStats]:
        stats = self.steps[name]
        start = time.perf_counter()
        try:
            yield stats
        except LLMError as error:
            stats.failures += 1
            self._add(stats, error.usage)
            raise
        finally:
            stats.seconds += time.perf_counter() - start

    @staticmethod
    def _add(stats: StepStats, usage: Usage | None) -> None:
        if usage is not None:
            stats.calls += usage.llm_calls
            stats.prompt_tokens += usage.prompt_tokens
            stats.completion_tokens += usage.completion_tokens

    def chat(
        self,
        messages: list[dict[str, str]],
        *,
        on_token: Callable[[str], None] | None = None,
        max_tokens: int | None = None,
    ) -> ChatResult:
        with self._step("chat") as stats:
            result = self.llm.chat(messages, on_token=on_token, max_tokens=max_tokens)
            self._add(stats, result.usage)
            return result

    def structured(
        self, messages: list[dict[str, str]], schema: type[T], *, max_tokens: int | None = None
    ) -> StructuredResult[T]:
        with self._step(schema.__name__) as stats:
            result = self.llm.structured(messages, schema, max_tokens=max_tokens)
            self._add(stats, result.usage)
            return result


def operations(pb: PaperBrief, args: argparse.Namespace) -> list[tuple[str, Callable[[], Any]]]:
    paper = pb.papers()[0]
    ops: list[tuple[str, Callable[[], Any]]] = [
        (f"ask {i + 1}", lambda q=q: pb.ask(q)) for i, q in enumerate(args.question or QUESTIONS)
    ]
    ops.append(("compare", lambda: pb.compare(args.topic)))
    ops.append(("tldr", lambda: pb.tldr(paper)))
    ops.append(("brief", lambda: pb.briefing(args.week_start, args.week_end)))
    return ops


def run_pipeline(
    pipeline: str, settings: Settings, store_pb: PaperBrief, args: argparse.Namespace
) -> tuple[Usage, dict[str, StepStats]]:
    llm_settings = settings.llm.model_copy(update={"pipeline": pipeline, "cache": False})
    run_settings = settings.model_copy(update={"llm": llm_settings})
    meter = StepMeter(OpenAIChat(llm_settings, retry=settings.retry))
    pb = PaperBrief(
        data_dir=store_pb.data_dir,
        settings=run_settings,
        embedder=store_pb.embedder,
        store=store_pb.store,
        llm=meter,
    )
    print(f"\npipeline {pipeline}: model {meter.model!r} at {meter.llm.base_url}")
    print(
        f"  {'operation':<10} {'result':<8} {'calls':>5} {'prompt':>8} {'compl.':>7} "
        f"{'retry':>5} {'repair':>6} {'seconds':>8}"
    )
    for name, run in operations(pb, args):
        before = meter.usage_total
        start = time.perf_counter()
        outcome = "ok"
        try:
            run()
        except LLMError as error:
            outcome = type(error).__name__.removeprefix("LLM").removesuffix("Error") or "error"
            print(f"  {name}: {error}", file=sys.stderr)
        seconds = time.perf_counter() - start
        after = meter.usage_total
        print(
            f"  {name:<10} {outcome:<8} {after.llm_calls - before.llm_calls:>5} "
            f"{after.prompt_tokens - before.prompt_tokens:>8} "
            f"{after.completion_tokens - before.completion_tokens:>7} "
            f"{after.retries - before.retries:>5} {after.repairs - before.repairs:>6} "
            f"{seconds:>8.2f}"
        )
    print(f"  {'step':<19} {'calls':>5} {'failed':>6} {'prompt':>8} {'compl.':>7} {'seconds':>8}")
    for step, stats in sorted(meter.steps.items()):
        print(
            f"  {step:<19} {stats.calls:>5} {stats.failures:>6} {stats.prompt_tokens:>8} "
            f"{stats.completion_tokens:>7} {stats.seconds:>8.2f}"
        )
    total = meter.usage_total
    meter.llm.close()
    return total, dict(meter.steps)


@contextmanager
def endpoint(args: argparse.Namespace) -> Iterator[Settings]:
    """The settings to run with: the test server's, or the user's endpoint on top of theirs."""
    base = load_settings()
    if not (args.test_server or args.base_url or args.model or base.llm.configured):
        print(
            "no LLM endpoint configured (--base-url/--model or PAPERBRIEF_LLM__*): "
            "using the local test server"
        )
        args.test_server = True
    if not args.test_server:
        llm = base.llm.model_copy(
            update={
                key: value
                for key, value in {
                    "base_url": args.base_url,
                    "model": args.model,
                    "mode": "llm",
                }.items()
                if value is not None
            }
        )
        if args.api_key:
            from pydantic import SecretStr

            llm = llm.model_copy(update={"api_key": SecretStr(args.api_key)})
        yield base.model_copy(update={"llm": llm})
        return
    from tests.support.agent_responder import AgentResponder
    from tests.support.openai_server import OpenAIServer, Runaway

    with OpenAIServer() as server:
        responder = AgentResponder(keep=lambda paper: True)
        server.set_responder(Runaway(responder) if args.runaway else responder)
        llm = base.llm.model_copy(
            update={"base_url": server.base_url, "model": "test-model", "mode": "llm"}
        )
        yield base.model_copy(update={"llm": llm})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", help="OpenAI-compatible base URL (default: the settings)")
    parser.add_argument("--model", help="model name (default: the settings)")
    parser.add_argument("--api-key", help="API key (default: the settings)")
    parser.add_argument("--test-server", action="store_true", help="use the local test server")
    parser.add_argument("--runaway", action="store_true", help="test server: a model that runs on")
    parser.add_argument("--data-dir", help="a paperbrief store to use (default: the sample)")
    parser.add_argument("--pipelines", default="full,lean", help="comma-separated (full,lean)")
    parser.add_argument("--question", action="append", help="a question to ask (repeatable)")
    parser.add_argument("--topic", default=TOPIC, help="the comparison topic")
    parser.add_argument("--week-start", default="2025-05-19", help="briefing period start")
    parser.add_argument("--week-end", default="2025-05-25", help="briefing period end")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch, endpoint(args) as settings:
        data_dir = Path(args.data_dir) if args.data_dir else Path(scratch)
        offline = settings.model_copy(
            update={"llm": settings.llm.model_copy(update={"mode": "offline"})}
        )
        store_pb = PaperBrief(data_dir=data_dir, settings=offline)
        if not args.data_dir:
            store_pb.ingest_sample()
        print(f"store: {data_dir} ({store_pb.store.count()} papers)")
        totals: dict[str, Usage] = {}
        for pipeline in [p.strip() for p in args.pipelines.split(",") if p.strip()]:
            totals[pipeline], _ = run_pipeline(pipeline, settings, store_pb, args)
        if "full" in totals and "lean" in totals:
            full, lean = totals["full"], totals["lean"]
            print("\nlean / full, same run:")
            for name in ("llm_calls", "prompt_tokens", "completion_tokens"):
                a, b = getattr(lean, name), getattr(full, name)
                print(f"  {name:<18} {a:>7} / {b:<7} = x{a / b:.2f}" if b else f"  {name}: {a}")


if __name__ == "__main__":
    main()
