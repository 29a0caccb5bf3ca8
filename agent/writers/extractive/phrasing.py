"""Template phrasing: the only words the extractive writer adds to the abstracts' own. Counts
as words, the short name a paper goes by, and lists joined with "and" — never a finding.
"""

from __future__ import annotations

from collections.abc import Sequence

from store.models import Paper

_COUNT_WORDS = (
    "No",
    "One",
    "Two",
    "Three",
    "Four",
    "Five",
    "Six",
    "Seven",
    "Eight",
    "Nine",
    "Ten",
    "Eleven",
    "Twelve",
)


def count_words(n: int) -> str:
    """A count as a word ("Three"), so template text carries no digit for the verifier to
    mistake for a claim; "Many" above twelve."""
    return _COUNT_WORDS[n] if 0 <= n < len(_COUNT_WORDS) else "Many"


def short_title(paper: Paper) -> str:
    """The name a paper goes by: "dKV-Cache" for "dKV-Cache: The Cache for ...", else the
    whole title."""
    head, sep, _ = paper.title.partition(":")
    if sep and 0 < len(head.split()) <= 4:
        return head.strip()
    return paper.title


def listing(items: Sequence[str], conjunction: str = "and") -> str:
    """`["a", "b", "c"]` -> `"a, b and c"` (or `"a, b or c"` with `conjunction="or"`)."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conjunction} {items[-1]}"
