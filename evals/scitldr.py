"""SciTLDR as an eval corpus: its papers as a paperbrief corpus, and its TLDRs as questions.

SciTLDR-A (Cachola et al., Findings of EMNLP 2020; Apache-2.0) gives, per paper, its title, its
abstract as a list of sentences and one or more reference TLDRs (`target[0]` the author's). Two
uses here:

- `corpus_records` turns a SciTLDR file into JSON Lines records the store ingests (`title`,
  `abstract`, `url` of the OpenReview page, the `tldrs` kept beside them). Records sharing a
  title (resubmissions of one paper) are one paper, as the store keys papers by title, with the
  TLDRs of all of them. The papers carry no dates; `write_corpus` gives each one a synthetic
  date (see `SYNTHETIC_START`) so that the briefing task has weeks to brief: the dates are not
  publication dates and order nothing but the file.
- `known_item_questions` lists each record's author TLDR with the title of its paper: the
  known-item mode (`evals.known_item`) asks each and checks the paper comes back.

    python -m evals.scitldr ../shared/data/scitldr_a_dev.jsonl evals/suites/data/scitldr_a_dev
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from evals.benchmarks import BenchmarkError, read_scitldr

# Synthetic dates: papers in file order, PAPERS_PER_WEEK a week from this Monday on, spread
# over the working days; one corpus file per calendar month.
SYNTHETIC_START = date(2019, 1, 7)
PAPERS_PER_WEEK = 20


def corpus_records(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per distinct title, in first-seen order, with every TLDR of that title."""
    merged: dict[str, dict[str, Any]] = {}
    for record in records:
        title = " ".join(str(record.get("title") or "").split())
        if not title:
            raise BenchmarkError(f"record {record.get('paper_id')!r} has no title")
        tldrs = [str(target) for target in record["target"]]
        if title in merged:
            merged[title]["author_tldrs"].append(tldrs[0])
            merged[title]["tldrs"].extend(t for t in tldrs if t not in merged[title]["tldrs"])
            continue
        merged[title] = {
            "title": title,
            "abstract": " ".join(str(sentence).strip() for sentence in record["source"]),
            "url": f"https://openreview.net/forum?id={record['paper_id']}",
            "openreview_id": str(record["paper_id"]),
            "author_tldrs": [tldrs[0]],
            "tldrs": tldrs,
        }
    return list(merged.values())


def synthetic_date(index: int) -> date:
    week, day = divmod(index, PAPERS_PER_WEEK)
    return SYNTHETIC_START + timedelta(weeks=week, days=day % 5)


def write_corpus(source: str | Path, folder: str | Path) -> list[Path]:
    """Convert a SciTLDR file into dated corpus files, one per synthetic month."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    by_month: dict[str, list[dict[str, Any]]] = {}
    for index, record in enumerate(corpus_records(read_scitldr(source))):
        published = synthetic_date(index)
        dated = {"published": published.isoformat(), **record}
        by_month.setdefault(published.strftime("%Y-%m"), []).append(dated)
    written = []
    for month, rows in sorted(by_month.items()):
        path = folder / f"{month}.jsonl"
        path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
        written.append(path)
    return written


def known_item_questions(path: str | Path, limit: int | None = None) -> Iterator[tuple[str, str]]:
    """(question, gold title) pairs: every author TLDR of a SciTLDR file, or of a converted
    corpus (a file or folder of records with `title` and `author_tldrs`)."""
    path = Path(path)
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    count = 0
    for file in files:
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            record = json.loads(line)
            if "source" in record:  # SciTLDR itself: one author TLDR per record
                pairs = [(str(record["target"][0]), str(record["title"]))]
            elif "author_tldrs" in record:  # a converted corpus: one per merged record
                pairs = [(str(tldr), str(record["title"])) for tldr in record["author_tldrs"]]
            else:
                raise BenchmarkError(f"{file}: line {number}: neither `target` nor `author_tldrs`")
            for pair in pairs:
                if limit is not None and count >= limit:
                    return
                count += 1
                yield pair


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="a SciTLDR JSON Lines file")
    parser.add_argument("folder", help="where to write the corpus files")
    args = parser.parse_args(argv)
    for path in write_corpus(args.source, args.folder):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
