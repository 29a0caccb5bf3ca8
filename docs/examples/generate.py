"""Writes the gallery's answer and comparison (docs/examples/) from a store of the sample.

Run by `make examples`, which first ingests the sample into a fresh store and writes the
briefing; this script is a client of the public Python API only.

    python docs/examples/generate.py --data-dir DIR --out docs/examples \
        --ask QUESTION --follow-up QUESTION --compare TOPIC
"""

from __future__ import annotations

import argparse
from pathlib import Path

from agent import PaperBrief


def _quote(text: str) -> str:
    return "> " + text.replace("\n", "\n> ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--ask", required=True, help="the question")
    parser.add_argument("--follow-up", required=True, help="a follow-up on the same thread")
    parser.add_argument("--compare", required=True, help="the topic to compare")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with PaperBrief(data_dir=args.data_dir) as pb:
        # A fixed thread id keeps the file identical from one run to the next.
        first = pb.ask(args.ask, thread_id="examples")
        second = pb.ask(args.follow_up, thread_id="examples")
        answer = [
            "# An answer, with a follow-up",
            "",
            "`paperbrief ask` on the bundled sample, offline (no LLM): every sentence is taken",
            "from the abstracts it cites, or is connective text that states no finding.",
            "",
            _quote(args.ask),
            "",
            first.markdown.strip(),
            "",
            f"Follow-up on the same thread (`--thread {first.thread_id}`):",
            "",
            _quote(args.follow_up),
            "",
            second.markdown.strip(),
            "",
        ]
        (args.out / "answer.md").write_text("\n".join(answer), encoding="utf-8")
        comparison = pb.compare(args.compare)
        text = [
            "# A comparison",
            "",
            "`paperbrief compare` on the bundled sample, offline (no LLM).",
            "",
            _quote(args.compare),
            "",
            comparison.markdown.strip(),
            "",
        ]
        (args.out / "comparison.md").write_text("\n".join(text), encoding="utf-8")


if __name__ == "__main__":
    main()
