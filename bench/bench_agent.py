"""Agent benchmarks: offline latency per request type, LLM calls and tokens per request, and
the wall time of parallel against sequential evidence extraction.

    python bench/bench_agent.py [--repeats 5] [--delay 0.2] [--data-dir DIR]

Offline figures run on the bundled sample (ingested once into DIR, default a temp dir). LLM
figures run the real openai client against the local OpenAI-wire test server with valid
scripted replies and the response cache off; `--delay` is the server's fixed latency per
request, standing in for a real model, which is what parallel extraction saves.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
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


def median_ms(run: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    result = run()  # warm-up: model load, first queries
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def offline(pb: PaperBrief, repeats: int) -> None:
    print(f"offline latency on the sample ({pb.store.count()} papers), median of {repeats}:")
    for name, run in (
        ("ask", lambda: pb.ask(ASK)),
        ("compare", lambda: pb.compare(COMPARE)),
        ("recommend", lambda: pb.recommend([RECOMMEND], k=5)),
    ):
        ms, result = median_ms(run, repeats)
        cited = len(getattr(result, "citations", result))
        print(f"  {name:<10} {ms:8.1f} ms   ({cited} papers in the result)")


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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-agent-") as scratch:
        tmp = Path(scratch)
        data_dir = args.data_dir or tmp / "sample"
        pb = PaperBrief(data_dir=data_dir, settings=Settings(data_dir=data_dir))
        if pb.store.count() == 0:
            pb.ingest_sample()
        offline(pb, args.repeats)
        llm_calls(pb, tmp)
        parallel_vs_sequential(pb, tmp, args.delay, max(1, args.repeats // 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
