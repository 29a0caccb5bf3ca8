"""Search quality on the bundled sample: hybrid against dense-only and lexical-only retrieval.

80 queries written for the sample page, each with its gold paper(s) named by a title fragment
(so the gold survives parser changes that alter ids), in three groups: 25 reuse some of the gold
paper's title words, as a reader who half-remembers a paper would; 27 describe the paper mostly
in other words; 28 "hard" ones paraphrase it the way a reader who never saw the abstract would
ask, avoiding the distinctive words of its title and abstract (four of them add one exact rare
term). The first two groups saturate recall@5 for BM25 (1.000), so only the third can show
whether fusion beats the better single retriever.

The queries are split in two halves, alternating within each group: the tuning half (1st, 3rd,
... query of each group) is where fusion constants are chosen, the held-out half (2nd, 4th, ...)
is where they are judged. Printed: per retriever over all queries, recall@5 (share of gold
papers in the top 5), hit@1 (gold paper ranked first) and MRR@10, with hybrid's ratio over each
single retriever measured in this run; then per query group, on the held-out half and on all
queries, for dense only, lexical only, hybrid (default `scores` fusion: min-max, BM25 scaled
by its confidence), the former plain min-max fusion and reciprocal rank fusion ("title+other"
is the first two groups); then, on the tuning half, the sweep that chose
`store.search.COVERAGE_HALF`; then fusion alternatives (rrf at several k, dense weights) over
all queries. `--per-query` prints each query's metrics for every retriever.

    python bench/bench_search_quality.py [--data-dir DIR] [--embedder minilm]
        [--per-query]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

Query = tuple[str, list[str]]

# Queries sharing some words with the gold title.
TITLE_QUERIES: list[Query] = [
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
    ("LLM agents inside recommender systems", ["LLM-powered Agents for Recommender", "iAgent:"]),
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
]

# Queries that mostly describe the paper in other words.
OTHER_QUERIES: list[Query] = [
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

# Queries written as a reader who never saw the abstract would ask: synonyms and paraphrases
# that avoid the distinctive words of the gold paper's title and abstract; the last four pair
# one exact rare term (GRPO, Among Us, NVLink, SPSA) with a paraphrase. Written from the corpus
# before any search result was seen, and not edited after.
HARD_QUERIES: list[Query] = [
    (
        "deciphering how ocean mammals talk to each other by probing the internal knobs of a "
        "trained sound synthesizer",
        ["unknown communication system"],
    ),
    (
        "pioneering picture-and-text assistant that writes by repeatedly filling in blanks instead "
        "of left to right, warmed up with ordinary next-word training",
        ["Dimple"],
    ),
    (
        "training without a coordinating machine where averaging everyone's weights one time at "
        "the very end recovers the accuracy of the coordinated setup",
        ["A Single Merging Suffices"],
    ),
    (
        "recovering which variables drive which from records gathered in several related settings, "
        "generalising a classic result about sequences whose order does not matter",
        ["Causal de Finetti"],
    ),
    (
        "proposing new medicine compounds using wavelet-like multiscale features of atom "
        "connectivity and an adversarial network",
        ["Geometric Scattering"],
    ),
    (
        "attention-based model for networks whose links change over time, cut into chunks to avoid "
        "squeezing too much information through single nodes",
        ["Todyformer"],
    ),
    (
        "getting the benefit of a bigger model by running several perturbed copies of each prompt "
        "through the same weights simultaneously and merging the results",
        ["Parallel Scaling Law"],
    ),
    (
        "whether old habits like weight decay and noisy small-step optimisation still matter once "
        "networks become enormous, and tricks that win small but lose big",
        ["Rethinking Conventional Wisdom"],
    ),
    (
        "overview of tuning content-creating networks with trial-and-error feedback instead of "
        "only imitating examples",
        ["Reinforcement Learning for Generative AI"],
    ),
    (
        "training text models on engagement signals so they can forecast how an audience will "
        "react to a post",
        ["Content And Behavior"],
    ),
    (
        "theory of why test error first rises then falls with network size when only the final "
        "layer is adapted, treating pretrained transformers as latent-state chains",
        ["Impact of Model Complexity"],
    ),
    (
        "overview of text generators that take turns with people, look things up in external "
        "stores, call utilities and act in simulated worlds",
        ["Interactive Natural Language Processing"],
    ),
    (
        "better first-try programming answers from a chatbot by subtracting what it would say "
        "given a deliberately weakened instruction without demonstrations",
        ["USCD"],
    ),
    (
        "when a chatbot hesitates on a word, try a few alternative continuations up to the end of "
        "the phrase and keep the most plausible one",
        ["Cautious Next Token"],
    ),
    (
        "roundup of picture-reading assistants that crop, draw or imagine pictures midway through "
        "solving a problem rather than looking once",
        ["Thinking with Images"],
    ),
    (
        "chatbots pick their own notation, such as programs or formulas, instead of plain English "
        "when thinking and when talking to each other, saving length",
        ["Beyond Natural Language"],
    ),
    (
        "teammate bots learn a sparse who-messages-whom wiring and decide at each step whether to "
        "listen",
        ["Communication Learning in Multi-Agent"],
    ),
    (
        "emitting several upcoming words per forward step by synthesizing stand-in representations "
        "for positions not yet written, with no change in output",
        ["Hidden Transfer"],
    ),
    (
        "masked-denoising text generators do better on grade-school arithmetic when you poll "
        "answers from many different fill-in orders",
        ["Hidden Semi-Autoregressive Experts"],
    ),
    (
        "denoising text generator that writes piece by piece with piece lengths chosen by a "
        "trained policy, steered by an attribute predictor",
        ["CtrlDiff"],
    ),
    (
        "a tiny side network trained in minutes decides which blanks of a masked-denoising text "
        "generator are already right so they can be frozen early",
        ["Learning to Parallel"],
    ),
    (
        "a personal assistant standing between shoppers and a store's suggestion engine so the "
        "platform cannot exploit them",
        ["iAgent:"],
    ),
    (
        "finding at which depth a transformer gets locked into making something up, explained with "
        "gut-reaction versus careful-reasoning modes of thought",
        ["Distributional Semantics Tracing"],
    ),
    (
        "rarely-synchronising training spread over distant sites where portions of the weights are "
        "swapped in rotation while computation goes on, cutting maximum network demand a "
        "hundredfold",
        ["Streaming DiLoCo"],
    ),
    # Exact rare term plus paraphrase.
    (
        "GRPO variant for fill-in-the-blank text denoisers that keeps the sampling path and the "
        "training update in agreement",
        ["Taming Masked Diffusion"],
    ),
    (
        "Among Us players built from chatbots that learn to talk and accuse with no people to "
        "imitate",
        ["Social Deduction"],
    ),
    (
        "hiding NVLink cost in multi-accelerator serving by halving each batch so one half "
        "computes while the other communicates, and merging the norm into the sum-across-devices "
        "step",
        ["TokenWeave"],
    ),
    (
        "SPSA-style adaptation of a language model over many computers that agree on noise draws "
        "so each sends just one number per step",
        ["Just One Byte"],
    ),
]

QUERY_GROUPS: dict[str, list[Query]] = {
    "title words": TITLE_QUERIES,
    "other words": OTHER_QUERIES,
    "hard paraphrase": HARD_QUERIES,
}
QUERIES: list[Query] = [query for group in QUERY_GROUPS.values() for query in group]
# Alternate queries within each group, so both halves hold every kind of query.
TUNING: list[str] = [q for group in QUERY_GROUPS.values() for q, _ in group[0::2]]
HELD_OUT: list[str] = [q for group in QUERY_GROUPS.values() for q, _ in group[1::2]]

Metrics = tuple[float, float, float]
METRIC_NAMES = ("recall@5", "hit@1", "MRR@10")


def score_queries(pb: object, gold: dict[str, set[str]], mode: str) -> dict[str, Metrics]:
    """(recall@5, hit@1, MRR@10) of one search mode for each query."""
    scores: dict[str, Metrics] = {}
    for query, gold_ids in gold.items():
        ids = [h.paper.id for h in pb.search(query, k=10, mode=mode)]  # type: ignore[attr-defined]
        recall = len(gold_ids & set(ids[:5])) / len(gold_ids)
        hit = float(bool(ids) and ids[0] in gold_ids)
        mrr = next((1 / rank for rank, pid in enumerate(ids, 1) if pid in gold_ids), 0.0)
        scores[query] = (recall, hit, mrr)
    return scores


def mean(scores: dict[str, Metrics], queries: list[str]) -> Metrics:
    """Mean of each metric over `queries`."""
    n = len(queries)
    recall, hit, mrr = (sum(scores[q][i] for q in queries) / n for i in range(3))
    return recall, hit, mrr


def evaluate(pb: object, gold: dict[str, set[str]], mode: str) -> Metrics:
    """(recall@5, hit@1, MRR@10) of one search mode over the query set."""
    return mean(score_queries(pb, gold, mode), list(gold))


def fmt(metrics: Metrics) -> str:
    return "recall@5 {:.3f}  hit@1 {:.3f}  MRR@10 {:.3f}".format(*metrics)


def ratios(hybrid: Metrics, base: Metrics) -> str:
    return "  ".join(
        f"{label} {h / b:.3f}x" if b else f"{label} n/a"
        for label, h, b in zip(METRIC_NAMES, hybrid, base, strict=True)
    )


def group_table(
    scores: dict[str, dict[str, Metrics]], labels: dict[str, str], half: set[str]
) -> None:
    """Per query group metrics of each retriever over the queries in `half`, then hybrid's
    ratio over each single retriever and over the former min-max fusion."""
    header = ("group", "n", "retriever", "recall@5", "hit@1", "MRR@10")
    print("  {:<16} {:>3}  {:<18} {:>8} {:>6} {:>7}".format(*header))
    groups = [(name, [q for q, _ in group if q in half]) for name, group in QUERY_GROUPS.items()]
    former = [q for q, _ in TITLE_QUERIES + OTHER_QUERIES if q in half]
    for name, queries in [
        *groups,
        ("title+other", former),
        ("all", [q for q, _ in QUERIES if q in half]),
    ]:
        means = {mode: mean(scores[mode], queries) for mode in labels}
        for mode, label in labels.items():
            row = (name, len(queries), label, *means[mode])
            print("  {:<16} {:>3}  {:<18} {:>8.3f} {:>6.3f} {:>7.3f}".format(*row))
        for base in ("dense", "lexical", "minmax"):
            print(
                f"  {name:<16} {'':>3}  hybrid vs {labels[base]} (baseline): "
                f"{ratios(means['hybrid'], means[base])}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", help="reuse a store holding the sample (default: fresh)")
    parser.add_argument("--embedder", default="minilm", choices=["minilm", "hash"])
    parser.add_argument(
        "--per-query", action="store_true", help="also print each query's metrics per retriever"
    )
    args = parser.parse_args()

    import store.search
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
            if query in gold:
                raise SystemExit(f"query written twice: {query!r}")
            gold[query] = ids

        print(f"{len(gold)} queries over {len(papers)} sample papers, embedder {pb.embedder.name}")
        print(f"tuning half {len(TUNING)} queries, held-out half {len(HELD_OUT)}")
        default = pb.settings.search
        scores = {mode: score_queries(pb, gold, mode) for mode in ("dense", "lexical", "hybrid")}
        # The other fusions at the default k and dense weight, for the per-group tables.
        for fusion in ("minmax", "rrf"):
            pb.searcher.settings = default.model_copy(update={"fusion": fusion})
            scores[fusion] = score_queries(pb, gold, "hybrid")
        pb.searcher.settings = default

        everything = list(gold)
        dense, lexical, hybrid = (
            mean(scores[m], everything) for m in ("dense", "lexical", "hybrid")
        )
        print(f"  dense only    {fmt(dense)}")
        print(f"  lexical only  {fmt(lexical)}")
        print(f"  hybrid        {fmt(hybrid)}   (defaults: {default.fusion} fusion)")
        for name, base in (("dense", dense), ("lexical", lexical)):
            print(f"  hybrid vs {name} only (baseline): {ratios(hybrid, base)}")

        labels = {
            "dense": "dense only",
            "lexical": "lexical only",
            "hybrid": f"hybrid ({default.fusion})",
            "minmax": "minmax (former)",
            "rrf": f"rrf k={default.rrf_k} w={default.dense_weight:.1f}",
        }
        print("per query group, held-out half:")
        group_table(scores, labels, set(HELD_OUT))
        print("per query group, all queries:")
        group_table(scores, labels, set(everything))

        if args.per_query:
            print("per query (recall@5 / hit@1 / MRR@10 for " + ", ".join(labels) + "):")
            for name, group in QUERY_GROUPS.items():
                for query, _ in group:
                    cells = "  ".join(
                        "{:.2f}/{:.0f}/{:.2f}".format(*scores[mode][query]) for mode in labels
                    )
                    half = "tune" if query in TUNING else "held"
                    print(f"  {name:<16} {half} {cells}  {query}")

        # How COVERAGE_HALF was chosen: the best sum of the three metrics on the tuning half.
        print(
            f"scores fusion by COVERAGE_HALF, tuning half (in use: {store.search.COVERAGE_HALF}):"
        )
        in_use = store.search.COVERAGE_HALF
        tuning_gold = {q: gold[q] for q in TUNING}
        for step in range(2, 17):
            store.search.COVERAGE_HALF = round(0.05 * step, 2)
            metrics = evaluate(pb, tuning_gold, "hybrid")
            print(
                f"  COVERAGE_HALF {store.search.COVERAGE_HALF:.2f}  {fmt(metrics)}  "
                f"sum {sum(metrics):.3f}"
            )
        store.search.COVERAGE_HALF = in_use

        print("fusion alternatives (hybrid), all queries:")
        variants = (
            [("rrf", k, 0.5) for k in (5, 20, 60)]
            + [("rrf", 60, w) for w in (0.3, 0.7)]
            + [
                (fusion, default.rrf_k, w)
                for fusion in ("minmax", "scores")
                for w in (0.3, 0.4, 0.5, 0.6, 0.7)
            ]
        )
        for fusion, rrf_k, weight in variants:
            pb.searcher.settings = SearchSettings(
                candidates=default.candidates,
                fusion=fusion,
                rrf_k=rrf_k,
                dense_weight=weight,
                mmr_lambda=default.mmr_lambda,
            )
            label = f"{fusion} k={rrf_k}" if fusion == "rrf" else fusion
            print(f"  {label:<10} dense_weight {weight:.1f}  {fmt(evaluate(pb, gold, 'hybrid'))}")
        pb.searcher.settings = default


if __name__ == "__main__":
    main()
