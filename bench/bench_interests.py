"""Calibrate and report the recommendation floor (`agent/recommend.py`) on public data.

    python bench/bench_interests.py [--data-dir DIR] [--scitldr DIR] [--write-floor]

A reader's interest is a short phrase ("mixed precision training"), not a question: the
relevance evidence of `agent/relevance.py` (fitted on questions) is distributed differently for
it, so the evidence a paper needs to be recommended for an interest has its own floor, fitted
here on SciTLDR-A train and reported on SciTLDR-A dev (stores as bench/bench_relevance.py builds
them: each split minus the 15% of papers it holds out). Interests of a split:

- `title`: per stored paper, a few-word phrase of its title: the longest run of content words
  (at most four, the last ones; ties: the later run, the topic of "X for Y"), after dropping a
  system name before a colon. In-domain: the store holds at least that paper;
- `tldr`: the same phrase taken from the paper's author TLDR ("We devise adaptive loss scaling
  to improve mixed precision training" -> "improve mixed precision training");
- `absent-title`: the title phrase of each held-out paper: in-domain, but its paper is not in
  the store (reported only: related papers usually are);
- `ood`: out-of-domain interests, bench/data/out_of_domain_interests.txt (written for this);
- `ood-question`: the same phrase taken from each of bench/data/out_of_domain_questions.txt.

Out-of-domain lines: the even ones for fitting, the odd ones for reporting. The floor minimises
the in-domain interests left without any pick (false abstention) plus the out-of-domain
interests given any pick (false recommendation) on train; of the floors within 0.002 of the
best, the middle one. Reported on dev, next to two baselines measured in the same run: today's
ranking by cosine (which never abstains) and the relevance model's own `answer_at`, the floor
fitted for questions. `--write-floor` stores the floor in agent/data/interests.json, keyed by
embedder, with the fingerprint of the evidence model it was fitted against.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.recommend import (
    EVIDENCE_POOL,
    FLOOR_FILE,
    evidence_fingerprint,
    interest_evidence,
)
from agent.relevance import model_for
from bench.bench_abstention import DATA, held_out
from bench.bench_relevance import judge_for, open_store
from store.models import Paper
from store.tokens import STOPWORDS

ROOT = Path(__file__).resolve().parents[1]
OOD_INTERESTS = ROOT / "bench" / "data" / "out_of_domain_interests.txt"
OOD_QUESTIONS = ROOT / "bench" / "data" / "out_of_domain_questions.txt"
FLOOR_PATH = ROOT / "agent" / FLOOR_FILE
IN_DOMAIN = ("title", "tldr")
OUT_OF_DOMAIN = ("ood", "ood-question")
KINDS = (*IN_DOMAIN, "absent-title", *OUT_OF_DOMAIN)
MAX_WORDS = 4
# Words that end a topic phrase besides stopwords: what a paper says it does, not its topic.
BREAKS = frozenset(
    (
        "propose",
        "proposes",
        "proposed",
        "present",
        "presents",
        "introduce",
        "introduces",
        "show",
        "shows",
        "demonstrate",
        "demonstrates",
        "study",
        "studies",
        "develop",
        "develops",
        "devise",
        "provide",
        "provides",
        "use",
        "uses",
        "using",
        "via",
        "novel",
        "new",
        "paper",
        "work",
        "approach",
        "method",
        "methods",
        "improve",
        "improves",
        "achieve",
        "achieves",
        "allows",
        "enable",
        "enables",
        "learn",
        "learns",
        "towards",
        "toward",
        "what",
        "how",
        "why",
        "which",
        "when",
    )
)
_TOKEN = re.compile(r"[\w][\w'-]*")


@dataclass
class Interest:
    text: str
    kind: str  # one of KINDS
    paper: str | None  # the id of the paper it was derived from, when in the store


def topic_phrase(text: str) -> str | None:
    """The longest run of content words of `text` (at most MAX_WORDS, the last ones; the later
    of equally long runs), lower-cased; None when no run has two words."""
    if ":" in text and len(text.split(":", 1)[0].split()) <= 4:
        text = text.split(":", 1)[1]
    runs: list[list[str]] = [[]]
    for piece in re.split(r"([,;:.()?!])", text):
        if piece in ",;:.()?!":
            runs.append([])
            continue
        for word in _TOKEN.findall(piece):
            lower = word.casefold()
            if lower in STOPWORDS or lower in BREAKS or len(lower) < 2:
                runs.append([])
            else:
                runs[-1].append(lower)
    best: list[str] = []
    for run in runs:
        if len(run) >= 2 and len(run[-MAX_WORDS:]) >= len(best):
            best = run[-MAX_WORDS:]
    return " ".join(best) if best else None


def _lines(path: Path, half: str) -> list[str]:
    lines = [
        line.strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return lines[0::2] if half == "fit" else lines[1::2]


def load_split(split: str, data: Path) -> tuple[list[Paper], list[Interest]]:
    """The split's stored papers and its interests (see the module docstring)."""
    papers, interests = [], []
    for line in (data / f"scitldr_a_{split}.jsonl").open(encoding="utf-8"):
        row = json.loads(line)
        title = row.get("title") or row["source"][0]
        title_phrase = topic_phrase(title)
        if held_out(row["paper_id"]):
            if title_phrase:
                interests.append(Interest(title_phrase, "absent-title", None))
            continue
        papers.append(
            Paper(
                id=row["paper_id"], title=title, abstract=" ".join(row["source"]), source="scitldr"
            )
        )
        if title_phrase:
            interests.append(Interest(title_phrase, "title", row["paper_id"]))
        tldr_phrase = topic_phrase(row["target"][0])
        if tldr_phrase:
            interests.append(Interest(tldr_phrase, "tldr", row["paper_id"]))
    half = "fit" if split == "train" else "report"
    interests.extend(Interest(text, "ood", None) for text in _lines(OOD_INTERESTS, half))
    for question in _lines(OOD_QUESTIONS, half):
        phrase = topic_phrase(question)
        if phrase:
            interests.append(Interest(phrase, "ood-question", None))
    return papers, interests


@dataclass
class Evidence:
    interest: Interest
    best: float  # the best evidence of any candidate
    own: float  # the evidence of the paper it was derived from (0 when not assessed)
    above: np.ndarray  # every assessed candidate's evidence, best first


def collect(pb, papers: list[Paper], interests: list[Interest]) -> list[Evidence]:
    """Each interest's evidence over the store, as `agent.recommend.reading_list` computes it
    (`interest_evidence` over the whole store, the shipped relevance model)."""
    judge = judge_for(pb, model_for(pb.embedder.name))
    vectors = pb.store.vectors([p.id for p in papers])
    out = []
    for interest in interests:
        assessed = interest_evidence(judge, interest.text, papers, vectors, EVIDENCE_POOL)
        by_id = {r.paper.id: r.evidence for r in assessed}
        values = np.array([r.evidence for r in assessed])
        out.append(
            Evidence(
                interest,
                float(values.max()) if len(values) else 0.0,
                by_id.get(interest.paper or "", 0.0),
                values,
            )
        )
    return out


def choose_floor(data: list[Evidence]) -> float:
    best = np.array([e.best for e in data])
    kinds = np.array([e.interest.kind for e in data])
    inside = np.isin(kinds, IN_DOMAIN)
    outside = np.isin(kinds, OUT_OF_DOMAIN)
    grid = np.linspace(0.005, 0.995, 199)
    costs = np.array([float(np.mean(best[inside] < t) + np.mean(best[outside] >= t)) for t in grid])
    near_best = grid[costs <= costs.min() + 0.002]
    return float(np.median(near_best))


def report(
    name: str, data: list[Evidence], floor: float | None, show_misses: bool = False
) -> dict[str, float]:
    """False abstention (in-domain interest, no pick), the derived paper's clearing the floor,
    papers clearing it; correct abstention (out-of-domain, no pick). `floor=None` is today's
    cosine ranking: every interest gets picks."""
    print(f"{name}:")
    figures: dict[str, float] = {}
    for kind in KINDS:
        group = [e for e in data if e.interest.kind == kind]
        if not group:
            continue
        if floor is None:
            answered = np.ones(len(group), dtype=bool)
            counts = np.full(len(group), float(EVIDENCE_POOL))
        else:
            answered = np.array([e.best >= floor for e in group])
            counts = np.array([float((e.above >= floor).sum()) for e in group])
        if kind in OUT_OF_DOMAIN:
            value = 1.0 - float(answered.mean())
            print(f"  {kind:<13} n={len(group):4d}  correct abstention {value:.3f}")
            figures[f"{kind}.correct_abstention"] = value
            if floor is not None and show_misses:
                missed = [f"{e.interest.text} ({e.best:.3f})" for e in group if e.best >= floor]
                print(f"    given picks: {'; '.join(missed) or 'none'}")
            continue
        value = 1.0 - float(answered.mean())
        line = f"  {kind:<13} n={len(group):4d}  false abstention {value:.3f}"
        if floor is not None:
            line += f"  (papers clearing: median {np.median(counts):.0f}"
            if kind in IN_DOMAIN:
                own = float(np.mean([e.own >= floor for e in group]))
                line += f"; its own paper clears {own:.3f}"
                figures[f"{kind}.own_paper_clears"] = own
            line += ")"
        print(line)
        figures[f"{kind}.false_abstention"] = value
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/paperbrief-bench-interests"))
    parser.add_argument("--scitldr", type=Path, default=DATA, help="folder of scitldr_a_*.jsonl")
    parser.add_argument("--embedder", default="minilm", help="embedding provider (minilm, hash)")
    parser.add_argument("--write-floor", action="store_true")
    args = parser.parse_args()
    evidence = {}
    for split in ("train", "dev"):
        papers, interests = load_split(split, args.scitldr)
        pb, seconds, _ = open_store(args.data_dir / split, papers, args.embedder)
        start = time.perf_counter()
        evidence[split] = collect(pb, papers, interests)
        per = (time.perf_counter() - start) / max(1, len(interests))
        counts = {kind: sum(i.kind == kind for i in interests) for kind in KINDS}
        print(
            f"{split}: {len(papers)} papers ({seconds:.1f} s to ingest), interests {counts}; "
            f"evidence {per * 1000:.0f} ms per interest"
        )
        examples = [i.text for i in interests if i.kind in ("title", "tldr")][:6]
        print(f"  e.g. {examples}")
        embedder = pb.embedder.name
        pb.close()
    model = model_for(embedder)
    floor = choose_floor(evidence["train"])
    print(f"\nfloor fitted on train: {floor:.3f} (the questions' answer_at: {model.answer_at:.3f})")
    report("train, fitted floor (fitted here)", evidence["train"], floor)
    print()
    before = report(
        "dev, baseline: cosine ranking (main before this change)", evidence["dev"], None
    )
    questions = report("dev, baseline: the questions' answer_at", evidence["dev"], model.answer_at)
    after = report("dev, fitted floor (not fitted on)", evidence["dev"], floor, show_misses=True)
    print("\ndev, fitted floor vs baselines (cosine ranking / answer_at):")
    for key, value in after.items():
        print(
            f"  {key:<35} {value:.3f}  vs {before.get(key, float('nan')):.3f} "
            f"/ {questions[key]:.3f}"
        )
    if args.write_floor:
        floors = json.loads(FLOOR_PATH.read_text(encoding="utf-8")) if FLOOR_PATH.exists() else {}
        floors[embedder] = {
            "embedder": embedder,
            "floor": round(floor, 4),
            "fitted_on": "bench/bench_interests.py: SciTLDR-A train title/TLDR phrases vs "
            "out-of-domain interests (even lines); reported on dev",
            "evidence_model": evidence_fingerprint(model),
        }
        FLOOR_PATH.write_text(json.dumps(floors, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {FLOOR_PATH.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
