"""Raw embedding throughput and peak memory of the bundled MiniLM model, per configuration.

Each configuration runs in its own child process, so its peak RSS is its own; configurations are
measured round-robin for several rounds and the best round kept, because other work on the
machine only ever slows a round down. Ratios are against the named baseline, measured in the
same run: batch 32, texts in input order, one session with 2 threads, onnxruntime's defaults
(memory arena on, spinning worker threads), the setting of the team's first quick test.

Workloads: `abstracts` embeds the sample page's papers (`Paper.embed_text`, as ingest does; every
one reaches the 256-token cut); `mixed` adds each title and a short query per paper, shuffled,
the mix of lengths a query-time workload sees, where sorting by length matters.

    python bench/bench_embed.py [--rounds 3] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass

BASELINE = "b32 unsorted 1x2thr arena"
MIXED_BASELINE = "mixed b32 unsorted 1x2thr"


@dataclass(frozen=True)
class Config:
    label: str
    batch_size: int
    threads: int
    sessions: int = 1
    sort_by_length: bool = True
    memory_arena: bool = True
    spin: bool = True
    workload: str = "abstracts"


CONFIGS = [
    Config(BASELINE, 32, 2, sort_by_length=False),
    Config("b32 sorted 1x2thr arena", 32, 2),
    Config("b16 sorted 1x2thr arena", 16, 2),
    Config("b8 sorted 1x2thr arena", 8, 2),
    Config("b4 sorted 1x2thr arena", 4, 2),
    Config("b8 sorted 1x2thr arena no-spin (default)", 8, 2, spin=False),
    Config("b16 sorted 1x2thr arena no-spin", 16, 2, spin=False),
    Config("b16 sorted 1x2thr no-arena", 16, 2, memory_arena=False),
    Config("b16 sorted 1x1thr arena", 16, 1),
    Config("b16 sorted 2x1thr arena", 16, 2, sessions=2),
    Config("b8 sorted 2x1thr arena", 8, 2, sessions=2),
    Config(MIXED_BASELINE, 32, 2, sort_by_length=False, workload="mixed"),
    Config("mixed b16 unsorted 1x2thr", 16, 2, sort_by_length=False, workload="mixed"),
    Config("mixed b16 sorted 1x2thr", 16, 2, workload="mixed"),
    Config("mixed b8 sorted 1x2thr no-spin (default)", 8, 2, spin=False, workload="mixed"),
]


def sample_texts(workload: str) -> list[str]:
    from store.models import Paper
    from store.sources import load_source, sample_corpus_path

    papers = [p for p in load_source(str(sample_corpus_path())) if isinstance(p, Paper)]
    texts = [p.embed_text for p in papers]
    if workload == "mixed":
        texts += [p.title for p in papers]
        texts += [" ".join(p.abstract.split()[:8]) for p in papers]
        random.Random(7).shuffle(texts)
    return texts


def measure(config: Config, repeats: int) -> dict[str, float]:
    """Runs in the child: best-of-`repeats` texts/s, and this process's peak RSS."""
    from store.embeddings.minilm import MiniLMEmbedder

    texts = sample_texts(config.workload)
    embedder = MiniLMEmbedder(
        batch_size=config.batch_size,
        threads=config.threads,
        sessions=config.sessions,
        sort_by_length=config.sort_by_length,
        memory_arena=config.memory_arena,
        spin=config.spin,
    )
    embedder.embed(texts[: config.batch_size])  # load the model outside the timing
    best, best_cpu = float("inf"), float("inf")
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        embedder.embed(texts)
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - start_cpu)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {
        "texts": len(texts),
        "texts_per_s": len(texts) / best,
        "cpu_ms_per_text": 1000 * best_cpu / len(texts),
        "peak_rss_mb": peak_kib / 1024,
    }


def run_child(config: Config, repeats: int) -> dict[str, float]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            json.dumps(asdict(config)),
            "--repeats",
            str(repeats),
        ],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="round-robin rounds (best kept)")
    parser.add_argument("--repeats", type=int, default=2, help="timed passes per child")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(Config(**json.loads(args.child)), args.repeats)))
        return

    best: dict[str, dict[str, float]] = {}
    for round_no in range(1, args.rounds + 1):
        for config in CONFIGS:
            result = run_child(config, args.repeats)
            kept = best.get(config.label)
            if kept is None or result["texts_per_s"] > kept["texts_per_s"]:
                best[config.label] = result
            print(
                f"round {round_no}: {config.label}: {result['texts_per_s']:.1f} texts/s",
                file=sys.stderr,
            )

    base = best[BASELINE]
    cpus = len(os.sched_getaffinity(0))
    print(
        f"MiniLM int8 embedding throughput, {cpus} CPUs, best of {args.rounds} rounds "
        f"x {args.repeats} passes; baseline: {BASELINE}"
    )
    print(
        f"{'configuration':42} {'texts':>5} {'texts/s':>8} {'x base':>7} "
        f"{'CPU ms/text':>11} {'peak RSS MB':>11}"
    )
    for config in CONFIGS:
        row = best[config.label]
        ratio = row["texts_per_s"] / base["texts_per_s"]
        if config.workload != "abstracts":
            ratio = row["texts_per_s"] / best[MIXED_BASELINE]["texts_per_s"]
        print(
            f"{config.label:42} {row['texts']:5.0f} {row['texts_per_s']:8.1f} {ratio:7.2f} "
            f"{row['cpu_ms_per_text']:11.0f} {row['peak_rss_mb']:11.0f}"
        )
    print(f"(mixed rows: ratio against '{MIXED_BASELINE}'; CPU ms/text counts every thread)")


if __name__ == "__main__":
    main()
