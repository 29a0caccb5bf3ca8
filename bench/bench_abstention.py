"""False abstentions and false answers of `PaperBrief.ask`, end to end, on SciTLDR-A dev.

    python bench/bench_abstention.py [--data-dir DIR] [--limit N] [--scitldr DIR]

The store holds SciTLDR-A dev minus the 15% of papers held out (as bench/bench_relevance.py
chooses them), ingested through the public API. Questions, at most N of each kind: `tldr` (a
stored paper's author TLDR), `tldr-no-title` (the same without the title's words),
`tldr2-no-title` (the second TLDR without the title's words), `absent` (the TLDR of a held-out
paper) and `ood` (the odd lines of bench/data/out_of_domain_questions.txt, which the
calibration never saw). A false abstention is a question whose paper is stored but not among
the answer's citations; a false answer is an out-of-domain question answered with citations.
Uses only the public API, so the same script measures an older checkout (the "before" figures
in BENCHMARKS.md ran it from a worktree of the commit before the relevance change).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.api import PaperBrief
from agent.settings import Settings
from store.models import normalise_text

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
OOD_FILE = Path(__file__).resolve().parent / "data" / "out_of_domain_questions.txt"
HELD_OUT_PERCENT = 15
KINDS = ["tldr", "tldr-no-title", "tldr2-no-title", "absent", "ood"]
_WORD = re.compile(r"[^\W_]+")


@dataclass
class Question:
    text: str
    kind: str  # one of KINDS
    gold: str | None  # the answer paper's title; None when the store cannot answer
    # Further answer papers of a question composed from several papers' TLDRs
    # (bench/bench_relevance.py); like `gold`, all must be cited.
    also: tuple[str, ...] = field(default=())

    @property
    def golds(self) -> frozenset[str]:
        """Every answer paper (empty when the store cannot answer)."""
        return frozenset(() if self.gold is None else (self.gold, *self.also))


def held_out(paper_id: str) -> bool:
    return int(hashlib.sha256(paper_id.encode()).hexdigest(), 16) % 100 < HELD_OUT_PERCENT


def without_title_words(text: str, title: str) -> str:
    """`text` without the words of `title` (a paraphrase that cannot lean on the title)."""
    title_words = {w.casefold() for w in _WORD.findall(title)}

    def is_title_word(token: str) -> bool:
        found = _WORD.findall(token.casefold())
        return bool(found) and all(w in title_words for w in found)

    return " ".join(w for w in text.split() if not is_title_word(w))


def out_of_domain(half: str) -> list[str]:
    lines = [
        line.strip()
        for line in OOD_FILE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return lines[0::2] if half == "fit" else lines[1::2]


def load_split(split: str, data: Path) -> tuple[list[dict[str, str]], list[Question]]:
    """The split's stored records (id, title, abstract) and its questions."""
    records, questions = [], []
    for line in (data / f"scitldr_a_{split}.jsonl").open(encoding="utf-8"):
        row = json.loads(line)
        title = row.get("title") or row["source"][0]
        if held_out(row["paper_id"]):
            questions.append(Question(row["target"][0], "absent", None))
            continue
        records.append({"id": row["paper_id"], "title": title, "abstract": " ".join(row["source"])})
        questions.append(Question(row["target"][0], "tldr", title))
        stripped = without_title_words(row["target"][0], title)
        if len(stripped.split()) >= 4 and stripped != row["target"][0]:
            questions.append(Question(stripped, "tldr-no-title", title))
        if len(row["target"]) > 1:
            paraphrase = without_title_words(row["target"][1], title)
            if len(paraphrase.split()) >= 4:
                questions.append(Question(paraphrase, "tldr2-no-title", title))
    half = "fit" if split == "train" else "report"
    questions.extend(Question(q, "ood", None) for q in out_of_domain(half))
    return records, questions


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="store to (re)use; default a temp dir")
    parser.add_argument("--limit", type=int, default=150, help="questions of each kind")
    parser.add_argument("--scitldr", type=Path, default=DATA)
    args = parser.parse_args()
    records, questions = load_split("dev", args.scitldr)
    with tempfile.TemporaryDirectory(prefix="bench-abstention-") as scratch:
        data_dir = args.data_dir or Path(scratch) / "store"
        pb = PaperBrief(data_dir=data_dir, settings=Settings(data_dir=data_dir))
        source = Path(scratch) / "dev.jsonl"
        source.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
        report = pb.ingest(source, fmt="jsonl")
        print(f"SciTLDR-A dev store: {pb.store.count()} papers ({report.summary()})")
        id_of = {normalise_text(p.title): p.id for p in pb.papers()}
        pb.ask("warm up: load the model")
        for kind in KINDS:
            group = [q for q in questions if q.kind == kind][: args.limit]
            misses = cited_any = 0
            seconds = []
            for question in group:
                start = time.perf_counter()
                answer = pb.ask(question.text)
                seconds.append(time.perf_counter() - start)
                cited_any += bool(answer.citations)
                gold = question.gold
                if gold is not None and id_of[normalise_text(gold)] not in answer.citations:
                    misses += 1
            latency = f"median {statistics.median(seconds) * 1000:.0f} ms per ask"
            if kind in ("absent", "ood"):
                print(
                    f"  {kind:<15} n={len(group):4d}  correct abstention "
                    f"{1 - cited_any / len(group):.3f}  ({latency})"
                )
            else:
                print(
                    f"  {kind:<15} n={len(group):4d}  false abstention {misses / len(group):.3f}  "
                    f"(answered with citations {cited_any / len(group):.3f}; {latency})"
                )
        pb.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
