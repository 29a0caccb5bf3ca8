"""Search quality on the bundled sample: hybrid against dense-only and lexical-only retrieval.

52 queries written for the sample page, each with its gold paper(s) named by a title fragment
(so the gold survives parser changes that alter ids). The first 25 reuse some of the gold
paper's title words, as a reader who half-remembers a paper would; the other 27 describe the
paper mostly in other words. Printed per retriever: recall@5 (share of gold papers in the top
5), hit@1 (gold paper ranked first) and MRR@10, then hybrid's ratio over each single retriever
(baseline) measured in this run. Also printed: the fusion alternatives that were tried
(reciprocal rank fusion at several k, and dense weights), so the defaults are a measured choice.

    /work/venv/bin/python bench/bench_search_quality.py [--data-dir DIR] [--embedder minilm]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUERIES: list[tuple[str, list[str]]] = [
    # Queries sharing some words with the gold title.
    ("scaling laws for speculative decoding", ["Scaling Laws for Speculative Decoding"]),
    (
        "reusing key-value caches to speed up diffusion LLM inference",
        ["dKV-Cache", "Efficient KV Caching"],
    ),
    ("extra decoding heads that predict several future tokens", ["Medusa"]),
    (
        "overlapping communication with computation in distributed training",
        ["T3: Transparent", "CO2: Efficient", "TokenWeave", "Streaming DiLoCo"],
    ),
    (
        "survey of protocols for AI agent interoperability",
        ["A Survey of AI Agent Protocols", "agent interoperability protocols"],
    ),
    ("LLM agents inside recommender systems", ["LLM-powered Agents for Recommender", "iAgent"]),
    (
        "measuring and explaining hallucinations of language models",
        ["Measuring Language Model Hallucinations", "Distributional Semantics Tracing"],
    ),
    ("fair node classification with causal structure", ["Causally Fair Node Classification"]),
    (
        "zero-shot time series forecasting with a pretrained diffusion model",
        ["Zero-Shot Time Series Forecasting"],
    ),
    ("generating MPI parallel programs with a language model", ["MPIrigen"]),
    ("do chat models obey the system message", ["SysBench"]),
    ("language models playing social deduction games", ["Social Deduction"]),
    (
        "spending more compute at inference time on image diffusion models",
        ["Inference-Time Scaling for Diffusion Models"],
    ),
    ("lightweight security for low-power IoT networks", ["Predictive-CSM"]),
    ("inference-time scaling of generalist reward models", ["Generalist Reward Modeling"]),
    ("dataset for persuasion with images and text", ["MMPersuade"]),
    ("asynchronous decentralized optimization with acceleration", ["DADAO"]),
    (
        "parameter-efficient fine-tuning of foundation models in federated learning",
        ["Federated Learning"],
    ),
    (
        "faster mixture-of-experts inference by exploiting expert affinity across layers",
        ["Inter-Layer Expert Affinity"],
    ),
    ("sequence parallelism for linear attention models", ["LASP-2"]),
    ("transferring soft prompts while preserving privacy", ["Soft Prompt Transfer"]),
    ("LLMs communicating through their caches instead of text", ["Cache-to-Cache"]),
    ("emergent symbolic communication among reinforcement learning agents", ["AI Mother Tongue"]),
    ("software library for predictive coding networks", ["pyhgf"]),
    ("benchmark of parallel decoding trade-offs in diffusion LLMs", ["ParallelBench"]),
    # Queries that mostly describe the paper in other words.
    ("predicting several tokens at once with additional heads on a frozen backbone", ["Medusa"]),
    (
        "theoretical relation between message passing networks and graph transformers",
        ["Connection Between MPNN"],
    ),
    (
        "using complex networks of cities to forecast spatio-temporal series",
        ["From Cities to Series"],
    ),
    ("reproducing OpenAI o1 reasoning", ["O1 Replication Journey"]),
    (
        "finetuning over very low bandwidth links by sending a single byte per gradient",
        ["Just One Byte"],
    ),
    (
        "reinforcement learning that reuses previously logged experience",
        ["Leveraging Offline Data"],
    ),
    ("knowledge graph completion by retrieving context and reading it", ["Retrieve-and-Read"]),
    (
        "survey of trustworthy machine learning from a data and causality perspective",
        ["Trustworthy and Aligned"],
    ),
    ("generating 3D conformations of ligands with diffusion", ["Ligand Conformation"]),
    (
        "making emergent abilities of large models predictable before training",
        ["Unlock Predictable Scaling"],
    ),
    ("moving attention computation to cheaper memory-optimized devices", ["Attention Offloading"]),
    ("diffusion models used as the vision encoder of a multimodal LLM", ["DEEM"]),
    (
        "network load balancing for collective communication in large clusters",
        ["Packet Spraying", "C4: A Communication"],
    ),
    ("ring-based attention parallelism for infinite context", ["TokenRing"]),
    (
        "an energy-based model that fixes errors of discrete diffusion text generation",
        ["Energy-Based Diffusion"],
    ),
    ("MCP for wireless environment-aware agents", ["Internet of Experts"]),
    ("how attention in LLMs handles graph-structured inputs", ["Attention Mechanisms Perspective"]),
    ("language models expose the implicit norms of scientific communities", ["Unwritten Code"]),
    ("LLMs as evaluators and collaborators in scientific discovery", ["Scientific Innovation"]),
    (
        "diffusion LLMs can stop decoding early because the answer converges",
        ["Know the Answer Before Decoding"],
    ),
    ("asynchronous test-time scaling with conformal prediction", ["ATTS"]),
    ("blackboard architecture for multi-agent data discovery", ["Blackboard System"]),
    ("agents sharing latent thoughts rather than words", ["Thought Communication"]),
    (
        "theory linking internal probability and self-consistency in LLM reasoning",
        ["Bridging Internal Probability"],
    ),
    ("semantic information theory for tokens of LLMs", ["Forget BIT"]),
    ("test-time scaling laws that account for memory access cost", ["Kinetics"]),
    (
        "masked diffusion LMs trained with consistency trajectory reinforcement learning",
        ["Taming Masked Diffusion"],
    ),
]

Metrics = tuple[float, float, float]


def evaluate(pb: object, gold: dict[str, set[str]], mode: str) -> Metrics:
    """(recall@5, hit@1, MRR@10) of one search mode over the query set."""
    recall = hit = mrr = 0.0
    for query, gold_ids in gold.items():
        ids = [h.paper.id for h in pb.search(query, k=10, mode=mode)]  # type: ignore[attr-defined]
        recall += len(gold_ids & set(ids[:5])) / len(gold_ids)
        hit += bool(ids) and ids[0] in gold_ids
        mrr += next((1 / rank for rank, pid in enumerate(ids, 1) if pid in gold_ids), 0.0)
    n = len(gold)
    return recall / n, hit / n, mrr / n


def fmt(metrics: Metrics) -> str:
    return "recall@5 {:.3f}  hit@1 {:.3f}  MRR@10 {:.3f}".format(*metrics)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", help="reuse a store holding the sample (default: fresh)")
    parser.add_argument("--embedder", default="minilm", choices=["minilm", "hash"])
    args = parser.parse_args()

    from agent.api import PaperBrief
    from agent.settings import Settings
    from store.config import SearchSettings

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(args.data_dir or tmp)
        settings = Settings(data_dir=data_dir, embedding={"provider": args.embedder})
        pb = PaperBrief(data_dir=data_dir, settings=settings)
        pb.ingest_sample()
        papers = pb.papers()
        gold: dict[str, set[str]] = {}
        for query, fragments in QUERIES:
            ids = {p.id for p in papers if any(f.lower() in p.title.lower() for f in fragments)}
            if not ids:
                raise SystemExit(f"no sample paper matches the gold of {query!r}: {fragments}")
            gold[query] = ids

        print(f"{len(gold)} queries over {len(papers)} sample papers, embedder {pb.embedder.name}")
        dense = evaluate(pb, gold, "dense")
        lexical = evaluate(pb, gold, "lexical")
        hybrid = evaluate(pb, gold, "hybrid")
        print(f"  dense only    {fmt(dense)}")
        print(f"  lexical only  {fmt(lexical)}")
        print(f"  hybrid        {fmt(hybrid)}   (defaults: {pb.settings.search.fusion} fusion)")
        for name, base in (("dense", dense), ("lexical", lexical)):
            ratios = "  ".join(
                f"{label} {h / b:.3f}x" if b else f"{label} n/a"
                for label, h, b in zip(("recall@5", "hit@1", "MRR@10"), hybrid, base, strict=True)
            )
            print(f"  hybrid vs {name} only (baseline): {ratios}")

        print("fusion alternatives (hybrid):")
        default = pb.settings.search
        variants = (
            [("rrf", k, 0.5) for k in (5, 20, 60)]
            + [("rrf", 60, w) for w in (0.3, 0.7)]
            + [("scores", default.rrf_k, w) for w in (0.3, 0.4, 0.5, 0.6, 0.7)]
        )
        for fusion, rrf_k, weight in variants:
            pb.searcher.settings = SearchSettings(
                candidates=default.candidates,
                fusion=fusion,  # type: ignore[arg-type]
                rrf_k=rrf_k,
                dense_weight=weight,
                mmr_lambda=default.mmr_lambda,
            )
            label = f"{fusion} k={rrf_k}" if fusion == "rrf" else fusion
            print(f"  {label:<10} dense_weight {weight:.1f}  {fmt(evaluate(pb, gold, 'hybrid'))}")
        pb.searcher.settings = default


if __name__ == "__main__":
    main()
