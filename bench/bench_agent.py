"""Agent benchmarks: offline latency per request type, LLM calls and tokens per request, and
the wall time of parallel against sequential evidence extraction.

    python bench/bench_agent.py [--repeats 5] [--delay 0.2] [--data-dir DIR] [--offline-only]

Offline figures run on the bundled sample (ingested once into DIR, default a temp dir) with
the embedded defaults (`Settings()`: the bundled MiniLM embedder, the extractive writer, no
LLM): ask, compare, a follow-up in a thread and recommend, each over several requests of its
kind, every request `--repeats` times after one warm-up run of all of them; p50 and p95 over all
timed runs per kind, and the first (cold) request of the process. The load average is printed
beside them: the machine is shared. LLM figures run the real openai client against the local
OpenAI-wire test server with valid scripted replies and the response cache off; `--delay` is
the server's fixed latency per request, standing in for a real model, which is what parallel
extraction saves.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.api import PaperBrief
from agent.llm import OpenAIChat
from agent.results import Usage
from agent.settings import Settings
from tests.support.agent_responder import AgentResponder
from tests.support.openai_server import OpenAIServer

ASK = "How do recent methods speed up diffusion language models?"
COMPARE = "diffusion language model acceleration"
RECOMMEND = "diffusion language models"

# Offline latency requests: a mix of broad and narrow, answerable and not, written for this
# bench (not the eval suite's questions). Latency only; what they return is not scored here.
ASKS = (
    ASK,
    "Which papers overlap communication with computation when training across many GPUs?",
    "What does Medusa add to a language model to decode faster?",
    "How much does LASP-2 speed up sequence parallelism for linear attention?",
    "Can language model agents exchange information without writing text?",
    "How should I season a cast iron pan?",
)
COMPARES = (
    COMPARE,
    "test-time scaling",
    "agent communication protocols",
    "decentralized training with little bandwidth",
)
# (first question, follow-up) pairs: the follow-up is timed, the first question is not.
FOLLOW_UPS = (
    (ASK, "Which of them needs no extra training?"),
    ("How is the KV cache used by diffusion language models?", "How much faster do they get?"),
    ("What surveys of AI agent protocols are there?", "Which one covers MCP?"),
)
RECOMMENDS = (RECOMMEND, "graph neural networks", "distributed training")


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (`share` in 0..1) of `values`."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _timed(run: Callable[[], Any]) -> float:
    start = time.perf_counter()
    run()
    return (time.perf_counter() - start) * 1000


def _follow_up(pb: PaperBrief, first: str, question: str) -> Callable[[], float]:
    """A run that opens a new thread with `first` (untimed) and times `question` in it."""

    def run() -> float:
        thread = pb.ask(first).thread_id
        return _timed(lambda: pb.ask(question, thread_id=thread))

    return run


def offline(pb: PaperBrief, repeats: int) -> None:
    runs: dict[str, list[Callable[[], float]]] = {
        "ask": [partial(_timed, partial(pb.ask, q)) for q in ASKS],
        "compare": [partial(_timed, partial(pb.compare, q)) for q in COMPARES],
        "follow-up": [_follow_up(pb, first, q) for first, q in FOLLOW_UPS],
        "recommend": [partial(_timed, partial(pb.recommend, [q], k=5)) for q in RECOMMENDS],
    }
    cold = runs["ask"][0]()  # the first request of the process: embedder load, first queries
    # What `warm_up` (chat and serve call it before the first question) moves off the first
    # answer: a second PaperBrief in this process loads its own model (imports are done).
    fresh = PaperBrief(data_dir=pb.data_dir, settings=pb.settings)
    warm_up = _timed(fresh.warm_up)
    after_warm_up = _timed(partial(fresh.ask, ASK))
    for kind in runs.values():
        for run in kind:
            run()  # warm-up
    print(
        f"offline latency on the sample ({pb.store.count()} papers, embedder "
        f"{pb.embedder.name}), {repeats} runs of each request after a warm-up; "
        f"load average {os.getloadavg()[0]:.1f} at start"
    )
    print(f"  first ask of the process (cold): {cold:8.1f} ms")
    print(
        f"  a new PaperBrief: warm_up() {warm_up:8.1f} ms,"
        f" then its first ask {after_warm_up:8.1f} ms"
    )
    for name, kind in runs.items():
        per_request = [[run() for _ in range(repeats)] for run in kind]
        times = [t for request in per_request for t in request]
        p50, p95 = percentile(times, 0.5), percentile(times, 0.95)
        # The slowest request's median tells a slow request from a noisy machine.
        slowest = max(statistics.median(request) for request in per_request)
        print(
            f"  {name:<10} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   max {max(times):7.1f} ms"
            f"   slowest request's median {slowest:7.1f} ms   ({len(kind)} requests x {repeats})"
        )
    print(f"  load average {os.getloadavg()[0]:.1f} at the end")


def llm_brief(pb: PaperBrief, server: OpenAIServer, data_dir: Path, concurrency: int) -> PaperBrief:
    settings = Settings(
        data_dir=data_dir,
        llm={
            "mode": "llm",
            "base_url": server.base_url,
            "model": "test-model",
            "cache": False,
            "concurrency": concurrency,
        },
    )
    return PaperBrief(
        data_dir=data_dir,
        settings=settings,
        embedder=pb.embedder,
        store=pb.store,
        llm=OpenAIChat(settings.llm, retry=settings.retry),
    )


def _usage_line(name: str, usage: Usage, seconds: float) -> str:
    return (
        f"  {name:<18} {usage.llm_calls:3d} calls  {usage.prompt_tokens:6d} prompt + "
        f"{usage.completion_tokens:5d} completion tokens  {seconds * 1000:8.1f} ms"
    )


def llm_calls(pb: PaperBrief, tmp: Path) -> None:
    print("LLM mode against the local test server (no delay, cache off), per request:")
    with OpenAIServer() as server:
        server.set_responder(AgentResponder(queries=["accelerating diffusion LLM decoding"]))
        brief = llm_brief(pb, server, tmp / "llm-calls", concurrency=4)
        ids = [h.paper.id for h in pb.search(COMPARE, k=4)]
        for name, run in (
            ("ask", lambda: brief.ask(ASK)),
            ("compare (topic)", lambda: brief.compare(COMPARE)),
            ("compare (4 ids)", lambda: brief.compare(paper_ids=ids)),
        ):
            start = time.perf_counter()
            result = run()
            print(_usage_line(name, result.usage, time.perf_counter() - start))
        server.set_responder(AgentResponder(route="recommend"))
        start = time.perf_counter()
        result = brief.ask(f"What should I read about {RECOMMEND}?")
        print(_usage_line("ask -> recommend", result.usage, time.perf_counter() - start))


def parallel_vs_sequential(pb: PaperBrief, tmp: Path, delay: float, repeats: int) -> None:
    print(f"evidence extraction, parallel (Send) vs sequential, {delay:.2f} s per LLM request:")
    walls: dict[int, float] = {}
    with OpenAIServer() as server:
        server.set_responder(
            AgentResponder(queries=["accelerating diffusion LLM decoding"], delay=delay)
        )
        for concurrency in (4, 1):
            brief = llm_brief(pb, server, tmp / f"llm-{concurrency}", concurrency)
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                answer = brief.ask(ASK)
                times.append(time.perf_counter() - start)
            walls[concurrency] = statistics.median(times)
            label = "parallel (4 in flight)" if concurrency > 1 else "sequential"
            print(
                f"  {label:<22} {walls[concurrency]:6.2f} s median of {repeats}  "
                f"({answer.usage.llm_calls} calls, {len(answer.citations)} papers cited)"
            )
    print(f"  speedup: {walls[1] / walls[4]:.2f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--delay", type=float, default=0.2, help="server seconds per request")
    parser.add_argument("--data-dir", type=Path, help="reuse a store with the sample ingested")
    parser.add_argument("--offline-only", action="store_true", help="skip the LLM-mode figures")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-agent-") as scratch:
        tmp = Path(scratch)
        data_dir = args.data_dir or tmp / "sample"
        pb = PaperBrief(data_dir=data_dir, settings=Settings(data_dir=data_dir))
        if pb.store.count() == 0:
            pb.ingest_sample()
        offline(pb, args.repeats)
        if args.offline_only:
            return 0
        llm_calls(pb, tmp)
        parallel_vs_sequential(pb, tmp, args.delay, max(1, args.repeats // 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
