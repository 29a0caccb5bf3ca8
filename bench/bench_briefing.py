"""What a weekly briefing of a busy week costs: a synthetic 500-paper week, end to end.

The week is generated (25 topics of Zipf-like sizes, each with its own vocabulary, abstracts of
five sentences with numbers) and ingested with the real embedder into a real Chroma store.
Then, measured in one run:

- offline: wall time of `PaperBrief.briefing` (clustering, naming, 500 extractive takeaways,
  one extractive comparison per theme, picks, rendering), and of the clustering alone;
- LLM mode, against the OpenAI-format test server on 127.0.0.1 answering every call after
  `--latency` seconds (a stand-in for a model's time): LLM calls and tokens of a first build,
  its wall time with the thread pool at `llm.concurrency` 1 and 4 (the ratio is what the pool
  buys), and the calls of a rebuild of the same week (the disk cache: expected 0).

    python bench/bench_briefing.py [--papers 500] [--latency 0.02]
        [--embedder minilm|hash]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.api import PaperBrief
from agent.settings import Settings
from agent.themes import cluster_vectors
from tests.support.agent_responder import AgentResponder
from tests.support.openai_server import OpenAIServer

WEEK = (date(2025, 5, 19), date(2025, 5, 25))

TOPICS = [
    ("diffusion language models", ["masked denoising", "parallel decoding", "remasking"]),
    ("retrieval-augmented generation", ["retriever", "reranking", "grounded answers"]),
    ("vision-language models", ["image captioning", "visual grounding", "multimodal tokens"]),
    ("reinforcement learning from human feedback", ["reward model", "preference data", "PPO"]),
    ("mixture-of-experts", ["expert routing", "load balancing", "sparse activation"]),
    ("speculative decoding", ["draft model", "token acceptance", "verification step"]),
    ("graph neural networks", ["message passing", "node classification", "over-smoothing"]),
    ("protein structure prediction", ["amino acid sequences", "folding", "contact maps"]),
    ("text-to-image diffusion", ["prompt alignment", "classifier-free guidance", "latent space"]),
    ("code generation", ["unit tests", "program synthesis", "repository context"]),
    ("long-context transformers", ["KV cache", "position interpolation", "sparse attention"]),
    ("robot manipulation", ["grasping", "imitation learning", "tactile sensing"]),
    ("speech recognition", ["acoustic model", "word error rate", "streaming ASR"]),
    ("model quantization", ["4-bit weights", "outlier channels", "calibration set"]),
    ("federated learning", ["client drift", "secure aggregation", "non-IID data"]),
    ("time series forecasting", ["seasonality", "horizon", "probabilistic forecasts"]),
    ("mathematical reasoning", ["chain of thought", "theorem proving", "verifier"]),
    ("autonomous driving", ["trajectory prediction", "lidar", "occupancy maps"]),
    ("video generation", ["temporal consistency", "frame interpolation", "motion prior"]),
    ("recommender systems", ["user embeddings", "click-through rate", "cold start"]),
    ("weather prediction", ["reanalysis data", "global forecasts", "ensemble spread"]),
    ("machine translation", ["low-resource languages", "BLEU", "back-translation"]),
    ("LLM agents", ["tool use", "web navigation", "planning"]),
    ("medical imaging", ["segmentation masks", "radiology reports", "MRI"]),
    ("privacy attacks", ["membership inference", "data extraction", "differential privacy"]),
]


def synthetic_week(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """`n` JSONL records over the week: topic sizes fall off like 1/rank."""
    rng = random.Random(seed)
    weights = [1 / (rank + 1) for rank in range(len(TOPICS))]
    records = []
    for i in range(n):
        topic, terms = rng.choices(TOPICS, weights)[0]
        a, b, c = rng.sample(terms, 3)
        day = WEEK[0] + timedelta(days=rng.randrange(7))
        gain = rng.randint(2, 40)
        title = f"{rng.choice(['Scaling', 'Rethinking', 'Efficient', 'Robust'])} {topic} with {a}"
        abstract = (
            f"Progress in {topic} is limited by {b}. "
            f"We propose a method for {topic} that combines {a} with {c}. "
            f"Our approach treats {b} as a learned component of the {topic} pipeline. "
            f"On three benchmarks it improves accuracy by {gain}% over strong baselines. "
            f"Ablations show that {c} accounts for most of the gain (paper {i})."
        )
        records.append(
            {
                "arxiv_id": f"2505.{30000 + i}",
                "title": title,
                "abstract": abstract,
                "published": day.isoformat(),
                "upvotes": int(rng.paretovariate(1.2)) - 1,
            }
        )
    return records


def build_store(root: Path, n: int, embedder: str) -> PaperBrief:
    settings = Settings(data_dir=root / "store", embedding={"provider": embedder})
    pb = PaperBrief(data_dir=root / "store", settings=settings)
    source = root / "week.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in synthetic_week(n)))
    started = time.perf_counter()
    report = pb.ingest(source)
    print(f"ingest: {report.summary()} in {time.perf_counter() - started:.1f} s ({embedder})")
    return pb


def over(pb: PaperBrief, data_dir: Path, **llm: Any) -> PaperBrief:
    """A PaperBrief on the same store with its own data dir (ledger, LLM cache)."""
    settings = Settings(data_dir=data_dir, embedding=pb.settings.embedding, llm=llm)
    return PaperBrief(data_dir=data_dir, settings=settings, embedder=pb.embedder, store=pb.store)


def timed_briefing(pb: PaperBrief) -> tuple[float, Any]:
    started = time.perf_counter()
    briefing = pb.briefing(*WEEK)
    return time.perf_counter() - started, briefing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--papers", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per LLM reply")
    parser.add_argument("--embedder", choices=("minilm", "hash"), default="minilm")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        pb = build_store(root, args.papers, args.embedder)
        papers = pb.papers(*WEEK)
        vectors = pb.store.vectors([p.id for p in papers])
        started = time.perf_counter()
        clusters = cluster_vectors(
            vectors, pb.settings.briefing.min_theme_similarity, pb.settings.briefing.max_themes
        )
        cluster_s = time.perf_counter() - started
        print(f"week: {len(papers)} papers; clustering alone: {cluster_s * 1000:.0f} ms")

        offline_s, offline = timed_briefing(over(pb, root / "offline", mode="offline"))
        sizes = sorted((len(t.papers) for t in offline.themes), reverse=True)
        print(
            f"offline briefing: {offline_s:.2f} s wall, {len(offline.themes)} themes "
            f"(sizes {sizes}), {len(clusters)} clusters, "
            f"{len(offline.markdown) // 1024} KiB markdown, {len(offline.html) // 1024} KiB html"
        )

        with OpenAIServer() as server:
            server.set_responder(AgentResponder(delay=args.latency))
            llm = {"mode": "llm", "base_url": server.base_url, "model": "test-model"}
            walls = {}
            for concurrency in (1, 4):
                data_dir = root / f"llm-c{concurrency}"
                before = len(server.chat_requests)
                wall, first = timed_briefing(over(pb, data_dir, concurrency=concurrency, **llm))
                walls[concurrency] = wall
                reached = len(server.chat_requests) - before
                u = first.usage
                print(
                    f"llm briefing, concurrency {concurrency}: {wall:.2f} s wall; "
                    f"{u.llm_calls} LLM calls ({reached} reached the server), "
                    f"{u.prompt_tokens} prompt + {u.completion_tokens} completion tokens"
                )
            before = len(server.chat_requests)
            wall, again = timed_briefing(over(pb, root / "llm-c4", concurrency=4, **llm))
            print(
                f"llm rebuild of the same week: {wall:.2f} s wall; {again.usage.llm_calls} LLM "
                f"calls ({len(server.chat_requests) - before} reached the server), "
                f"{again.usage.cached_calls} answered from the cache"
            )
        print(
            f"ratios: concurrency 4 vs 1 wall = {walls[4] / walls[1]:.2f}; "
            f"offline vs llm(c4) wall = {offline_s / walls[4]:.2f}"
        )


if __name__ == "__main__":
    main()
