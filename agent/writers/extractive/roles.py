"""Sentence roles: what an abstract sentence does (states a problem, a contribution, a method,
a result), read from cue phrases. Every other extractive module picks sentences by role.
"""

from __future__ import annotations

import re

from agent.state import SentenceRole

_RESULT_CUES = re.compile(
    r"\b(?:experiments?|evaluations?|results|empirical(?:ly)?|benchmarks?)\b[^.]{0,80}?"
    r"\b(?:shows?|demonstrates?|indicates?|reveals?|confirms?|suggests?|validates?)\b"
    r"|\boutperform\w*|\bachiev\w+|\bsurpass\w*|\bimprov\w+ (?:\w+ ){0,4}by\b|\bspeed-?ups?\b"
    r"|\bstate-of-the-art\b|\bsota\b|\breduc\w+ (?:\w+ ){0,6}by\b|\baccelerat\w+ (?:\w+ ){0,4}by\b"
    r"|\bup to\b|\b(?:we|our) (?:show|find|observe|demonstrate)\b|\bsubstantially\b"
    r"|\bconsistently\b|\bcompetitive\b|\bgains?\b|\bcompared (?:to|with)\b",
    re.I,
)
_CONTRIBUTION_CUES = re.compile(
    r"\b(?:we|this (?:paper|work|study|article|survey)|our (?:paper|work))\s+"
    r"(?:\w+ ){0,2}?(?:propose|introduce|present|develop|design|build|offer|release|contribute"
    r"|formulate|put forward|provide|describe|establish|highlight|leverage|survey|review"
    r"|investigate|explore|study|examine|identify|analy[sz]e|construct|curate|create|unveil)\w*"
    r"|\bwe call\b|\bdubbed\b|\bnamed\b|\bcalled\b|\b(?:is|are) proposed\b",
    re.I,
)
_METHOD_CUES = re.compile(
    r"\b(?:our|the proposed|this) (?:method|approach|framework|model|system|algorithm"
    r"|technique|pipeline|design|architecture)\b|\bspecifically\b|\bconsists? of\b"
    r"|\bby (?:\w+ing)\b|\b(?:we|it) (?:use|employ|adopt|apply|train|fine-tune|combine"
    r"|incorporate|integrate|exploit|utili[sz]e|decompose|enable|replace|first|then)\w*"
    r"|\bleverag\w+|\bwhich (?:first|then)\b|\bcomprises?\b",
    re.I,
)
_PROBLEM_CUES = re.compile(
    r"\bhowever\b|\bremains? (?:\w+ )?(?:challenging|difficult|unclear|open|limited|unexplored)"
    r"|\bchalleng\w+|\blimit(?:ed|ation|ations|s)\b|\bsuffer\w*|\bbottleneck\w*|\bstruggl\w+"
    r"|\black\w*\b|\bcostly\b|\bexpensive\b|\bslow\w*\b|\bdespite\b|\balthough\b|\bhinder\w*"
    r"|\bfail\w*|\bissues?\b|\bproblem\b|\bconstrained\b|\binefficien\w+|\bunderexplored\b",
    re.I,
)
NUMERIC_CLAIM = re.compile(r"\d(?:\.\d+)?\s?(?:%|x\b|×|-fold|times\b)|\bpoints?\b", re.I)


def _role_scores(text: str) -> dict[SentenceRole, float]:
    numeric = bool(NUMERIC_CLAIM.search(text))
    return {
        "result": len(_RESULT_CUES.findall(text)) + (1.5 if numeric else 0.0),
        "contribution": 2.0 * len(_CONTRIBUTION_CUES.findall(text)),
        "method": 0.8 * len(_METHOD_CUES.findall(text)),
        "problem": 0.9 * len(_PROBLEM_CUES.findall(text)),
    }


def classify_sentence(text: str) -> SentenceRole:
    """The rhetorical role of an abstract sentence, from cue phrases.

    problem ("however", "remains challenging", "suffers from"), contribution ("we propose",
    "we introduce", "this paper presents"), method ("our method", "specifically", "we use"),
    result ("experiments show", "outperforms", "achieves", numbers with % or x), else other.
    A stated contribution beats a method cue; a measured result beats both.
    """
    scores = _role_scores(text)
    if scores["result"] >= 2.0 or (scores["result"] >= 1.0 and scores["contribution"] == 0):
        return "result"
    if scores["contribution"] > 0:
        return "contribution"
    if scores["method"] > 0 and scores["method"] >= scores["problem"]:
        return "method"
    if scores["problem"] > 0:
        return "problem"
    return "other"
