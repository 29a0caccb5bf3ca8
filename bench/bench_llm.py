"""What the LLM layer itself costs, and what its cache and concurrency limit buy.

Against the OpenAI-format test server on 127.0.0.1 (so the model's own time is zero, or a fixed
simulated latency), through the real `openai` client:

- per-call overhead of a plain, a streamed and a structured call, and of a cache hit;
- throughput of parallel calls against a server that takes `--latency` seconds per reply, at
  `concurrency` 1, 2, 4 and 8 (ratios against concurrency 1, measured in the same run).

    python bench/bench_llm.py [--calls 200] [--latency 0.02]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pydantic import BaseModel

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.llm import OpenAIChat
from agent.settings import LLMSettings
from tests.support.openai_server import OpenAIServer

REPLY = "Retrieval-augmented generation grounds answers in retrieved abstracts [1]. " * 4


class Finding(BaseModel):
    claim: str
    paper_ids: list[str]


def _per_call(calls: int, run: Callable[[int], Any]) -> float:
    run(-1)  # warm the connection pool
    start = time.perf_counter()
    for i in range(calls):
        run(i)
    return (time.perf_counter() - start) / calls


def overhead(calls: int) -> None:
    with OpenAIServer() as server, tempfile.TemporaryDirectory() as cache:
        server.set_responder(
            lambda body: (
                '{"claim": "c", "paper_ids": ["1"]}' if body.get("response_format") else REPLY
            )
        )
        settings = LLMSettings(base_url=server.base_url, model="test-model")
        with OpenAIChat(settings, cache_dir=Path(cache)) as llm:

            def ask(i: int) -> list[dict[str, str]]:
                return [{"role": "user", "content": f"question {i}"}]

            rows = {
                "chat": _per_call(calls, lambda i: llm.chat(ask(i))),
                "chat, streamed": _per_call(
                    calls, lambda i: llm.chat(ask(10_000 + i), on_token=lambda _: None)
                ),
                "structured": _per_call(calls, lambda i: llm.structured(ask(i), Finding)),
                "cache hit": _per_call(calls, lambda i: llm.chat(ask(i))),
            }
    base = rows["chat"]
    print(f"per-call time over {calls} calls (server answers at once):")
    for name, seconds in rows.items():
        print(f"  {name:15s} {seconds * 1000:7.2f} ms   x{seconds / base:.2f} of chat")


def concurrency(calls: int, latency: float) -> None:
    def slow(body: dict[str, Any]) -> str:
        time.sleep(latency)
        return REPLY

    results: dict[int, float] = {}
    with OpenAIServer() as server:
        server.set_responder(slow)
        for limit in (1, 2, 4, 8):
            settings = LLMSettings(
                base_url=server.base_url, model="test-model", cache=False, concurrency=limit
            )
            with OpenAIChat(settings) as llm, ThreadPoolExecutor(max_workers=8) as pool:
                start = time.perf_counter()
                list(
                    pool.map(
                        lambda i: llm.chat([{"role": "user", "content": f"q{i}"}]), range(calls)
                    )
                )
                results[limit] = calls / (time.perf_counter() - start)
    print(f"throughput of {calls} calls from 8 threads, server latency {latency * 1000:.0f} ms:")
    for limit, rate in results.items():
        print(f"  concurrency {limit}: {rate:7.1f} calls/s   x{rate / results[1]:.2f} of 1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.02)
    args = parser.parse_args()
    overhead(args.calls)
    concurrency(min(args.calls, 64), args.latency)


if __name__ == "__main__":
    main()
