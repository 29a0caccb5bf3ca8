"""Shortening: a faithful shorter form of an abstract sentence. A lead-in ("In this paper,"),
an enumerated list after a colon, parentheticals and trailing elaborating clauses are cut, so
only the sentence's own words remain, in order; a cut that would drop a number is not made.
"""

from __future__ import annotations

import re

from agent.facets import ends_mid_clause
from agent.text import numbers_in

_LEAD_IN = re.compile(
    r"^(?:"
    r"in (?:this|the present|our) (?:paper|work|study|article|letter|report|survey|note"
    r"|position paper|technical report)"
    r"|here|to this end|to that end|in response|in this context|in particular|specifically"
    r"|first|second|third|lastly|first of all|next|then|also"
    r"|however|moreover|furthermore|additionally|in addition|finally|overall|thus|therefore"
    r"|consequently|notably|importantly|as a result|in contrast|instead|accordingly|hence"
    r"|for example|for instance|in summary|to summari[sz]e|concretely"
    r"|(?:to [a-z]+|building (?:on|upon)|motivated by|inspired by|based on|given|towards?"
    r"|guided by|driven by|in light of|against this backdrop|with this insight)"
    r" (?:[\w'’-]+ ){0,7}?[\w'’-]+"
    r"),\s+",
    re.I,
)
_WE = re.compile(r"^(?:we|our|this|these|it|they)\b", re.I)


def strip_lead_in(sentence: str) -> str:
    """`"In this work, we introduce X."` -> `"We introduce X."`.

    Drops a leading connective or framing phrase ("In this paper,", "However,", "To address
    these issues,", "Building on this observation,") when what remains is still a complete
    sentence of the abstract; only the first letter's case changes. Otherwise returns the
    sentence unchanged.
    """
    match = _LEAD_IN.match(sentence)
    if not match:
        return sentence
    rest = sentence[match.end() :]
    # "However, on GSM8K ..." stays: only strip when a subject follows, or for plain
    # connectives whose removal leaves a clause that stands on its own.
    if len(rest.split()) < 4 or not (rest[:1].isalpha()):
        return sentence
    # An adverbial clause ("To improve efficiency,") may carry the sentence's purpose; drop it
    # only when the main clause has its own subject ("we propose ...").
    clause = re.match(
        r"(?:to |building|motivated|inspired|based|given|toward|guided|driven|in light"
        r"|against|with this)",
        match.group(0),
        re.I,
    )
    if clause and not _WE.match(rest):
        return sentence
    return rest[0].upper() + rest[1:]


# Trailing clauses that elaborate rather than state the main claim; cutting them keeps a
# sentence's subject, verb and object.
_TRAILING_CLAUSE = re.compile(
    r",\s+(?:which|while|whereas|thereby|thus|enabling|allowing|making|leading|resulting"
    r"|providing|yielding|offering|achieving|requiring|paving|opening|highlighting"
    r"|demonstrating|showing|suggesting|indicating|revealing|outperforming|surpassing"
    r"|and thus|and thereby|as well as|especially|particularly|including|such as|where"
    r"|without|with|by|in order to|so that|i\.e\.|e\.g\.)\b[^,;]*$",
    re.I,
)
_ENUMERATOR = re.compile(r"\(\s*(?:\d{1,2}|[ivx]{1,4}|[a-h])\s*\)")
_LIST_AFTER_COLON = re.compile(r":\s+(?:\(?(?:1|i|a)\)|first\b)", re.I)
# Only a parenthetical set off by a space: "d(M)LLMs" is a name, "(DLMs)" an aside.
_PARENTHETICAL = re.compile(r"\s+\((?:[^()]|\([^()]*\))*\)")


def shorten(sentence: str, *, max_words: int | None = None, keep_numbers: bool = True) -> str:
    """A shorter, still faithful version of an abstract sentence: lead-in, an enumerated list
    after a colon, parentheticals and trailing elaborating clauses removed, so only words of
    the sentence remain, in order.

    With `keep_numbers` a cut that would drop a number is not made, so a key result keeps its
    figures; nor is a cut that would end the sentence mid-clause (`facets.ends_mid_clause`).
    `max_words` cuts trailing clauses only while the sentence is longer than that.
    """
    text = strip_lead_in(sentence.strip())
    # List markers such as "(1)" or "(ii)" are not figures worth keeping.
    kept = numbers_in(_ENUMERATOR.sub(" ", text)) if keep_numbers else set()

    def allowed(candidate: str) -> bool:
        # A cut must leave a whole clause: never "..., revealing that." or "... such as the".
        return (
            len(candidate.split()) >= 5
            and kept <= numbers_in(candidate)
            and not ends_mid_clause(candidate)
        )

    # "... two components: (1) a module that ..., (2) ..." -- the list is detail.
    listing = _LIST_AFTER_COLON.search(text)
    if listing and allowed(text[: listing.start()]):
        text = text[: listing.start()] + "."
    without_parens = _PARENTHETICAL.sub("", text)
    without_parens = re.sub(r"\s+([,.;:])", r"\1", without_parens)
    if allowed(without_parens):
        text = without_parens
    body = text.rstrip()
    end = body[-1] if body and body[-1] in ".!?" else "."
    body = body.rstrip(".!?").rstrip()
    while max_words is None or len(body.split()) > max_words:
        match = _TRAILING_CLAUSE.search(body)
        if not match or not allowed(body[: match.start()]):
            break
        body = body[: match.start()].rstrip()
    if body.endswith(";") or body.endswith(","):
        body = body[:-1]
    return body + end
