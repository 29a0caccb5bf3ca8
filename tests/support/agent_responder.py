"""Scripted replies for the agent graph's LLM calls, served by `OpenAIServer.set_responder`.

The agent's structured calls are told apart by the schema name the client sends
(`response_format.json_schema.name`): `RouteDecision`, `QueryPlan`, `Grades`, `PaperEvidence`,
`NumberedDraft`, `NumberedComparison`, `Rewrite`, `Takeaway` (whose sentence is `chat(...)`).
Replies are built from the papers the prompt actually contains (its `<paper>` blocks), so the
graph's real retrieval decides what the "model" sees. Plain chat calls (streamed answers) get
`chat(papers, prompt)`.

Parallel evidence extraction reaches the server in any order, which is why the tests script by
content rather than by position; `delay` emulates a real model's latency for the bench.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.support.openai_server import Delay, Json, Reply, Text

_PAPER = re.compile(
    r'<paper id="(?P<label>[^"]+)">\nTitle: (?P<title>[^\n]*)\n(?:Published: [^\n]*\n)?'
    r"Abstract: (?P<abstract>[^\n]*)\n</paper>"
)


@dataclass
class PaperBlock:
    """One paper as the prompt showed it: `n` is its citation number (0 when unnumbered)."""

    n: int
    title: str
    abstract: str

    @property
    def first_sentence(self) -> str:
        return self.abstract.split(". ")[0].rstrip(".") + "."


def papers_in(prompt: str) -> list[PaperBlock]:
    blocks = []
    for match in _PAPER.finditer(prompt):
        label = match.group("label")
        n = int(label.strip("[]")) if label.startswith("[") else 0
        blocks.append(PaperBlock(n=n, title=match.group("title"), abstract=match.group("abstract")))
    return blocks


def _prompt(body: dict[str, Any]) -> str:
    messages = body.get("messages", [])
    return "\n".join(m.get("content") or "" for m in messages if m["role"] == "user")


def schema_name(body: dict[str, Any]) -> str | None:
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        return str(fmt["json_schema"]["name"])
    return None


AnswerScript = Callable[[list[PaperBlock]], dict[str, Any]]


def default_answer(papers: list[PaperBlock]) -> dict[str, Any]:
    """One sentence per paper: its first abstract sentence, citing it."""
    return {
        "sentences": [{"text": p.first_sentence, "sources": [p.n]} for p in papers],
        "abstained": False,
    }


def default_comparison(papers: list[PaperBlock]) -> dict[str, Any]:
    return {
        "rows": [
            {
                "source": p.n,
                "problem": p.first_sentence,
                "approach": p.title,
                "key_result": "as stated in the abstract",
                "needs_training": None,
            }
            for p in papers
        ],
        "shared": ["They study the same topic."],
        "differences": ["Their approaches differ."],
        "read_first": papers[0].n if papers else None,
        "read_first_reason": "It is the most relevant.",
        "sentences": [{"text": papers[0].first_sentence, "sources": [papers[0].n]}]
        if papers
        else [],
    }


@dataclass
class AgentResponder:
    """Answers every agent call plausibly; override the parts a test is about."""

    route: str = "answer"
    queries: list[str] = field(default_factory=list)
    keep: Callable[[PaperBlock], bool] = lambda paper: True
    answer: AnswerScript = default_answer
    comparison: AnswerScript = default_comparison
    rewrite: Callable[[str, list[PaperBlock]], dict[str, Any]] = lambda sentence, papers: {
        "text": "",
        "sources": [],
    }
    chat: Callable[[list[PaperBlock], str], str] = lambda papers, prompt: (
        papers[0].first_sentence if papers else "NOT COVERED"
    )
    theme: Callable[[list[PaperBlock]], str] = lambda papers: (
        " ".join(papers[0].title.split(":")[0].split()[:4]) if papers else "Papers"
    )
    delay: float = 0.0
    calls: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, body: dict[str, Any]) -> Reply:
        reply = self._reply(body)
        return Delay(self.delay, reply) if self.delay else reply

    def _reply(self, body: dict[str, Any]) -> Reply:
        prompt = _prompt(body)
        papers = papers_in(prompt)
        name = schema_name(body) or "chat"
        with self._lock:
            self.calls[name] += 1
        if name == "RouteDecision":
            return Json({"route": self.route, "reason": "scripted"})
        if name == "QueryPlan":
            question = prompt.rsplit("Latest question:", 1)[-1].strip()
            return Json({"queries": self.queries or [question]})
        if name == "Grades":
            return Json({"relevant": [p.n for p in papers if self.keep(p)]})
        if name == "PaperEvidence":
            paper = papers[0]
            return Json(
                {
                    "bears_on_question": True,
                    "sentences": [{"text": paper.first_sentence, "role": "other", "relevance": 1}],
                }
            )
        if name == "NumberedDraft":
            return Json(self.answer(papers))
        if name == "NumberedComparison":
            return Json(self.comparison(papers))
        if name == "ThemeName":
            return Json({"name": self.theme(papers)})
        if name == "Takeaway":
            return Json({"sentence": self.chat(papers, prompt)})
        if name == "Rewrite":
            sentence = prompt.split("Sentence (its citation numbers refer to the papers below):")
            return Json(self.rewrite(sentence[-1].split("Why it failed:")[0].strip(), papers))
        return Text(self.chat(papers, prompt))
