"""Offline routing and query planning: what kind of request a question is, and which search
queries find its papers, from cue phrases (no LLM).
"""

from __future__ import annotations

import re

from agent.state import Route
from agent.text import GENERIC_WORDS, content_words

# A request names what it wants in a handful of words; anything else is a question to answer.
_COMPARE_CUES = re.compile(
    r"\b(compare|comparing|comparison|versus|vs\.?|differ|differs|difference|differences|"
    r"contrast|how does .{1,80} relate to)\b",
    re.IGNORECASE,
)
_RECOMMEND_CUES = re.compile(
    r"\b(recommend\w*|what should i read|what to read|which papers should i|suggest\w* "
    r"(?:some |a few )?papers|reading list|worth reading|must[- ]read)\b",
    re.IGNORECASE,
)
# Query expansion: what a question says casually and abstracts say in their own words. A
# question that matches a cue gets a second, keyword query with the expansion appended.
_EXPANSIONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(cue, re.IGNORECASE), words)
    for cue, words in (
        (
            r"\b(speed\w*|fast\w*|quick\w*|accelerat\w*|latency|slow\w*|efficien\w*)\b",
            "accelerate speedup faster inference decoding latency",
        ),
        (
            r"\b(no|without|free of) (additional |extra |any )?(training|fine-?tuning)|"
            r"training[- ]free|retrain\w*",
            "training-free without additional training",
        ),
        (r"\b(cheap\w*|cost\w*|budget|compute)\b", "efficient cost compute"),
        (r"\b(memory|cache|caching)\b", "memory cache KV"),
        (r"\b(evaluat\w*|benchmark\w*|measure\w*)\b", "benchmark evaluation"),
        (r"\b(hallucinat\w*|factual\w*|grounded)\b", "hallucination factuality grounding"),
    )
)


def route_question(question: str) -> Route:
    """`recommend` for a reading request, `compare` for a comparison, else `answer`."""
    if _RECOMMEND_CUES.search(question):
        return "recommend"
    if _COMPARE_CUES.search(question):
        return "compare"
    return "answer"


def plan_queries(question: str) -> list[str]:
    """The question itself, plus a keyword query with expansions when the question has a cue."""
    expansions = [words for cue, words in _EXPANSIONS if cue.search(question)]
    if not expansions:
        return [question]
    keywords = " ".join(dict.fromkeys(w for w in content_words(question) if w not in GENERIC_WORDS))
    return [question, " ".join([keywords, *expansions])]
